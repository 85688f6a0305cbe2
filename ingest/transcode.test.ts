/**
 * The H.264 transcode of an H.265 stream (for browsers without H.265): a real simulator camera (H.265 on both
 * streams) pulled by the node, transcoded by real ffmpeg from the session's own fragments, read back over the signed
 * LL-HLS URLs and checked by ffprobe (h264) and by decoding it; the node's budget (TRANSCODE_MAX_SESSIONS=1) refuses
 * a second transcode with 503 {zh, en, reason} until the first one's last viewer has gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Parser } from 'm3u8-parser';
import { createTestApp, type TestApp } from '../test/app.js';
import { startSimulator } from '../simulator/index.js';
import { resolveFfmpeg, resolveFfprobe } from '../media-tools/ffmpeg-path.js';
import { run } from './test-fixtures.js';

interface Manifest { segments: Array<{ uri: string; map?: { uri: string }; parts?: Array<{ uri: string }> }> }
function parse(text: string): Manifest {
  const p = new Parser();
  p.push(text);
  p.end();
  return p.manifest as Manifest;
}

describe('H.264 transcode rendition of an H.265 camera', () => {
  let t: TestApp;
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  let h265Id: string;
  let h264Id: string;
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'streeteye-tc-'));
    sim = await startSimulator({
      cameras: 2, h265OnlyCameras: 1, dataDir: join(tmpdir(), 'streeteye-sim-test-cache'), fps: 10, keyframeIntervalS: 1,
      mainSize: { width: 320, height: 180 }, subSize: { width: 192, height: 108 }, labelledCameras: 0, ptzEvery: 0, discoveryMulticast: false, logger: pino({ level: 'warn' }),
    });
    t = await createTestApp({ env: { TRANSCODE_MAX_SESSIONS: '1' } });
    const ids: string[] = [];
    for (const c of sim.cameras()) {
      const res = await t.app.inject({
        method: 'POST', url: '/api/cameras', headers: { cookie: await t.cookie('technician') },
        payload: { name: c.name, rtspMain: c.rtspMain, rtspSub: c.rtspSub, username: c.username, password: c.password },
      });
      expect(res.statusCode, res.body).toBe(201);
      ids.push(res.json().id);
    }
    [h264Id, h265Id] = ids;
  }, 240_000);
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const live = async (id: string, stream: 'main' | 'sub') => {
    const r = await t.app.inject({ url: `/api/cameras/${id}/live?stream=${stream}`, headers: { cookie: await t.cookie('operator') } });
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as { url: string; masterUrl: string; transcodeUrl: string; streams: string[] };
  };

  it('serves an H.264 rendition that ffprobe reads as h264 and ffmpeg decodes, from the session (no second pull)', async () => {
    const urls = await live(h265Id, 'sub');
    expect(urls.transcodeUrl).toBe(urls.url.replace(/index\.m3u8$/, 'transcode.m3u8'));
    const master = await t.app.inject({ url: urls.masterUrl });
    expect(master.body).toMatch(/CODECS="hvc1\./);
    let text = '';
    await expect.poll(async () => {
      const r = await t.app.inject({ url: urls.transcodeUrl });
      text = r.statusCode === 200 ? r.body : '';
      return text ? parse(text).segments.length : 0;
    }, { timeout: 60_000, interval: 500 }).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/#EXT-X-MAP:URI="tc-init\d+\.mp4"/);
    const m = parse(text);
    const dir = urls.transcodeUrl.replace(/transcode\.m3u8$/, '');
    const get = async (uri: string) => {
      const r = await t.app.inject({ url: dir + uri });
      expect(r.statusCode, `${uri}: ${r.body.slice(0, 200)}`).toBe(200);
      return r.rawPayload;
    };
    const file = join(work, 'tc.mp4');
    await writeFile(file, Buffer.concat([await get(m.segments[0].map!.uri), ...(await Promise.all(m.segments.slice(0, 3).map((s) => get(s.uri))))]));
    const p = await run(resolveFfprobe(), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file]);
    expect(p.code, p.stderr).toBe(0);
    expect((JSON.parse(p.stdout.toString()) as { streams: unknown[] }).streams[0]).toMatchObject({ codec_name: 'h264', width: 192, height: 108 });
    const d = await run(resolveFfmpeg(), ['-v', 'error', '-i', file, '-f', 'null', '-']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr.trim()).toBe('');
    // one camera pull per stream: the transcode reads the session's fragments
    const ingest = t.ctx.ingest;
    expect(ingest.manager.list().filter((e) => e.cameraId === h265Id).map((e) => e.stream)).toEqual(['sub']);
    expect(ingest.transcoder.size).toBe(1);

    // the same serve-time access checks as every media request: a disabled user is refused at the next request
    const admin = await t.cookie('admin');
    const made = await t.app.inject({ method: 'POST', url: '/api/users', headers: { cookie: admin }, payload: { username: 'tc-watcher', password: 'watcher-pass-123', role: 'operator' } });
    expect(made.statusCode, made.body).toBe(201);
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'tc-watcher', password: 'watcher-pass-123' } });
    const cookie = `streeteye_session=${login.cookies.find((x) => x.name === 'streeteye_session')!.value}`;
    const mine = (await t.app.inject({ url: `/api/cameras/${h265Id}/live?stream=sub`, headers: { cookie } })).json() as { transcodeUrl: string };
    const pl = await t.app.inject({ url: mine.transcodeUrl });
    expect(pl.statusCode).toBe(200);
    const part = parse(pl.body).segments.flatMap((s) => s.parts ?? [])[0].uri;
    const partUrl = mine.transcodeUrl.replace(/transcode\.m3u8$/, part);
    expect((await t.app.inject({ url: partUrl })).statusCode).toBe(200);
    const off = await t.app.inject({ method: 'PATCH', url: `/api/users/${made.json().id}`, headers: { cookie: admin }, payload: { disabled: true } });
    expect(off.statusCode, off.body).toBe(200);
    await expect.poll(async () => [(await t.app.inject({ url: mine.transcodeUrl })).statusCode, (await t.app.inject({ url: partUrl })).statusCode], { timeout: 10_000 }).toEqual([403, 403]);
  }, 120_000);

  it('refuses a forged signature and an H.264 stream, and a second transcode over the budget with a reason in zh and en', async () => {
    const urls = await live(h265Id, 'sub');
    const forged = urls.transcodeUrl.replace(/\/([^/]+)\/transcode\.m3u8$/, (_m, tok: string) => `/${tok.slice(0, -2)}${tok.endsWith('AA') ? 'BB' : 'AA'}/transcode.m3u8`);
    expect((await t.app.inject({ url: forged })).statusCode).toBe(403);
    const plain = await live(h264Id, 'sub');
    const already = await t.app.inject({ url: plain.transcodeUrl });
    expect(already.statusCode).toBe(409);
    expect(already.json()).toMatchObject({ reason: 'already_h264' });
    const main = await live(h265Id, 'main');
    const over = await t.app.inject({ url: main.transcodeUrl });
    expect(over.statusCode, over.body).toBe(503);
    const body = over.json() as { reason: string; zh: string; en: string; limit: number };
    expect(body).toMatchObject({ reason: 'transcode_budget', limit: 1 });
    expect(body.zh).toContain('转码名额已满');
    expect(body.en).toMatch(/cannot play H\.265.*transcodes/);
  }, 60_000);

  it('stops the transcode once its last viewer has gone, and the freed place serves the next one', async () => {
    // nobody asks for the sub stream's transcode any more: it stops after the viewer TTL
    await expect.poll(() => t.ctx.ingest.transcoder.size, { timeout: 60_000, interval: 500 }).toBe(0);
    const main = await live(h265Id, 'main');
    await expect.poll(async () => (await t.app.inject({ url: main.transcodeUrl })).statusCode, { timeout: 60_000, interval: 1000 }).toBe(200);
    expect(t.ctx.ingest.transcoder.size).toBe(1);
  }, 150_000);
});
