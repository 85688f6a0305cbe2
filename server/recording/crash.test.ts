import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmallFleet } from '../../simulator/small-fleet.js';
import type { Simulator } from '../../simulator/index.js';
import { openPglite } from '../db/pglite.js';
import { reconcileStore, scanRecording } from './reconcile.js';
import { thirdPartyPeer } from '../../test/third-party-peers.js';

// The real node (server/main.ts) in a child process, recording a simulator camera: kill -9 in the middle of a segment,
// restart, and the index agrees with the files; a full disk (a 160 KB tmpfs in a private mount namespace) stops
// recording with a camera alarm while live video goes on.

const PASSWORD = 'crash-test-password-1';
const ROOT = join(import.meta.dirname, '..', '..');

interface NodeProc { child: ChildProcess; base: Promise<string>; lines: string[]; exited: Promise<number | null> }

function startNode(dataDir: string, recDir: string, wrap?: string[]): NodeProc {
  const env: NodeJS.ProcessEnv = {
    ...process.env, DATA_DIR: dataDir, PORT: '0', TLS_PORT: '0', HOST: '127.0.0.1', STREETEYE_SIM_CAMERAS: '0', GB28181_ENABLED: '0', STREETEYE_ADMIN_PASSWORD: PASSWORD,
    ANALYTICS_ENABLED: '0', CAMERA_ALARMS: '0', RECORDINGS_DIR: recDir, RECORDING_SEGMENT_S: '4', RECORDINGS_MIN_FREE_MB: '0', RECORDINGS_NODE_ID: 'crash-node',
    RECORDING_SYNC_S: '0.5', RECORDING_RETRY_S: '2', LOG_LEVEL: 'info', NODE_ENV: 'production',
  };
  delete env.DATABASE_URL;
  delete env.VITEST;
  const cmd = [process.execPath, '--import', 'tsx', join(ROOT, 'server', 'main.ts')];
  const [bin, ...args] = wrap ? [...wrap, ...cmd] : cmd;
  const child = spawn(bin, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let resolveBase!: (s: string) => void;
  const base = new Promise<string>((r) => { resolveBase = r; });
  const onData = (c: Buffer) => {
    for (const line of c.toString().split('\n')) {
      if (!line) continue;
      lines.push(line);
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) resolveBase(m[1]);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, base, lines, exited };
}

async function login(base: string): Promise<string> {
  const r = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  if (r.status !== 200) throw new Error(`login ${r.status}`);
  return /streeteye_session=[^;]+/.exec(r.headers.get('set-cookie') ?? '')![0];
}

async function addRecordedCamera(base: string, cookie: string, sim: Simulator, name: string, stream: 'main' | 'sub'): Promise<string> {
  const c = sim.cameras()[0];
  const h = { cookie, 'content-type': 'application/json' };
  const r = await fetch(`${base}/api/cameras`, { method: 'POST', headers: h, body: JSON.stringify({ name, rtspMain: c.rtspMain, rtspSub: c.rtspSub, username: c.username, password: c.password }) });
  if (r.status !== 201) throw new Error(`camera ${r.status} ${await r.text()}`);
  const id = ((await r.json()) as { id: string }).id;
  const p = await fetch(`${base}/api/cameras/${id}/recording`, { method: 'PUT', headers: h, body: JSON.stringify({ mode: 'continuous', stream }) });
  if (p.status !== 200) throw new Error(`settings ${p.status} ${await p.text()}`);
  return id;
}

async function files(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name), rel ? `${rel}/${e.name}` : e.name);
      else if (e.name.endsWith('.mp4')) out.set(`${rel}/${e.name}`, (await stat(join(d, e.name))).size);
    }
  };
  await walk(dir, '');
  return out;
}

const poll = async <T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
};

