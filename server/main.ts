import pino from 'pino';
import { readFile } from 'node:fs/promises';
import { ConfigError, envWithArgs, loadConfig, type Config } from './config.js';
import { openDatabase } from './database.js';
import { migrate } from './db/migrate.js';
import { loadSecretKey } from './secrets.js';
import { ensureAdmin } from './bootstrap.js';
import { buildApp, LOG_REDACT } from './app.js';
import { Bus } from './bus.js';
import type { AppContext } from './context.js';
import { loadOrCreateTlsCertificate } from './tls.js';
import { createNode } from './node.js';
import { CameraNetworkPolicy, installCameraNetworkPolicy } from './camera-network/policy.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(envWithArgs(process.env, process.argv.slice(2)));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`streeteye: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // which addresses count as cameras (CAMERA_NETWORKS); this server's own listeners never do (added below)
  const cameraPolicy = new CameraNetworkPolicy(config.cameraNetworks);
  installCameraNetworkPolicy(cameraPolicy);
  // known before the node starts pulling (sessions start before the listeners bind); port 0 is added once bound
  if (config.port) cameraPolicy.ownPorts.add(config.port);
  if (config.tlsPort) cameraPolicy.ownPorts.add(config.tlsPort);
  const logger = pino({ level: config.logLevel, redact: { paths: LOG_REDACT, censor: '[redacted]' } });
  const log = logger.child({ module: 'main' });
  const db = await openDatabase(config);
  await migrate(db, log);
  const secretKey = await loadSecretKey(config.dataDir, config.secret);
  const admin = await ensureAdmin(db, config.adminPassword);
  if (admin.password) {
    process.stdout.write(`\n  First start: created user "admin" with password: ${admin.password}\n  (shown once; change it under Users)\n\n`);
  }

  const ctx: AppContext = { config, db, logger, secretKey, bus: new Bus() };
  // every subsystem of this node, for its role, in order (see node.ts); routes are registered over them per listener
  const node = createNode(ctx);
  await node.start();
  const { app } = await buildApp(node.context);
  await app.listen({ port: config.port, host: config.host });
  // the server's own listeners are never cameras (a camera URL pointing back at us would be a loop or a probe)
  cameraPolicy.ownPorts.add((app.server.address() as { port: number }).port);
  if (config.tlsPort) cameraPolicy.ownPorts.add(config.tlsPort);

  // A second listener with TLS and HTTP/2 for big video walls: browsers allow only 6 HTTP/1.1 connections per host.
  let tlsApp: Awaited<ReturnType<typeof buildApp>>['app'] | undefined;
  if (config.tlsPort) {
    const tls = config.tlsCertFile
      ? { cert: await readFile(config.tlsCertFile), key: await readFile(config.tlsKeyFile!) }
      : await loadOrCreateTlsCertificate(config.dataDir);
    tlsApp = (await buildApp(node.context, { http2: true, https: { allowHTTP1: true, ...tls } } as never)).app;
    await tlsApp.listen({ port: config.tlsPort, host: config.host });
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => { log.error('shutdown took too long; exiting'); process.exit(1); }, 15_000);
    force.unref();
    try {
      // Stop accepting and finish in-flight requests, then the subsystems (reverse order), then the database.
      await Promise.all([app.close(), tlsApp?.close()]);
      await node.stop();
      await db.close();
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  // Subsystems read their own settings (INGEST_*, FLEET_*, …) while starting: a bad value is a configuration error too.
  if (err instanceof ConfigError) {
    process.stderr.write(`streeteye: configuration error: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`streeteye: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
