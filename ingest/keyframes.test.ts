import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Parser } from 'm3u8-parser';
import { createTestApp, type TestApp } from '../test/app.js';
import { startSimulator } from '../simulator/index.js';
import { resolveFfprobe } from '../media-tools/ffmpeg-path.js';
import { run } from './test-fixtures.js';

// The keyframe-only rendition of a real simulator camera (RTSP → ingest), read back by real ffprobe: over the
// relay's HLS playlist, and from its init + parts. The simulator's sub stream: 25 fps, 1 s GOP.

interface Frame { key_frame: number; pict_type: string; pts_time?: string; best_effort_timestamp_time?: string }

function parse(text: string) {
  const p = new Parser();
  p.push(text);
  p.end();
  return p.manifest as { segments: Array<{ duration: number; uri: string; parts?: Array<{ uri: string; duration: number; independent?: boolean }> }>; partTargetDuration: number; serverControl: { canBlockReload: boolean } };
}

async function probeFrames(input: string, extra: string[] = []): Promise<Frame[]> {
  const r = await run(resolveFfprobe(), ['-v', 'error', ...extra, '-select_streams', 'v:0', '-show_frames', '-show_entries', 'frame=key_frame,pict_type,pts_time,best_effort_timestamp_time', '-of', 'json', input]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout.toString()) as { frames: Frame[] }).frames;
}