describe('recording node crash and full disk (real server processes)', () => {
  let sim: Simulator;
  const procs: NodeProc[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    sim = await startSmallFleet(1);
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGKILL'); await p.exited; }
    await sim?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('kill -9 mid-segment loses at most that segment; after a restart every row has its file and every file its row', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'streeteye-crash-'));
    dirs.push(dataDir);
    const recDir = join(dataDir, 'rec');
    const a = startNode(dataDir, recDir);
    procs.push(a);
    const base = await Promise.race([a.base, a.exited.then(() => { throw new Error(`node exited: ${a.lines.slice(-5).join('\n')}`); })]);
    const cookie = await login(base);
    await addRecordedCamera(base, cookie, sim, 'crash-cam', 'sub');
    // wait for two whole files and a third being written, with a GOP or more in it
    const before = await poll(async () => {
      const f = await files(recDir);
      const sizes = [...f.values()];
      return f.size >= 3 && sizes[sizes.length - 1] > 2000 ? f : undefined;
    }, 150_000, 'three recording files').catch((e: Error) => { throw new Error(`${e.message}\n${a.lines.slice(-8).join('\n')}`); });
    a.child.kill('SIGKILL');
    await a.exited;
    const atKill = await files(recDir);
    const newest = [...atKill.keys()].sort().pop()!;

    const b = startNode(dataDir, recDir);
    procs.push(b);
    await Promise.race([b.base, b.exited.then(() => { throw new Error(`node exited: ${b.lines.slice(-5).join('\n')}`); })]);
    await poll(async () => b.lines.some((l) => l.includes('recordings reconciled')) || undefined, 120_000, 'reconcile');
    // the restarted node goes on recording the camera (it may have a file open, or one just created): a graceful stop
    // closes and indexes it, so the store must again be consistent without any further reconcile
    b.child.kill('SIGTERM');
    const code = await b.exited;
    expect(code, `the restarted node did not stop cleanly:\n${b.lines.slice(-10).join('\n')}`).toBe(0);

    const db = await openPglite({ dataDir: join(dataDir, 'pglite') });
    try {
      const rows = (await db.query<{ file: string; bytes: string; status: string; gops: [number, number, number, number][]; init_bytes: number; start_at: Date; end_at: Date }>(
        'SELECT file, bytes, status, gops, init_bytes, start_at, end_at FROM recording_segments ORDER BY start_at')).rows;
      const onDisk = await files(recDir);
      const recLog = b.lines.filter((l) => /"module":"recording"/.test(l)).slice(-10).join('\n');
      const diff = `files without a row: ${[...onDisk.keys()].filter((f) => !rows.some((r) => r.file === f)).join(', ') || 'none'}; `
        + `rows without a file: ${rows.filter((r) => !onDisk.has(r.file)).map((r) => r.file).join(', ') || 'none'}; `
        + `open rows: ${rows.filter((r) => r.status !== 'complete').map((r) => r.file).join(', ') || 'none'}\n${recLog}`;
      // every row has its file with exactly its bytes, and every file has its row
      expect(rows.every((r) => r.status === 'complete'), diff).toBe(true);
      expect(new Set(rows.map((r) => r.file)), diff).toEqual(new Set(onDisk.keys()));
      for (const r of rows) {
        expect(onDisk.get(r.file)).toBe(Number(r.bytes));
        const scan = scanRecording(await readFile(join(recDir, r.file)))!;
        expect(scan.gops.map((g) => g[0])).toEqual(r.gops.map((g) => g[0]));
        expect(scan.bytes).toBe(Number(r.bytes));
      }
      // nothing complete before the kill is lost; the segment being written is kept up to its last whole GOP
      for (const [file] of before) if (file !== newest) expect(rows.some((r) => r.file === file)).toBe(true);
      const lost = [...atKill.keys()].filter((f) => !rows.some((r) => r.file === f));
      expect(lost.length).toBeLessThanOrEqual(1);
      const recovered = rows.find((r) => r.file === newest);
      if (recovered) expect(Number(recovered.bytes)).toBeLessThanOrEqual(atKill.get(newest)!);
      // and a further restart's reconcile finds nothing to fix
      const again = await reconcileStore(db, { root: recDir, nodeId: 'crash-node' });
      expect(again, diff).toEqual({ completed: 0, recovered: 0, removedRows: 0, removedFiles: 0, trimmedBytes: 0 });
    } finally {
      await db.close();
    }
  }, 420_000);

  const canMount = thirdPartyPeer('a private mount namespace (for the full-disk tmpfs)',
    process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0, 'run the tests as root with unshare(1)');
  it.skipIf(!canMount)('a full disk stops recording with a camera alarm while live video goes on', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'streeteye-full-'));
    dirs.push(dataDir);
    const recDir = join(dataDir, 'rec');
    await import('node:fs/promises').then((fs) => fs.mkdir(recDir));
    // a private mount namespace: the 160 KB tmpfs exists for this process tree only
    const n = startNode(dataDir, recDir, ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs -o size=160k tmpfs "$RECORDINGS_DIR" && exec "$@"', 'sh']);
    procs.push(n);
    const base = await Promise.race([n.base, n.exited.then(() => { throw new Error(`node exited: ${n.lines.slice(-5).join('\n')}`); })]);
    const cookie = await login(base);
    const id = await addRecordedCamera(base, cookie, sim, 'full-disk-cam', 'main');
    const alarm = await poll(async () => {
      const r = await fetch(`${base}/api/alarms?cameraId=${id}&active=true`, { headers: { cookie } });
      const items = ((await r.json()) as { items: Array<{ topic: string; kind: string }> }).items;
      return items.find((x) => x.topic === 'streeteye/RecordingFailed');
    }, 120_000, 'the recording alarm');
    expect(alarm.kind).toBe('other');
    const st = (await (await fetch(`${base}/api/recordings/status`, { headers: { cookie } })).json()) as { node: { cameras: Array<{ cameraId: string; failing: string | null }> } };
    expect(st.node.cameras.find((c) => c.cameraId === id)?.failing).toMatch(/disk full|ENOSPC/);
    // live video and the server go on
    const live = (await (await fetch(`${base}/api/cameras/${id}/live?stream=main`, { headers: { cookie } })).json()) as { url: string };
    const pl = await fetch(`${base}${live.url}`);
    expect(pl.status).toBe(200);
    expect(await pl.text()).toMatch(/#EXTINF/);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
    n.child.kill('SIGTERM');
    await n.exited;
  }, 420_000);
});
