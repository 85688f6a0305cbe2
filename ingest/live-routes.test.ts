import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http2 from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadOrCreateTlsCertificate } from '../server/tls.js';
import { Parser } from 'm3u8-parser';
import { IngestService } from './service.js';
import { liveRoutes } from './live-routes.js';
import { signLiveToken } from './signed-url.js';
import { Fmp4Parser, type Fragment, type InitSegment } from './fmp4.js';
import { fragmentedMp4, oneSecondGopFixture } from './test-fixtures.js';
import { silentLog } from './log.js';
import { ALL_ROLES, type Role } from '../server/auth/roles.js';

// The HTTP side against real sockets. The camera sessions point at a closed port (they stay "offline" and never
// produce media); the test feeds each session's muxer with real fMP4 fragments from ffmpeg, paced like a camera.

const KEY = Buffer.alloc(32, 3);
const CAMS: Record<string, { sharing: 'shared' | 'restricted' }> = {
  cam1: { sharing: 'shared' },
  cam2: { sharing: 'restricted' },
  cam3: { sharing: 'shared' },
};
const USERS: Record<string, Role> = { u1: 'operator', u2: 'police110' };
const sees = (role: Role, cam: string) => CAMS[cam] && (CAMS[cam].sharing === 'shared' || role === 'police110' || role === 'admin');

let app: FastifyInstance;
let base: string;
let ingest: IngestService;
let init: InitSegment;
let fragments: Fragment[];
const feeders: NodeJS.Timeout[] = [];

function parse(text: string) {
  const p = new Parser();
  p.push(text);
  p.end();
  return p.manifest;
}

/** The delivery directive for the part after the newest listed one (the open segment's next index). */
function nextPart(m: { mediaSequence: number; segments: unknown[]; preloadSegment?: { parts?: unknown[] } }): { msn: number; part: number } {
  return { msn: m.mediaSequence + m.segments.length, part: m.preloadSegment?.parts?.length ?? 0 };
}

async function issue(cam: string, user = 'u1', stream = 'sub') {
  return fetch(`${base}/api/cameras/${cam}/live?stream=${stream}`, { headers: { 'x-test-user': user } });
}

/** Feed the running session's muxer like a live camera: one fragment every `ms`. */
function feed(cam: string, stream: 'sub' | 'main', ms: number, svc = ingest): void {
  const mux = svc.manager.get(cam, stream)!.muxer;
  mux.setInit(init);
  let i = 0;
  let offset = 0;
  const span = fragments.reduce((a, f) => a + f.duration, 0);
  const t = setInterval(() => {
    const f = fragments[i % fragments.length];
    if (i > 0 && i % fragments.length === 0) offset += span;
    mux.pushFragment({ ...f, baseDecodeTime: f.baseDecodeTime + offset });
    i++;
  }, ms);
  feeders.push(t);
}