describe('keyframe-only rendition', () => {
  let t: TestApp;
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  let camId: string;
  let base: string;
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'streeteye-kf-'));
    sim = await startSimulator({ cameras: 1, dataDir: join(tmpdir(), 'streeteye-sim-test-cache'), keyframeIntervalS: 1, labelledCameras: 0, logger: pino({ level: 'warn' }) });
    t = await createTestApp();
    const c = sim.cameras()[0];
    const res = await t.app.inject({
      method: 'POST', url: '/api/cameras', headers: { cookie: await t.cookie('technician') },
      payload: { name: c.name, rtspMain: c.rtspMain, rtspSub: c.rtspSub, username: c.username, password: c.password },
    });
    expect(res.statusCode, res.body).toBe(201);
    camId = res.json().id;
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const liveUrls = async (cookie: string) => {
    const r = await t.app.inject({ url: `/api/cameras/${camId}/live?stream=sub`, headers: { cookie } });
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as { url: string; keyframesUrl: string };
  };

  it('lists one independent one-frame part per keyframe, about a GOP long each, beside the full stream', async () => {
    const { url, keyframesUrl } = await liveUrls(await t.cookie('operator'));
    expect(keyframesUrl).toBe(url.replace(/index\.m3u8$/, 'keyframes.m3u8'));
    // wait until the window holds a few keyframes
    await expect.poll(async () => {
      const r = await t.app.inject({ url: keyframesUrl });
      return r.statusCode === 200 ? parse(r.body).segments.length : 0;
    }, { timeout: 30_000, interval: 500 }).toBeGreaterThanOrEqual(4);
    const text = (await t.app.inject({ url: keyframesUrl })).body;
    const m = parse(text);
    expect(m.serverControl.canBlockReload).toBe(true);
    expect(text).toMatch(/#EXT-X-MAP:URI="kf-init\d+\.mp4"/);
    expect(text).toMatch(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="kf-part\d+\.m4s"/);
    const parts = m.segments.flatMap((s) => s.parts ?? []);
    expect(parts.length).toBeGreaterThan(0);
    for (const p of parts) {
      expect(p.uri).toMatch(/^kf-part\d+\.m4s$/);
      expect(p.independent).toBe(true);
    }
    // after the first (fast-start) segments every segment is one keyframe, one GOP (1 s) long
    for (const s of m.segments.slice(2)) {
      expect(s.uri).toMatch(/^kf-seg\d+\.m4s$/);
      expect(s.duration).toBeGreaterThan(0.9);
      expect(s.duration).toBeLessThan(1.1);
    }
    // the full stream is untouched: many parts per keyframe
    const full = parse((await t.app.inject({ url })).body);
    expect(full.segments.at(-1)!.parts!.length).toBeGreaterThan(2);
  }, 60_000);

  it('ffprobe reads the relay\'s keyframe playlist over HTTP: every frame a keyframe, one per second', async () => {
    const { keyframesUrl } = await liveUrls(await t.cookie('operator'));
    const frames = await probeFrames(`${base}${keyframesUrl}`, ['-read_intervals', '%+#6']);
    expect(frames.length).toBe(6);
    for (const f of frames) { expect(f.key_frame).toBe(1); expect(f.pict_type).toBe('I'); }
    const ts = frames.map((f) => Number(f.pts_time ?? f.best_effort_timestamp_time));
    const gaps = ts.slice(1).map((x, i) => x - ts[i]);
    for (const g of gaps) { expect(g).toBeGreaterThan(0.9); expect(g).toBeLessThan(1.1); }
  }, 60_000);

  it('init + parts make a file of keyframes only that decodes (no transcode: the samples are the camera\'s)', async () => {
    const { keyframesUrl } = await liveUrls(await t.cookie('operator'));
    const dir = keyframesUrl.replace(/keyframes\.m3u8$/, '');
    const text = (await t.app.inject({ url: keyframesUrl })).body;
    const init = /#EXT-X-MAP:URI="(kf-init\d+\.mp4)"/.exec(text)![1];
    const parts = parse(text).segments.flatMap((s) => s.parts ?? []).map((p) => p.uri);
    const bufs = [(await t.app.inject({ url: dir + init })).rawPayload];
    for (const p of parts) {
      const r = await t.app.inject({ url: dir + p });
      expect(r.statusCode).toBe(200);
      bufs.push(r.rawPayload);
    }
    const file = join(work, 'kf.mp4');
    await writeFile(file, Buffer.concat(bufs));
    const frames = await probeFrames(file);
    expect(frames.length).toBe(parts.length);
    expect(frames.every((f) => f.key_frame === 1 && f.pict_type === 'I')).toBe(true);
  }, 60_000);

  it('refuses a bad signature, and refuses a user who lost access at the next playlist and media request', async () => {
    const admin = await t.cookie('admin');
    const mk = await t.app.inject({ method: 'POST', url: '/api/users', headers: { cookie: admin }, payload: { username: 'kfwatcher', password: 'watcher-pass-123', role: 'operator' } });
    expect(mk.statusCode, mk.body).toBe(201);
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'kfwatcher', password: 'watcher-pass-123' } });
    const cookie = `streeteye_session=${login.cookies.find((x) => x.name === 'streeteye_session')!.value}`;
    const { keyframesUrl } = await liveUrls(cookie);
    const dir = keyframesUrl.replace(/keyframes\.m3u8$/, '');
    const text = (await t.app.inject({ url: keyframesUrl })).body;
    const part = parse(text).segments.flatMap((s) => s.parts ?? []).at(-1)!.uri;
    const init = /#EXT-X-MAP:URI="(kf-init\d+\.mp4)"/.exec(text)![1];
    expect((await t.app.inject({ url: dir + part })).statusCode).toBe(200);
    const forged = keyframesUrl.replace(/\/sub\/([^/]+)\//, (_m, tok: string) => `/sub/${tok.slice(0, -2)}${tok.endsWith('AA') ? 'BB' : 'AA'}/`);
    expect((await t.app.inject({ url: forged })).statusCode).toBe(403);
    const patch = await t.app.inject({ method: 'PATCH', url: `/api/users/${mk.json().id}`, headers: { cookie: admin }, payload: { disabled: true } });
    expect(patch.statusCode, patch.body).toBe(200);
    expect((await t.app.inject({ url: keyframesUrl })).statusCode).toBe(403);
    expect((await t.app.inject({ url: dir + part })).statusCode).toBe(403);
    expect((await t.app.inject({ url: dir + init })).statusCode).toBe(403);
  }, 60_000);
});
