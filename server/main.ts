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
import { startDemoFleet } from './demo-fleet.js';
import { fleetFor } from './fleet/service.js';
import { alarmWatcherFor } from './alarms/alarm-watcher.js';
import { startOutboxWorker } from './outbox/start.js';
import { Cluster } from './cluster/cluster.js';
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
  const logger = pino({ level: config.logLevel, redact: { paths: LOG_REDACT, censor: '[redacted]' } });
  const log = logger.child({ module: 'main' });
  const db = await openDatabase(config);
  await migrate(db, log);
  const secretKey = await loadSecretKey(config.dataDir, config.secret);
  const admin = await ensureAdmin(db, config.adminPassword);
  if (admin.password) {
    process.stdout.write(`\n  First start: created user "admin" with password: ${admin.password}\n  (shown once; change it under Users)\n\n`);
  }

  const ctx: AppContext = { config, db, logger, secretKey, bus: new Bus(), onShutdown: [] };
  // Node row + heartbeat, camera leases (ingest/analytics roles) and the LISTEN/NOTIFY bridge (PostgreSQL): before the
  // subsystems, which ask ctx.cluster which cameras are theirs. Stopped last (registered first): leases are released
  // only after the sessions are down.
  const cluster = new Cluster({ config, db, bus: ctx.bus, logger });
  ctx.cluster = cluster;
  await cluster.start();
  ctx.onShutdown.push(() => cluster.stop());
  const { app, cameras } = await buildApp(ctx);
  const fleet = fleetFor(ctx);
  // the recorder writes health from this node's own camera.state; probes run where cameras are pulled
  if (config.role === 'all' || config.role === 'ingest') fleet.start();
  else fleet.recorder.start();
  ctx.onShutdown.push(() => fleet.stop());
  // the cameras' own alarms are heard where the cameras are pulled (one subscription per camera, like the pull)
  if (config.cameraAlarms && config.role !== 'api') {
    const alarms = alarmWatcherFor({ ...ctx, cameras });
    alarms.start();
    ctx.onShutdown.push(() => alarms.stop());
  }
  startOutboxWorker(ctx);
  await app.listen({ port: config.port, host: config.host });
  cameraPolicy.ownPorts.add((app.server.address() as { port: number }).port);
  if (config.tlsPort) cameraPolicy.ownPorts.add(config.tlsPort);
  if (config.simCameras && config.role === 'all') {
    // In the background: the first start encodes the pictures, and the console is usable meanwhile.
    startDemoFleet(ctx, cameras, logger).then(
      (sim) => {
        if (!sim) return;
        ctx.onShutdown.push(() => sim.stop());
        // probe the new cameras now rather than at the checker's next pass, so the wall shows them online at once
        void fleet.checker.checkNow();
      },
      (err) => log.error({ err }, 'simulated camera fleet failed to start'),
    );
  }

  // A second listener with TLS and HTTP/2 for big video walls: browsers allow only 6 HTTP/1.1 connections per host.
  let tlsApp: Awaited<ReturnType<typeof buildApp>>['app'] | undefined;
  if (config.tlsPort) {
    const tls = config.tlsCertFile
      ? { cert: await readFile(config.tlsCertFile), key: await readFile(config.tlsKeyFile!) }
      : await loadOrCreateTlsCertificate(config.dataDir);
    tlsApp = (await buildApp(ctx, { http2: true, https: { allowHTTP1: true, ...tls } } as never)).app;
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
      // Stop accepting and finish in-flight requests, then stop children, then close the database.
      await Promise.all([app.close(), tlsApp?.close()]);
      for (const stop of [...ctx.onShutdown].reverse()) await stop().catch((err) => log.error({ err }, 'shutdown step failed'));
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
