import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startSimulator } from '../simulator/index.js';
import { SessionManager } from './session-manager.js';
import { CameraSession, type CameraState, type StreamKind } from './camera-session.js';
import { SnapshotService } from './snapshot.js';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { silentLog } from './log.js';
import type { RtspSource } from './rtsp-url.js';

// The default (native) engine and real ffmpeg pulling real RTSP from the simulator. Timings are shortened (watchdog, backoff, grace) so the whole
// file stays well under a minute; nothing asserts wall-clock durations, only states, counts and process exits.

type Sim = Awaited<ReturnType<typeof startSimulator>>;
type SimCam = ReturnType<Sim['cameras']>[number];
let sim: Sim;
let cams: SimCam[];
let dataDir: string;
const ffmpegPath = resolveFfmpeg();
const FAST = { watchdogMs: 1500, connectTimeoutMs: 6000, backoffMs: [300, 300, 600], jitter: 0.1, termAfterMs: 1500, killAfterMs: 3000 };
const cleanup: Array<() => Promise<void>> = [];

function source(cam: SimCam, stream: StreamKind, password = cam.password): RtspSource {
  return { url: stream === 'main' ? cam.rtspMain : cam.rtspSub, username: cam.username, password };
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function waitState(s: CameraSession, want: CameraState | CameraState[], timeoutMs = 20_000): Promise<void> {
  const set = Array.isArray(want) ? want : [want];
  if (set.includes(s.state)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      s.off('state', on);
      reject(new Error(`timed out waiting for ${set.join('|')} (now ${s.state}: ${s.reason})`));
    }, timeoutMs);
    const on = () => {
      if (set.includes(s.state)) {
        clearTimeout(t);
        s.off('state', on);
        resolve();
      }
    };
    s.on('state', on);
  });
}

