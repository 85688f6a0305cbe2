import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp, LOG_REDACT, type BuiltApp } from '../server/app.js';
import { Bus } from '../server/bus.js';
import { loadConfig } from '../server/config.js';
import type { AppContext } from '../server/context.js';
import type { Db } from '../server/db/db.js';
import { hashPassword } from '../server/auth/passwords.js';
import { ROLES, type Role } from '../server/auth/roles.js';
import { createTestDb, type DbKind } from './db.js';

export const TEST_PASSWORD = 'test-password-1';

export interface TestApp extends BuiltApp {
  ctx: AppContext;
  db: Db;
  /** Every log line the app wrote, for tests that check what must never be logged. */
  logLines: string[];
  /** Session cookie header of a user with this role (users "admin", "operator", ... exist). */
  cookie(role: Role): Promise<string>;
  close(): Promise<void>;
}

/** A fully composed app on a clean database, with one user per role, driven by app.inject(). */
export async function createTestApp(opts: { db?: DbKind; env?: NodeJS.ProcessEnv; extend?: (ctx: AppContext) => Promise<void> | void } = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'streeteye-app-'));
  const db = await createTestDb(opts.db ?? 'pglite');
  const logLines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { logLines.push(chunk.toString()); cb(); } });
  const logger = pino({ level: 'info', redact: { paths: LOG_REDACT, censor: '[redacted]' } }, sink);
  const config = loadConfig({ DATA_DIR: dataDir, STREETEYE_SIM_CAMERAS: '0', TLS_PORT: '0', ...opts.env });
  const ctx: AppContext = { config, db, logger, secretKey: randomBytes(32), bus: new Bus(), onShutdown: [] };
  await opts.extend?.(ctx);
  const hash = await hashPassword(TEST_PASSWORD);
  for (const role of ROLES) {
    await db.query('INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)', [role, hash, role]);
  }
  const built = await buildApp(ctx);
  await built.app.ready();
  const cookies = new Map<Role, string>();
  return {
    ...built,
    ctx,
    db,
    logLines,
    async cookie(role) {
      const known = cookies.get(role);
      if (known) return known;
      const res = await built.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: role, password: TEST_PASSWORD } });
      if (res.statusCode !== 200) throw new Error(`login as ${role} failed: ${res.statusCode} ${res.body}`);
      const c = res.cookies.find((x) => x.name === 'streeteye_session')!;
      const header = `streeteye_session=${c.value}`;
      cookies.set(role, header);
      return header;
    },
    async close() {
      await built.app.close();
      for (const stop of [...ctx.onShutdown].reverse()) await stop();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type { FastifyInstance };
