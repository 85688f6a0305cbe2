/**
 * H.265 cameras of the simulator, checked by clients we did not write (ffprobe, ffmpeg decoding the RTSP stream
 * over TCP and UDP) and by the native engine, whose fMP4 (hvc1) ffmpeg then decodes without an error. The fleet:
 * one H.264 camera, one with H.265 main and H.264 sub (most police cameras), one H.265 on both streams.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startSimulator, type SimCameraInfo, type Simulator } from './index.js';
import { authedUrl, probe, run, testCacheDir } from './test-helpers.js';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { decodeCheck, pullFragments, writeTemp } from '../media/test-helpers.js';
import { hevcAccessUnits, hevcNalType, HEVC_PPS, HEVC_SPS, HEVC_VPS } from './h265.js';
import { packetizeAccessUnit } from './rtp-packetizer.js';

const MAIN = { width: 320, height: 180 };
const SUB = { width: 192, height: 108 };
let sim: Simulator;
let cams: SimCameraInfo[];

beforeAll(async () => {
  sim = await startSimulator({
    cameras: 3, h265Cameras: 1, h265OnlyCameras: 1, dataDir: testCacheDir, fps: 10, mainSize: MAIN, subSize: SUB,
    labelledCameras: 0, ptzEvery: 0, discoveryMulticast: false, logger: pino({ level: 'silent' }),
  });
  cams = sim.cameras();
}, 240_000);
afterAll(async () => {
  await sim?.stop();
});

describe('simulator H.265 cameras', () => {
  it('the fleet says what each stream sends, and ffprobe agrees over TCP and UDP', async () => {
    expect(cams.map((c) => [c.mainCodec, c.subCodec])).toEqual([['h264', 'h264'], ['h265', 'h264'], ['h265', 'h265']]);
    for (const c of cams) {
      for (const stream of ['main', 'sub'] as const) {
        const want = stream === 'main' ? c.mainCodec : c.subCodec;
        const r = await probe(authedUrl(c, stream), stream === 'main' ? 'tcp' : 'udp');
        expect(r.ok, r.stderr).toBe(true);
        expect(r.codec).toBe(want === 'h265' ? 'hevc' : 'h264');
        expect({ width: r.width, height: r.height }).toEqual(stream === 'main' ? MAIN : SUB);
      }
    }
  }, 120_000);

  it('ffmpeg decodes 3 s of the H.265 main stream from RTSP without an error', async () => {
    const r = await run(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', authedUrl(cams[1], 'main'), '-t', '3', '-f', 'null', '-'], 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe('');
  }, 60_000);

  it('the native engine relays it as hvc1 fMP4 with an RFC 6381 codec string, and ffmpeg decodes every frame', async () => {
    const cam = cams[2];
    const { inits, frags, ended } = await pullFragments({ source: { url: cam.rtspMain, username: cam.username, password: cam.password }, transport: 'tcp' }, 30);
    expect(ended).toBeUndefined();
    expect(inits[0].track).toMatchObject({ sampleEntry: 'hvc1', width: MAIN.width, height: MAIN.height });
    expect(inits[0].track.codec).toMatch(/^hvc1\.1\.6\.L\d+\.[0-9A-F.]+$/);
    const d = await decodeCheck(writeTemp('sim-h265-main.mp4', Buffer.concat([inits[0].data, ...frags.slice(0, 30).map((f) => f.data)])));
    expect(d.errors).toBe('');
    expect(d).toMatchObject({ codec: 'hevc', frames: 30, width: MAIN.width, height: MAIN.height });
  }, 60_000);
});

describe('H.265 access units and RFC 7798 fragmentation', () => {
  const nal = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type << 1, 1]), body]);
  const vps = nal(HEVC_VPS, Buffer.from([1, 2]));
  const sps = nal(HEVC_SPS, Buffer.from([3, 4]));
  const pps = nal(HEVC_PPS, Buffer.from([5]));
  const idr = nal(19, Buffer.concat([Buffer.from([0x80]), Buffer.alloc(3000, 7)])); // IDR_W_RADL, first slice
  const trail = nal(1, Buffer.from([0x80, 9, 9])); // TRAIL_R, first slice

  it('groups slices into pictures, drops SEI/AUD and puts the parameter sets before every keyframe', () => {
    const sei = nal(39, Buffer.from([0xff]));
    const { units, vps: v, sps: s, pps: p } = hevcAccessUnits([nal(35, Buffer.from([0x50])), vps, sps, pps, sei, idr, trail, idr]);
    expect([v, s, p]).toEqual([vps, sps, pps]);
    expect(units.map((u) => u.key)).toEqual([true, false, true]);
    expect(units[0].nals.map(hevcNalType)).toEqual([HEVC_VPS, HEVC_SPS, HEVC_PPS, 19]);
    expect(units[2].nals.map(hevcNalType)).toEqual([HEVC_VPS, HEVC_SPS, HEVC_PPS, 19]);
  });

  it('fragments a large NAL into FUs (type 49) whose bodies put the NAL back together', () => {
    const frame = packetizeAccessUnit({ nals: [idr], key: true }, 1400, 'h265');
    const packets = frame.offsets.map((o, i) => frame.template.subarray(o + 16, i + 1 < frame.offsets.length ? frame.offsets[i + 1] : frame.template.length));
    expect(packets.length).toBe(3);
    for (const p of packets) expect((p[0] >> 1) & 0x3f).toBe(49);
    expect(packets.map((p) => p[2] & 0xc0)).toEqual([0x80, 0x00, 0x40]);
    expect(packets.every((p) => (p[2] & 0x3f) === 19)).toBe(true);
    const rebuilt = Buffer.concat([idr.subarray(0, 2), ...packets.map((p) => p.subarray(3))]);
    expect(rebuilt.equals(idr)).toBe(true);
  });
});
