/**
 * Real node processes against a real PostgreSQL, for the multi-process tests and the soak (bench/soak.ts):
 * a scratch database, free ports, `node --import tsx server/main.ts --role …` children (one process each, so a
 * SIGKILL really kills the node), an admin session shared by every node (sessions live in the database).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const SECRET = 'cluster-test-secret-0123456789abcdef';
export const ADMIN_PASSWORD = 'cluster-admin-pass';

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A free TCP port on 127.0.0.1 (bound to 0 and released). */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls fn until it returns a truthy value; throws with `what` after timeoutMs. */
type Falsy = null | undefined | false | 0 | '';
export async function waitFor<T>(what: string, fn: () => Promise<T | Falsy> | T | Falsy, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(everyMs);
  }
}

/** A scratch database on the server of `adminUrl`; drop() removes it (connections forced off). */
export async function scratchDatabase(adminUrl: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `streeteye_c_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    name,
    url: withDatabase(adminUrl, name),
    async drop() {
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export type Role = 'api' | 'ingest' | 'analytics' | 'all';

export interface NodeOptions {
  role: Role;
  databaseUrl: string;
  port?: number;
  env?: Record<string, string>;
  /** keep the last lines of output (diagnostics) */
  keepLines?: number;
  /**
   * A command the node runs under, exec'ing it last (e.g. unshare and a mount, for a node with a small disk of its
   * own): [...wrap, node, --import, tsx, server/main.ts, …]. The wrapper must exec, so pid and signals stay the node's.
   */
  wrap?: string[];
}

export class NodeProcess {
  child?: ChildProcess;
  readonly lines: string[] = [];
  exited?: Promise<number | null>;
  constructor(readonly o: NodeOptions & { port: number; dataDir: string }) {}

  get base(): string {
    return `http://127.0.0.1:${this.o.port}`;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: this.o.databaseUrl,
      STREETEYE_SECRET: SECRET,
      STREETEYE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      PORT: String(this.o.port),
      HOST: '127.0.0.1',
      TLS_PORT: '0',
      DATA_DIR: this.o.dataDir,
      STREETEYE_SIM_CAMERAS: '0',
      STREETEYE_NODE_ADDRESS: this.base,
      LOG_LEVEL: 'warn',
      FLEET_CHECK_INTERVAL_S: '0',
      ANALYTICS_ENABLED: '0',
      // several nodes on one machine: the SIP server's default port (5060) would be taken by the first
      GB28181_ENABLED: '0',
      ...this.o.env,
    };
    delete env.NODE_OPTIONS;
    delete env.VITEST;
    delete env.VITEST_WORKER_ID;
    delete env.VITEST_POOL_ID;
    const [bin, ...args] = [...(this.o.wrap ?? []), process.execPath, '--import', 'tsx', 'server/main.ts', '--role', this.o.role];
    const child = spawn(bin, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = this.o.keepLines ?? 200;
    const onData = (b: Buffer) => {
      for (const line of b.toString('utf8').split('\n')) {
        if (!line) continue;
        this.lines.push(line.length > 2000 ? line.slice(0, 2000) : line);
        if (this.lines.length > keep) this.lines.shift();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
    await waitFor(`${this.o.role} node on :${this.o.port} to answer /api/health`, async () => {
      if (!this.running) throw new Error(`node exited:\n${this.lines.slice(-20).join('\n')}`);
      const res = await fetch(`${this.base}/api/health`);
      return res.ok;
    }, timeoutMs, 250).catch((err) => {
      throw new Error(`${(err as Error).message}\n${this.lines.slice(-30).join('\n')}`);
    });
  }

  /** SIGTERM (graceful) or SIGKILL; resolves when the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    await this.exited;
  }
}

export async function startNode(o: NodeOptions): Promise<NodeProcess> {
  const n = new NodeProcess({ ...o, port: o.port ?? (await freePort()), dataDir: await mkdtemp(join(tmpdir(), `streeteye-${o.role}-`)) });
  await n.start();
  return n;
}

/** Session cookie of the admin (valid on every node: sessions are rows in the shared database). */
export async function adminCookie(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const set = res.headers.getSetCookie().find((c) => c.startsWith('streeteye_session='));
  if (!set) throw new Error('no session cookie');
  return set.split(';')[0];
}

export interface SelfStatus {
  id: string;
  role: string;
  leased: string[];
  sessions: Array<{ cameraId: string; stream: string; state: string }>;
  rssBytes: number;
  cpuMicros: number;
}

export async function selfStatus(base: string, cookie: string): Promise<SelfStatus> {
  const res = await fetch(`${base}/api/cluster/self`, { headers: { cookie } });
  if (!res.ok) throw new Error(`/api/cluster/self: ${res.status}`);
  return (await res.json()) as SelfStatus;
}

export function liveCameras(s: SelfStatus): string[] {
  return s.sessions.filter((x) => x.state === 'live').map((x) => x.cameraId);
}
