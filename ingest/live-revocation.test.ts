import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Parser } from 'm3u8-parser';
import { createTestApp, type TestApp } from '../test/app.js';
import { startSimulator } from '../simulator/index.js';

// Signed live media is refused as soon as the right to see it goes: the signature alone is not enough.
describe('live media under a signed URL stops when access is revoked', () => {
  let t: TestApp;
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  let camId: string;
  let admin: string;

  const makeUser = async (username: string, role: string): Promise<{ id: string; cookie: string }> => {
    const r = await t.app.inject({ method: 'POST', url: '/api/users', headers: { cookie: admin }, payload: { username, password: 'watcher-pass-123', role } });
    expect(r.statusCode, r.body).toBe(201);
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'watcher-pass-123' } });
    expect(login.statusCode, login.body).toBe(200);
    const c = login.cookies.find((x) => x.name === 'streeteye_session')!;
    return { id: r.json().id, cookie: `streeteye_session=${c.value}` };
  };

  /** Starts playback for the user: returns the media directory and a part URI that the playlist listed. */
  const play = async (cookie: string): Promise<{ dir: string; part: string; segment: string; playlist: string }> => {
    const r = await t.app.inject({ url: `/api/cameras/${camId}/live?stream=sub`, headers: { cookie } });
    expect(r.statusCode, r.body).toBe(200);
    const playlist = r.json().url as string;
    const pl = await t.app.inject({ url: playlist });
    expect(pl.statusCode, pl.body).toBe(200);
    const p = new Parser();
    p.push(pl.body);
    p.end();
    const parts = p.manifest.segments.flatMap((s: { parts?: { uri: string }[] }) => s.parts ?? []) as { uri: string }[];
    expect(parts.length).toBeGreaterThan(0);
    const complete = p.manifest.segments as { uri: string }[];
    return { dir: playlist.replace(/index\.m3u8$/, ''), part: parts[parts.length - 1].uri, segment: complete[complete.length - 1].uri, playlist };
  };

  const status = async (url: string) => (await t.app.inject({ url })).statusCode;

  beforeAll(async () => {
    sim = await startSimulator({ cameras: 1, dataDir: join(tmpdir(), 'streeteye-sim-test-cache'), labelledCameras: 0, logger: pino({ level: 'warn' }) });
    t = await createTestApp();
    admin = await t.cookie('admin');
    const c = sim.cameras()[0];
    const res = await t.app.inject({
      method: 'POST', url: '/api/cameras', headers: { cookie: await t.cookie('technician') },
      payload: { name: c.name, rtspMain: c.rtspMain, rtspSub: c.rtspSub, username: c.username, password: c.password },
    });
    expect(res.statusCode, res.body).toBe(201);
    camId = res.json().id;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  it('a disabled user: init, parts and segments answer 403 at the next request', async () => {
    const u = await makeUser('watcher1', 'operator');
    const { dir, part, segment } = await play(u.cookie);
    // warm the serve-time cache: the revocation must drop it, not wait for it to lapse
    expect(await status(dir + 'init0.mp4')).toBe(200);
    expect(await status(dir + part)).toBe(200);
    expect(await status(dir + segment)).toBe(200);
    const patch = await t.app.inject({ method: 'PATCH', url: `/api/users/${u.id}`, headers: { cookie: admin }, payload: { disabled: true } });
    expect(patch.statusCode, patch.body).toBe(200);
    expect(await status(dir + part)).toBe(403);
    expect(await status(dir + 'init0.mp4')).toBe(403);
    expect(await status(dir + segment)).toBe(403);
  });

  it('a user who loses the role that sees restricted cameras is refused at once', async () => {
    await t.app.inject({ method: 'PATCH', url: `/api/cameras/${camId}`, headers: { cookie: admin }, payload: { sharing: 'restricted' } });
    try {
      const u = await makeUser('police2', 'police110');
      const { dir, part } = await play(u.cookie);
      expect(await status(dir + part)).toBe(200);
      const patch = await t.app.inject({ method: 'PATCH', url: `/api/users/${u.id}`, headers: { cookie: admin }, payload: { role: 'operator' } });
      expect(patch.statusCode, patch.body).toBe(200);
      expect(await status(dir + part)).toBe(403);
    } finally {
      await t.app.inject({ method: 'PATCH', url: `/api/cameras/${camId}`, headers: { cookie: admin }, payload: { sharing: 'shared' } });
    }
  });

  it('a camera switched to restricted (in bulk, by the police) leaves an operator\'s sight at the next part', async () => {
    const u = await makeUser('watcher3', 'operator');
    const { dir, part, playlist } = await play(u.cookie);
    expect(await status(dir + part)).toBe(200);
    const r = await t.app.inject({ method: 'PATCH', url: '/api/cameras/sharing', headers: { cookie: await t.cookie('police110') }, payload: { ids: [camId], sharing: 'restricted' } });
    expect(r.statusCode, r.body).toBe(200);
    expect(await status(dir + part)).toBe(403);
    expect(await status(playlist)).toBe(403);
    await t.app.inject({ method: 'PATCH', url: '/api/cameras/sharing', headers: { cookie: admin }, payload: { ids: [camId], sharing: 'shared' } });
  });

  it('while the camera is down the playlist answers 503 with its state, not 200 with stale content; it plays again once back', async () => {
    const u = await makeUser('watcher4', 'operator');
    const { playlist } = await play(u.cookie);
    sim.fault(sim.cameras()[0].id, { kind: 'offline' });
    try {
      await expect.poll(async () => (await t.app.inject({ url: playlist })).statusCode, { timeout: 40_000, interval: 250 }).toBe(503);
      const r = await t.app.inject({ url: playlist });
      expect(r.statusCode).toBe(503);
      expect(String(r.headers['x-camera-state'])).toMatch(/^(reconnecting|offline|error)$/);
      expect(r.json().message).toMatch(/camera (reconnecting|offline|error)/);
    } finally {
      sim.restore(sim.cameras()[0].id);
    }
    await expect.poll(async () => (await t.app.inject({ url: playlist })).statusCode, { timeout: 60_000, interval: 500 }).toBe(200);
  }, 120_000);
});