beforeAll(async () => {
  const data = await fragmentedMp4(await oneSecondGopFixture());
  fragments = [];
  const parser = new Fmp4Parser({ onInit: (x) => (init = x), onFragment: (f) => fragments.push(f) });
  parser.push(data);
  ingest = new IngestService({
    logger: silentLog,
    settings: { maxSessions: 3, idleGraceMs: 60_000, liveUrlTtlS: 600, startWaitMs: 3000 },
    resolveSource: async () => ({ url: 'rtsp://127.0.0.1:9/none' }),
  });
  app = Fastify();
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (req) => {
    const id = req.headers['x-test-user'];
    if (typeof id === 'string' && USERS[id]) (req as unknown as { user: unknown }).user = { id, username: id, role: USERS[id] };
  });
  await app.register(liveRoutes, {
    roles: ALL_ROLES,
    ingest,
    urlKey: KEY,
    getVisibleCamera: async (user, id) => (sees(user.role as Role, id) ? { id, streams: ['sub', 'main'] } : null),
    userMaySee: async (userId, id) => !!USERS[userId] && sees(USERS[userId], id),
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  for (const t of feeders) clearInterval(t);
  await app?.close();
  await ingest?.stop();
});

describe('live routes (signed LL-HLS over real sockets)', () => {
  it('issues a signed URL only for a camera the user may see, and serves a valid LL-HLS playlist', async () => {
    expect((await issue('cam2', 'u1')).status).toBe(404); // restricted: an operator does not see it
    expect((await issue('nope', 'u1')).status).toBe(404);
    const res = await issue('cam1');
    expect(res.status).toBe(200);
    const { url, expiresAt } = (await res.json()) as { url: string; expiresAt: string };
    expect(url).toMatch(/^\/live\/cam1\/sub\/[^/]+\/index\.m3u8$/);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    expect(ingest.manager.get('cam1', 'sub')).toBeDefined(); // started on demand
    feed('cam1', 'sub', 40);

    const pl = await fetch(base + url);
    expect(pl.status).toBe(200);
    expect(pl.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const text = await pl.text();
    const m = parse(text);
    expect(m.serverControl.canBlockReload).toBe(true);
    expect(m.serverControl.partHoldBack).toBeGreaterThan(0);
    expect(m.partTargetDuration).toBeGreaterThan(0);
    expect(text).toMatch(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part\d+\.m4s"/);
    expect(text).toMatch(/#EXT-X-PART:DURATION=[\d.]+,URI="part\d+\.m4s",INDEPENDENT=YES/);

    // the init segment and a listed part are served under the same signed prefix
    const dir = base + url.replace(/index\.m3u8$/, '');
    const initRes = await fetch(dir + 'init0.mp4');
    expect(initRes.status).toBe(200);
    expect(Buffer.from(await initRes.arrayBuffer()).subarray(4, 8).toString()).toBe('ftyp');
    const firstPart = /URI="(part\d+\.m4s)"/.exec(text)![1];
    const partRes = await fetch(dir + firstPart);
    expect(partRes.status).toBe(200);
    expect(Buffer.from(await partRes.arrayBuffer()).subarray(4, 8).toString()).toBe('moof');

    // the multivariant playlist names the codec (RFC 6381) and size where players read them; the URL reply has it too
    const again = (await (await issue('cam1')).json()) as { masterUrl: string; codec?: string };
    expect(again.masterUrl).toMatch(/^\/live\/cam1\/sub\/[^/]+\/master\.m3u8$/);
    const codec = ingest.manager.get('cam1', 'sub')!.muxer.trackInfo!.codec!;
    expect(codec).toMatch(/^avc1\.[0-9a-f]{6}$/i);
    expect(again.codec).toBe(codec);
    const master = await (await fetch(base + again.masterUrl)).text();
    expect(master).toMatch(new RegExp(`#EXT-X-STREAM-INF:BANDWIDTH=\\d+,CODECS="${codec.replace('.', '\\.')}",RESOLUTION=\\d+x\\d+\nindex\\.m3u8`));
  });

  it('blocks a playlist reload until the requested part exists, and a preload-hinted part until it is written', async () => {
    const { url } = (await (await issue('cam1')).json()) as { url: string };
    const dir = base + url.replace(/index\.m3u8$/, '');
    const m = parse(await (await fetch(base + url)).text());
    const hint: string = m.preloadSegment.preloadHints[0].uri;
    const { msn, part } = nextPart(m);
    const [pl, media] = await Promise.all([
      fetch(`${base}${url}?_HLS_msn=${msn}&_HLS_part=${part}`).then((r) => r.text()),
      fetch(dir + hint),
    ]);
    // the blocking response lists the hinted part (in the open segment, or as the first part of a new one)
    const later = parse(pl);
    const listed = [...later.segments.flatMap((s: { parts?: { uri: string }[] }) => s.parts ?? []), ...(later.preloadSegment?.parts ?? [])].map((p: { uri: string }) => p.uri);
    expect(listed).toContain(hint);
    expect(media.status).toBe(200);
    expect(Buffer.from(await media.arrayBuffer()).subarray(4, 8).toString()).toBe('moof');
    // a part further ahead than the hint is refused at once
    const seq = Number(/^part(\d+)\.m4s$/.exec(hint)![1]);
    expect((await fetch(dir + `part${seq + 50}.m4s`)).status).toBe(404);
    // far-future msn is refused at once
    expect((await fetch(`${base}${url}?_HLS_msn=${Number(msn) + 50}`)).status).toBe(400);
    // delta update
    const delta = await (await fetch(`${base}${url}?_HLS_skip=YES`)).text();
    expect(delta).toMatch(/#EXTM3U/);
  });

  it('refuses unsigned, tampered, expired and forbidden playlist and media requests', async () => {
    const { url } = (await (await issue('cam1')).json()) as { url: string };
    const token = url.split('/')[4];
    const [exp, user, sig] = token.split('.');
    const forged = (t: string) => url.replace(token, t);
    const flip = sig[0] === 'A' ? 'B' : 'A';
    for (const bad of [
      '/live/cam1/sub/index.m3u8',
      forged('x'),
      forged(`${exp}.${user}.${flip}${sig.slice(1)}`),
      forged(`${Number(exp) + 1}.${user}.${sig}`),
      url.replace('/cam1/', '/cam3/'),
      url.replace('/sub/', '/main/'),
    ]) {
      const r = await fetch(base + bad);
      expect([403, 404], bad).toContain(r.status);
      expect(r.status === 403 || bad === '/live/cam1/sub/index.m3u8').toBe(true);
    }
    expect((await fetch(base + forged(`${exp}.${user}.${flip}${sig.slice(1)}`).replace('index.m3u8', 'init0.mp4'))).status).toBe(403);
    const expired = signLiveToken(KEY, { cameraId: 'cam1', stream: 'sub', userId: 'u1', exp: Math.floor(Date.now() / 1000) - 1 });
    const r1 = await fetch(base + forged(expired));
    expect(r1.status).toBe(403);
    expect(((await r1.json()) as { message: string }).message).toMatch(/expired/);
    expect((await fetch(base + forged(expired).replace('index.m3u8', 'init0.mp4'))).status).toBe(403);
    // a validly signed URL for a camera the user may not (or no longer) see
    const forbidden = signLiveToken(KEY, { cameraId: 'cam2', stream: 'sub', userId: 'u1', exp: Math.floor(Date.now() / 1000) + 60 });
    const r2 = await fetch(`${base}/live/cam2/sub/${forbidden}/index.m3u8`);
    expect(r2.status).toBe(403);
    expect(ingest.manager.get('cam2', 'sub')).toBeUndefined(); // and nothing was started for it
  });

  it('answers 503 past the node-wide session limit', async () => {
    // limit 3: cam1/sub and cam3/sub and cam1/main run, the fourth is refused with a clear message
    expect((await issue('cam3')).status).toBe(200);
    expect((await issue('cam1', 'u1', 'main')).status).toBe(200);
    const r = await issue('cam2', 'u2');
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBeTruthy();
    expect(((await r.json()) as { message: string }).message).toMatch(/limit of 3/);
  });
});

describe('HTTP/2: a 16-tile wall shares one connection', () => {
  it('answers 16 concurrent blocking playlist reloads multiplexed on one TLS connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-h2-'));
    const svc = new IngestService({
      logger: silentLog,
      settings: { maxSessions: 20, idleGraceMs: 60_000, startWaitMs: 5000 },
      resolveSource: async () => ({ url: 'rtsp://127.0.0.1:9/none' }),
    });
    const tls = await loadOrCreateTlsCertificate(dir);
    const h2app = Fastify({ http2: true, https: { allowHTTP1: true, ...tls } } as never) as unknown as FastifyInstance;
    await h2app.register(liveRoutes, { roles: ALL_ROLES, ingest: svc, urlKey: KEY, getVisibleCamera: async () => null, userMaySee: async () => true });
    const origin = await h2app.listen({ port: 0, host: '127.0.0.1' });
    const client = http2.connect(origin, { rejectUnauthorized: false });
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = client.request({ ':path': path });
        let body = '';
        let status = 0;
        req.setEncoding('utf8');
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (d: string) => (body += d));
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end();
      });
    try {
      const cams = Array.from({ length: 16 }, (_, i) => `tile${i}`);
      const urls = cams.map((c) => `/live/${c}/sub/${signLiveToken(KEY, { cameraId: c, stream: 'sub', userId: 'u1', exp: Math.floor(Date.now() / 1000) + 60 })}/index.m3u8`);
      for (const c of cams) svc.manager.touch(c, 'sub', 'u:u1');
      for (const c of cams) feed(c, 'sub', 30, svc);
      const first = await Promise.all(urls.map((u) => get(u)));
      expect(first.map((r) => r.status)).toEqual(cams.map(() => 200));
      // every tile now blocks for the part after its hint, all at once on the same connection
      const next = first.map((r, i) => {
        const { msn, part } = nextPart(parse(r.body));
        return get(`${urls[i]}?_HLS_msn=${msn}&_HLS_part=${part}`);
      });
      const blocked = await Promise.all(next);
      expect(blocked.map((r) => r.status)).toEqual(cams.map(() => 200));
      expect(blocked.every((r) => r.body.includes('#EXT-X-PART'))).toBe(true);
    } finally {
      client.close();
      await h2app.close();
      await svc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
