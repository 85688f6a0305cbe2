/**
 * npm run bench:first-start
 *
 * What a newcomer sees after `npm start` on a fresh data folder: the server is started as `npm start` starts it
 * (tsx server/main.ts, embedded database, demo fleet, default detectors) in a new DATA_DIR, and from the moment
 * it logs "Server listening" this measures how long until
 *   - the analytics engine reports `ready` (GET /api/analytics/status),
 *   - every demo camera is `reachable` (GET /api/cameras),
 *   - the first demo camera's sub stream answers its LL-HLS playlist with a part (what a wall tile needs to play).
 * Goal (issue 11): demo cameras on the wall within 10 s of listening.
 *
 * Ports are ephemeral and the SIP server is off, so it runs beside another StreetEye on the same box.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GOAL_MS = 10_000;
const PASSWORD = 'Bench-First-Start-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dataDir = mkdtempSync(join(tmpdir(), 'streeteye-first-start-'));
const child = spawn(join('node_modules', '.bin', 'tsx'), ['server/main.ts'], {
  env: {
    ...process.env, DATA_DIR: dataDir, PORT: '0', TLS_PORT: '0', STREETEYE_SIM_RTSP_PORT: '0',
    STREETEYE_SIM_HTTP_PORT: '0', GB28181_ENABLED: '0', STREETEYE_ADMIN_PASSWORD: PASSWORD,
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const started = Date.now();

const base = await new Promise<string>((resolve, reject) => {
  let buf = '';
  const t = setTimeout(() => reject(new Error('the server did not log "Server listening" within 120 s')), 120_000);
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const m = /Server listening at (http:\/\/[^"\s]+)/.exec(buf);
    if (m) { clearTimeout(t); resolve(m[1].replace('0.0.0.0', '127.0.0.1')); }
    if (buf.length > 1_000_000) buf = buf.slice(-10_000);
  });
  child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
});
const listening = Date.now();
console.log(`server listening ${((listening - started) / 1000).toFixed(1)} s after spawn (console build not included), at ${base}`);

async function login(): Promise<string> {
  for (;;) {
    const r = await fetch(`${base}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    if (r.ok) return r.headers.get('set-cookie')!.split(';')[0];
    await sleep(50);
  }
}

const marks: Record<string, number | null> = { 'engine ready': null, 'all demo cameras reachable': null, 'first camera playlist with a part': null };
try {
  const cookie = await login();
  const get = async (path: string) => (await fetch(new URL(path, base), { headers: { cookie } }));
  let playlistUrl: string | null = null;
  const deadline = listening + 60_000;
  while (Date.now() < deadline && Object.values(marks).some((v) => v === null)) {
    if (marks['engine ready'] === null) {
      const s = await (await get('/api/analytics/status')).json() as { state?: string };
      if (s.state === 'ready') marks['engine ready'] = Date.now() - listening;
    }
    const cams = (await (await get('/api/cameras?limit=50')).json() as { items: Array<{ id: string; status: string }> }).items;
    if (marks['all demo cameras reachable'] === null && cams.length > 0 && cams.every((c) => c.status === 'reachable')) {
      marks['all demo cameras reachable'] = Date.now() - listening;
    }
    if (marks['first camera playlist with a part'] === null && cams.length > 0) {
      if (!playlistUrl) {
        const live = await get(`/api/cameras/${cams[0].id}/live?stream=sub`);
        if (live.ok) playlistUrl = ((await live.json()) as { url: string }).url;
      }
      if (playlistUrl) {
        const pl = await get(playlistUrl);
        if (pl.ok && (await pl.text()).includes('#EXT-X-PART:')) marks['first camera playlist with a part'] = Date.now() - listening;
      }
    }
    await sleep(100);
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}

console.log('\n| after "Server listening" | measured | goal | ratio to goal |\n|---|---|---|---|');
for (const [what, ms] of Object.entries(marks)) {
  console.log(`| ${what} | ${ms === null ? 'not within 60 s' : `${(ms / 1000).toFixed(2)} s`} | ≤ 10 s | ${ms === null ? '–' : (ms / GOAL_MS).toFixed(2)} |`);
}
if (Object.values(marks).some((v) => v === null)) process.exitCode = 1;