/** Poll until cond() holds (generous: the box is shared). */
async function until(cond: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function newSession(cam: SimCam, over: Partial<ConstructorParameters<typeof CameraSession>[0]> = {}): CameraSession {
  const s = new CameraSession({ cameraId: cam.id, stream: 'sub', ffmpegPath, logger: silentLog, getSource: async () => source(cam, 'sub'), ...FAST, ...over });
  cleanup.push(() => s.stop());
  return s;
}

beforeAll(async () => {
  // the simulator's encode cache is shared with its own tests; one shared encode for all cameras (labelledCameras: 0)
  dataDir = join(tmpdir(), 'streeteye-sim-test-cache');
  sim = await startSimulator({ cameras: 22, dataDir, keyframeIntervalS: 1, labelledCameras: 0, logger: pino({ level: 'warn' }) });
  cams = sim.cameras();
});

afterAll(async () => {
  await Promise.all(cleanup.map((f) => f().catch(() => {})));
  await sim?.stop();
});

describe('camera sessions against the RTSP simulator (native engine by default, ffmpeg where named)', () => {
  it('starts on the first consumer, shares one pull, reports stats, makes a snapshot, stops after the idle grace', async () => {
    const manager = new SessionManager({ ffmpegPath, logger: silentLog, resolveSource: async (id, st) => source(cams.find((c) => c.id === id)!, st), idleGraceMs: 400, session: FAST });
    cleanup.push(() => manager.stop());
    const events: string[] = [];
    manager.on('state', (e) => events.push(`${e.cameraId}:${e.state}`));
    const cam = cams[0];
    const a = manager.acquire(cam.id, 'sub', 'wall');
    const b = manager.acquire(cam.id, 'sub', 'analytics');
    expect(b.session).toBe(a.session); // one pull for every consumer
    expect(manager.size).toBe(1);
    expect(await a.session.waitForMedia(15_000)).toBe(true);
    expect(a.session.state).toBe('live');
    await new Promise((r) => setTimeout(r, 1500));
    const st = a.session.stats;
    expect(st.codec).toMatch(/^avc1\.[0-9A-F]{6}$/i);
    expect(st.engine).toBe('native');
    expect(st.width).toBeGreaterThan(0);
    expect({ width: st.width, height: st.height }).toEqual(cam.subSize);
    expect(st.fps).toBeGreaterThan(0);
    expect(st.bitrateKbps).toBeGreaterThan(0);
    expect(st.lastFrameAt).toBeTruthy();

    const snaps = new SnapshotService({ ffmpegPath, logger: silentLog });
    const jpeg = await snaps.fromSession(a.session)!;
    const meta = await sharp(jpeg).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBe(st.width);

    const rtspSessions = sim.stats().sessions;
    expect(rtspSessions).toBeGreaterThanOrEqual(1);
    a.release();
    b.release();
    await new Promise((r) => setTimeout(r, 150));
    expect(manager.get(cam.id, 'sub')).toBeDefined(); // still in its grace period
    const session = a.session;
    await waitState(session, 'idle', 10_000);
    expect(manager.get(cam.id, 'sub')).toBeUndefined();
    expect(await until(() => sim.stats().sessions < rtspSessions)).toBe(true); // TEARDOWN ended the camera's RTSP session
    expect(events).toEqual(expect.arrayContaining([`${cam.id}:live`, `${cam.id}:idle`]));
  });

  it('native engine: stop sends TEARDOWN and the camera ends the RTSP session', async () => {
    const before = sim.stats().sessions;
    const s = newSession(cams[1]);
    s.start();
    await waitState(s, 'live');
    expect(s.engine).toBe('native');
    expect(s.pid).toBeUndefined(); // no process
    expect(sim.stats().sessions).toBe(before + 1);
    await s.stop();
    expect(await until(() => sim.stats().sessions === before)).toBe(true);
    expect(s.state).toBe('idle');
  });

  it('native engine: the camera closing the connection mid-stream → reconnecting → live again', async () => {
    const cam = cams[3];
    const s = newSession(cam);
    s.start();
    await waitState(s, 'live');
    sim.fault(cam.id, { kind: 'drop', afterMs: 1500 });
    await waitState(s, ['reconnecting', 'offline']);
    sim.restore(cam.id);
    await waitState(s, 'live');
    expect(s.stats.restarts).toBeGreaterThanOrEqual(1);
    expect(s.engine).toBe('native');
  });

  it('ffmpeg engine: stops with q (RTSP TEARDOWN): ffmpeg exits cleanly, no orphan', async () => {
    const s = newSession(cams[1], { engine: 'ffmpeg' });
    s.start();
    await waitState(s, 'live');
    const pid = s.pid!;
    let exitCode: number | null | undefined;
    // observe the exit of this pid via the session's child (q → exit code 0; SIGTERM/SIGKILL would show a signal)
    const child = (s as unknown as { child: import('node:child_process').ChildProcess }).child;
    child.once('exit', (code) => (exitCode = code));
    await s.stop();
    expect(alive(pid)).toBe(false);
    expect(exitCode).toBe(0);
    expect(s.state).toBe('idle');
  });

  it('goes offline → reconnecting and recovers when the camera is restored', async () => {
    const cam = cams[2];
    const s = newSession(cam);
    const seen: string[] = [];
    s.on('state', (c) => seen.push(c.state));
    s.start();
    await waitState(s, 'live');
    await sim.fault(cam.id, { kind: 'offline' });
    await waitState(s, ['reconnecting', 'offline']);
    await new Promise((r) => setTimeout(r, 1000));
    expect(['reconnecting', 'offline']).toContain(s.state);
    await sim.restore(cam.id);
    await waitState(s, 'live');
    expect(seen[0]).toBe('connecting');
    expect(seen).toContain('live');
    expect(seen.some((x) => x === 'reconnecting' || x === 'offline')).toBe(true);
    expect(seen.at(-1)).toBe('live');
  });

  it('ffmpeg engine: restarts ffmpeg when it is killed', async () => {
    const s = newSession(cams[3], { engine: 'ffmpeg' });
    s.start();
    await waitState(s, 'live');
    const pid = s.pid!;
    process.kill(pid, 'SIGKILL');
    await waitState(s, 'reconnecting');
    await waitState(s, 'live');
    expect(s.pid).not.toBe(pid);
    expect(s.stats.restarts).toBe(1);
  });

  it('the watchdog restarts a stalled camera', async () => {
    const cam = cams[4];
    const s = newSession(cam);
    s.start();
    await waitState(s, 'live');
    await sim.fault(cam.id, { kind: 'stall' });
    await waitState(s, ['reconnecting', 'offline']);
    expect(s.reason).toMatch(/stalled|no data|no video/);
    await sim.restore(cam.id);
    await waitState(s, 'live');
    expect(s.stats.restarts).toBeGreaterThanOrEqual(1);
  });

  it('reports auth_failed when the camera refuses the credentials', async () => {
    const cam = cams[5];
    const s = newSession(cam, { getSource: async () => source(cam, 'sub', 'wrong-password') });
    s.start();
    await waitState(s, 'auth_failed');
    expect(s.stats.restarts).toBeGreaterThanOrEqual(1); // the pull ran and was refused
    expect(s.reason).toMatch(/401|password/);
    expect(s.reason).not.toContain('wrong-password');
  });

  it('20 cameras at once: one stalled does not disturb the other 19', async () => {
    const twenty = cams.slice(2, 22);
    const sessions = twenty.map((c) => newSession(c, { watchdogMs: 3000 }));
    for (const s of sessions) s.start();
    await Promise.all(sessions.map((s) => waitState(s, 'live', 30_000)));
    const stalled = sessions[7];
    await sim.fault(twenty[7].id, { kind: 'stall' });
    const counts = new Map<CameraSession, number>();
    const listeners = sessions.map((s) => {
      const on = () => counts.set(s, (counts.get(s) ?? 0) + 1);
      s.muxer.on('part', on);
      return () => s.muxer.off('part', on);
    });
    await waitState(stalled, ['reconnecting', 'offline'], 20_000); // the watchdog fired on the stalled one…
    await new Promise((r) => setTimeout(r, 500));
    for (const off of listeners) off();
    for (const s of sessions) {
      if (s === stalled) continue;
      expect(s.state, s.cameraId).toBe('live'); // …while every other camera stayed live
      expect(counts.get(s) ?? 0, s.cameraId).toBeGreaterThanOrEqual(4); // and kept delivering parts meanwhile
    }
    await sim.restore(twenty[7].id);
    const open = sim.stats().sessions;
    await Promise.all(sessions.map((s) => s.stop()));
    expect(await until(() => sim.stats().sessions <= open - 19)).toBe(true); // every pull torn down
  }, 90_000);
});
