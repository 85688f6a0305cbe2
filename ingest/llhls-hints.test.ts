import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Parser } from 'm3u8-parser';
import { startSimulator } from '../simulator/index.js';
import { IngestService } from './service.js';
import { liveRoutes } from './live-routes.js';
import { signLiveToken } from './signed-url.js';
import { silentLog } from './log.js';
import { ALL_ROLES } from '../server/auth/roles.js';
import type { MediaEngine } from './rtsp-url.js';

// A player that follows EXT-X-PRELOAD-HINT (Safari, AVPlayer) asks for the hinted part at once and keeps asking for
// each next hint. At a segment boundary the hinted part is the keyframe that opens the next segment: it must be
// served all the same (the request blocks until it is written), never 404. Real RTSP from the simulator (1 s GOP, so a
// boundary every second), pulled by each engine, through the real routes over a socket.

type Sim = Awaited<ReturnType<typeof startSimulator>>;
const KEY = Buffer.alloc(32, 7);
let sim: Sim;
let app: FastifyInstance;
let base: string;
const services: Record<MediaEngine, IngestService> = {} as Record<MediaEngine, IngestService>;

interface Listed { uri: string; msn: number; index: number; independent: boolean }

function parse(text: string) {
  const p = new Parser();
  p.push(text);
  p.end();
  const m = p.manifest;
  const listed: Listed[] = [];
  m.segments.forEach((s: { parts?: { uri: string; independent?: boolean }[] }, i: number) =>
    (s.parts ?? []).forEach((part, index) => listed.push({ uri: part.uri, msn: m.mediaSequence + i, index, independent: !!part.independent })));
  const open: { uri: string; independent?: boolean }[] = m.preloadSegment?.parts ?? [];
  const openMsn = m.mediaSequence + m.segments.length;
  open.forEach((part, index) => listed.push({ uri: part.uri, msn: openMsn, index, independent: !!part.independent }));
  const hint: string | undefined = m.preloadSegment?.preloadHints?.[0]?.uri;
  // the delivery directive for the next part (what hls.js and Safari send): the open segment's next index
  return { listed, hint, next: { msn: openMsn, part: open.length } };
}

beforeAll(async () => {
  sim = await startSimulator({ cameras: 2, dataDir: join(tmpdir(), 'streeteye-sim-test-cache'), keyframeIntervalS: 1, labelledCameras: 0, logger: pino({ level: 'warn' }) });
  const cams = sim.cameras();
  app = Fastify();
  for (const [i, engine] of (['native', 'ffmpeg'] as const).entries()) {
    const cam = cams[i];
    const svc = new IngestService({
      logger: silentLog,
      settings: { maxSessions: 2, idleGraceMs: 60_000, startWaitMs: 15_000 },
      resolveSource: async () => ({ url: cam.rtspSub, username: cam.username, password: cam.password, engine }),
    });
    services[engine] = svc;
    await app.register(async (scope) => liveRoutes(scope, {
      roles: ALL_ROLES, ingest: svc, urlKey: KEY,
      getVisibleCamera: async () => null,
      userMaySee: async () => true,
    }), { prefix: `/${engine}` });
  }
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app?.close();
  for (const s of Object.values(services)) await s.stop();
  await sim?.stop();
});

describe('LL-HLS preload hints across segment boundaries (simulator RTSP, both engines)', () => {
  for (const engine of ['native', 'ffmpeg'] as const) {
    it(`${engine}: every hinted part is served, including the keyframe parts that open a new segment`, async () => {
      const token = signLiveToken(KEY, { cameraId: 'cam', stream: 'sub', userId: 'u1', exp: Math.floor(Date.now() / 1000) + 300 });
      const dir = `${base}/${engine}/live/cam/sub/${token}/`;
      const first = await fetch(dir + 'index.m3u8');
      expect(first.status, await first.clone().text()).toBe(200);
      let pl = parse(await first.text());
      expect(services[engine].manager.get('cam', 'sub')?.engine).toBe(engine);
      let boundaries = 0;
      let hints = 0;
      const statuses: string[] = [];
      while (boundaries < 3 && hints < 80) {
        const hint = pl.hint;
        expect(hint, 'the playlist names the next part').toBeDefined();
        // as a hint-following player does: the hinted part and the blocking reload for the next part, together
        const [media, reload] = await Promise.all([
          fetch(dir + hint),
          fetch(`${dir}index.m3u8?_HLS_msn=${pl.next.msn}&_HLS_part=${pl.next.part}`),
        ]);
        statuses.push(`${hint}:${media.status}`);
        expect(media.status, `hinted ${hint} (${statuses.slice(-5).join(' ')})`).toBe(200);
        expect(Buffer.from(await media.arrayBuffer()).subarray(4, 8).toString()).toBe('moof');
        expect(reload.status).toBe(200);
        pl = parse(await reload.text());
        // the hinted URI is the part the playlist now lists under that name
        const listed = pl.listed.find((p) => p.uri === hint);
        expect(listed, `${hint} listed after it was served`).toBeDefined();
        // a keyframe that opened a new segment (the segment after the fast-start one begins mid-GOP: not counted)
        if (listed!.index === 0 && listed!.independent) boundaries++;
        hints++;
      }
      expect(boundaries, `segment boundaries crossed by a hint in ${hints} hints`).toBeGreaterThanOrEqual(3);
    }, 60_000);
  }
});
