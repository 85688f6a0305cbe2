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
import { createNode, type NodeContext, type NodeOptions, type StreetEyeNode, type SubsystemName } from '../server/node.js';
import type { Db } from '../server/db/db.js';
import { hashPassword } from '../server/auth/passwords.js';
import { ROLES, type Role } from '../server/auth/roles.js';
import { createTestDb, type DbKind } from './db.js';

export const TEST_PASSWORD = 'test-password-1';
/** One master key per test process: two test apps on one database (two nodes) read each other's camera credentials. */
const SHARED_SECRET = randomBytes(32);

/**
 * What a test app starts of its node: the subsystems route registration used to start. The fleet, the alarm
 * listener and the outbox worker run in the tests that exercise them (`start`); no cluster (one node, role all).
 */
const NOT_STARTED_IN_TESTS: SubsystemName[] = ['cluster', 'fleet', 'alarms', 'outbox', 'gb28181', 'demo-fleet'];

export interface TestApp extends BuiltApp {
  /** the node's context: AppContext plus its subsystems (t.ctx.analytics, t.ctx.fleet, t.ctx.ingest, ...) */
  ctx: NodeContext;
  node: StreetEyeNode;
  db: Db;
  /** Every log line the app wrote, for tests that check what must never be logged. */
  logLines: string[];
  /** Session cookie header of a user with this role (users "admin", "operator", ... exist). */
  cookie(role: Role): Promise<string>;
  close(): Promise<void>;
}

/** A fully composed app on a clean database, with one user per role, driven by app.inject(). */
export async function createTestApp(opts: {
  /** a fresh database of this kind, or an existing one shared with another test app (a second node: no users added, not closed) */
  db?: DbKind | Db;
  env?: NodeJS.ProcessEnv;
  extend?: (ctx: AppContext) => Promise<void> | void;
  /** subsystems to start besides the defaults (e.g. 'outbox', 'fleet') */
  start?: SubsystemName[];
  /** settings of the node's subsystems (e.g. gb: the SIP server on an ephemeral port) */
  node?: Omit<NodeOptions, 'skip'>;
} = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'streeteye-app-'));
  const joined = typeof opts.db === 'object';
  const db = typeof opts.db === 'object' ? opts.db : await createTestDb(opts.db ?? 'pglite');
  const logLines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { logLines.push(chunk.toString()); cb(); } });
  const logger = pino({ level: 'info', redact: { paths: LOG_REDACT, censor: '[redacted]' } }, sink);
  const config = loadConfig({ DATA_DIR: dataDir, STREETEYE_SIM_CAMERAS: '0', TLS_PORT: '0', ...opts.env });
  const base: AppContext = { config, db, logger, secretKey: SHARED_SECRET, bus: new Bus() };
  await opts.extend?.(base);
  if (!joined) {
    const hash = await hashPassword(TEST_PASSWORD);
    for (const role of ROLES) {
      await db.query('INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)', [role, hash, role]);
    }
  }
  const node = createNode(base, { ...opts.node, skip: NOT_STARTED_IN_TESTS.filter((n) => !opts.start?.includes(n)) });
  await node.start();
  const ctx = node.context;
  const built = await buildApp(ctx);
  await built.app.ready();
  const cookies = new Map<Role, string>();
  return {
    ...built,
    ctx,
    node,
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
      await node.stop();
      if (!joined) await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type { FastifyInstance };
