/**
 * The native engine against an RTSP server we did not write: GStreamer's gst-rtsp-server (Debian packages
 * gstreamer1.0-rtsp, python3-gi, gir1.2-gst-rtsp-server-1.0 + the x264/x265 encoders; .ci/run installs them), started
 * here by a small python3 script on an ephemeral port with Digest auth. H.264 and H.265, TCP and UDP; every output is
 * checked by decoding it with ffmpeg. Skipped — loudly — only where those Debian packages are absent, and never on CI (test/third-party-peers.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCheck, pullFragments, writeTemp } from './test-helpers.js';
import { thirdPartyPeer } from '../test/third-party-peers.js';
import { NativePull } from './native-pull.js';
import type { PlayRange } from './rtsp/client.js';
import { parseNptRange } from './rtsp/client.js';
import { run } from '../ingest/test-fixtures.js';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Fragment } from '../ingest/fmp4.js';

const PY = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'testing', 'gst-rtsp-server.py');
const probe = spawnSync(PY, ['-c', "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"], { encoding: 'utf8' });
const available = thirdPartyPeer('gst-rtsp-server', probe.status === 0,
  'apt-get install gstreamer1.0-rtsp python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav');

const servers: ChildProcess[] = [];
async function startGst(codec: 'h264' | 'h265' | `file:${string}`): Promise<string> {
  const child = spawn(PY, ['-u', SCRIPT, codec, 'viewer', 'gst-Secret'], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`gst-rtsp-server did not start: ${err}`)), 20_000);
    child.stdout!.once('data', (d: Buffer) => {
      clearTimeout(t);
      resolve(Number(d.toString().trim()));
    });
    child.once('exit', (code) => reject(new Error(`gst-rtsp-server exited (${code}): ${err}`)));
  });
  return `rtsp://127.0.0.1:${port}/test`;
}

let urls: Record<'h264' | 'h265', string>;
beforeAll(async () => {
  if (!available) return;
  urls = { h264: await startGst('h264'), h265: await startGst('h265') };
});
afterAll(() => {
  for (const c of servers) if (c.exitCode === null) c.kill('SIGTERM');
});

describe.skipIf(!available)('native engine against gst-rtsp-server (third party)', () => {
  for (const codec of ['h264', 'h265'] as const) {
    for (const transport of ['tcp', 'udp'] as const) {
      it(`${codec.toUpperCase()} over ${transport.toUpperCase()} with Digest: decodes cleanly`, async () => {
        const { inits, frags, ended, transport: settled } = await pullFragments({ source: { url: urls[codec], username: 'viewer', password: 'gst-Secret' }, transport }, 40);
        expect(ended).toBeUndefined();
        expect(settled).toBe(transport);
        expect(inits.length).toBeGreaterThanOrEqual(1);
        expect(inits[0].track.codec).toMatch(codec === 'h264' ? /^avc1\.[0-9A-F]{6}$/ : /^hvc1\.1\.6\.L\d+\.[0-9A-F.]+$/);
        expect(inits[0].track).toMatchObject({ width: 320, height: 240, sampleEntry: codec === 'h264' ? 'avc1' : 'hvc1' });
        const d = await decodeCheck(writeTemp(`gst-${codec}-${transport}.mp4`, Buffer.concat([inits[0].data, ...frags.slice(0, 40).map((f) => f.data)])));
        expect(d.errors).toBe('');
        expect(d).toMatchObject({ codec: codec === 'h264' ? 'h264' : 'hevc', frames: 40, width: 320, height: 240 });
      }, 60_000);
    }
  }
});

/** A recording for gst to serve: 8 s of H.264 (320x240, 10 fps, a keyframe every second, no B-frames) in MP4, made once. */
async function recordingFixture(): Promise<string> {
  const dir = join(tmpdir(), 'streeteye-media-fixtures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'recording-8s-10fps-nob.mp4');
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp.mp4`;
  const r = await run(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:d=8',
    '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', tmp]);
  if (r.code !== 0) throw new Error(r.stderr);
  renameSync(tmp, file);
  return file;
}

/** Every fragment of a bounded PLAY (a recording with an end), until the server has sent nothing for idleMs. */
async function pullRange(url: string, range: PlayRange, scale?: number, idleMs = 2500): Promise<{ frags: Fragment[]; played: NativePull['played']; ended?: Error }> {
  const frags: Fragment[] = [];
  let ended: Error | undefined;
  let idle: NodeJS.Timeout | undefined;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const arm = () => { clearTimeout(idle); idle = setTimeout(done, idleMs); };
  const pull = new NativePull({
    source: { url, username: 'viewer', password: 'gst-Secret' }, transport: 'tcp', range, scale,
    onInit: () => {}, onFragment: (f) => { frags.push(f); arm(); }, onEnd: (e) => { ended = e; done(); },
  });
  try {
    await pull.start();
    arm();
    await finished;
  } finally {
    clearTimeout(idle);
    await pull.stop();
  }
  return { frags, played: pull.played, ended };
}

describe.skipIf(!available)('PLAY Range and Scale against gst-rtsp-server serving a recording (third party)', () => {
  let vodUrl: string;
  beforeAll(async () => {
    vodUrl = await startGst(`file:${await recordingFixture()}`);
  }, 120_000);

  it('plays from npt=2 to npt=5: the server answers that range and sends about 3 s of media', async () => {
    const { frags, played, ended } = await pullRange(vodUrl, { npt: 2, end: 5 });
    expect(ended).toBeUndefined();
    const r = parseNptRange(played.range);
    expect(r, played.range).toBeDefined();
    expect(r!.start).toBeCloseTo(2, 0);
    expect(r!.end).toBeCloseTo(5, 0);
    // media seconds, from the stream's own timestamps (not arrival times): 3 s ± a GOP's snapping
    const seconds = frags.reduce((a, f) => a + f.duration / f.timescale, 0);
    expect(seconds).toBeGreaterThan(2);
    expect(seconds).toBeLessThan(4.2);
    expect(frags[0].independent).toBe(true);
  }, 60_000);

  it('the whole recording without a Range end is longer than the bounded one; Scale is sent and the granted speed reported', async () => {
    const whole = await pullRange(vodUrl, { npt: 0 });
    const wholeS = whole.frags.reduce((a, f) => a + f.duration / f.timescale, 0);
    expect(wholeS).toBeGreaterThan(6.5);
    const fast = await pullRange(vodUrl, { npt: 4 }, 2);
    expect(fast.ended).toBeUndefined();
    // gst-rtsp-server answers Scale with the rate it applies: this pipeline (no trick modes) grants normal speed,
    // which the client reports (and logs) instead of assuming what it asked for
    expect([1, 2]).toContain(fast.played.scale);
    expect(parseNptRange(fast.played.range)!.start).toBeCloseTo(4, 0);
    expect(fast.frags.length).toBeGreaterThan(0);
  }, 90_000);
});
