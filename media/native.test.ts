/**
 * The native engine against the RTSP simulator (real RTSP server, Digest auth, TCP and UDP): fragments ffprobe and
 * ffmpeg read without an error, a codec string in RFC 6381 form, a resolution change that becomes a new init segment
 * (a discontinuity for the player), and real RTP packets replayed with loss and reordering (a test relay between the
 * camera's packets and the depacketizer): never a broken frame out, decoding resumes at the next keyframe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startSimulator, type SimCameraInfo } from '../simulator/index.js';
import { testCacheDir } from '../simulator/test-helpers.js';
import { CameraSession } from '../ingest/camera-session.js';
import { silentLog } from '../ingest/log.js';
import { parseMoov, type Fragment, type InitSegment } from '../ingest/fmp4.js';
import { NativePull } from './native-pull.js';
import { RtspClient } from './rtsp/client.js';
import { ReorderBuffer, type RtpPacket } from './rtp/rtp-packet.js';
import { VideoDepacketizer, type AccessUnit } from './rtp/video-depacketizer.js';
import { buildFragment } from './mp4/fmp4-writer.js';
import { decodeCheck, writeTemp } from './test-helpers.js';

type Sim = Awaited<ReturnType<typeof startSimulator>>;
let sim: Sim;
let cams: SimCameraInfo[];
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  sim = await startSimulator({ cameras: 4, dataDir: testCacheDir, keyframeIntervalS: 1, labelledCameras: 0, discoveryMulticast: false, logger: pino({ level: 'silent' }) });
  cams = sim.cameras();
});
afterAll(async () => {
  for (const s of stops) await s().catch(() => {});
  await sim?.stop();
});

/** Pull with the native engine until `frames` fragments arrived; returns the init and fragments. */
async function pull(cam: SimCameraInfo, transport: 'tcp' | 'udp' | 'auto', frames: number): Promise<{ inits: InitSegment[]; frags: Fragment[]; pull: NativePull }> {
  const inits: InitSegment[] = [];
  const frags: Fragment[] = [];
  let done!: () => void;
  const enough = new Promise<void>((r) => (done = r));
  const p = new NativePull({
    source: { url: cam.rtspSub, username: cam.username, password: cam.password },
    transport,
    onInit: (i) => inits.push(i),
    onFragment: (f) => {
      frags.push(f);
      if (frags.length >= frames) done();
    },
    onEnd: (err) => {
      throw err;
    },
  });
  stops.push(() => p.stop());
  await p.start();
  await enough;
  await p.stop();
  return { inits, frags, pull: p };
}

describe('native engine against the simulator', () => {
  it('TCP interleaved with Digest: an init segment with avcC and per-frame fragments that ffmpeg decodes cleanly', async () => {
    const { inits, frags, pull: p } = await pull(cams[0], 'tcp', 60);
    expect(p.transport).toBe('tcp');
    expect(inits).toHaveLength(1);
    const track = parseMoov(inits[0].data.subarray(inits[0].data.readUInt32BE(0))); // the moov after ftyp
    expect(track.codec?.toLowerCase()).toBe(inits[0].track.codec?.toLowerCase()); // RFC 6381: hex digits in any case
    expect(inits[0].track.codec).toMatch(/^avc1\.[0-9A-F]{6}$/);
    expect({ width: track.width, height: track.height }).toEqual(cams[0].subSize);
    expect(frags[0].independent).toBe(true);
    // decode times rise by one frame (25 fps → 3600 ticks)
    for (let i = 1; i < frags.length; i++) expect(frags[i].baseDecodeTime - frags[i - 1].baseDecodeTime).toBe(3600);
    const file = writeTemp('tcp.mp4', Buffer.concat([inits[0].data, ...frags.map((f) => f.data)]));
    const d = await decodeCheck(file);
    expect(d.errors).toBe('');
    expect(d).toMatchObject({ codec: 'h264', frames: 60, ...cams[0].subSize });
  });

  it('RTP over UDP (port pair, receiver reports): same clean output', async () => {
    const { inits, frags, pull: p } = await pull(cams[1], 'udp', 50);
    expect(p.transport).toBe('udp');
    const d = await decodeCheck(writeTemp('udp.mp4', Buffer.concat([inits[0].data, ...frags.map((f) => f.data)])));
    expect(d.errors).toBe('');
    expect(d.frames).toBe(50);
  });

  it('a resolution change mid-stream becomes a new init segment and a discontinuity in the playlist', async () => {
    const cam = cams[2];
    // the simulator re-encodes its main stream at the new size and switches at the next keyframe
    const s = new CameraSession({ cameraId: cam.id, stream: 'main', ffmpegPath: 'unused', logger: silentLog, getSource: async () => ({ url: cam.rtspMain, username: cam.username, password: cam.password }) });
    stops.push(() => s.stop());
    s.start();
    expect(await s.waitForMedia(15_000)).toBe(true);
    expect(s.engine).toBe('native');
    const firstInit = s.muxer.currentInitId;
    sim.fault(cam.id, { kind: 'resolution', width: 320, height: 180 });
    const t0 = Date.now();
    while (s.muxer.trackInfo?.width !== 320 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
    expect(s.muxer.trackInfo).toMatchObject({ width: 320, height: 180 });
    expect(s.muxer.currentInitId).toBe(firstInit + 1);
    expect(s.state).toBe('live'); // same pull, no reconnect
    expect(s.stats.restarts).toBe(0);
    await s.muxer.waitUntil(() => s.muxer.playlist().includes('#EXT-X-DISCONTINUITY'), 10_000);
    const pl = s.muxer.playlist();
    expect(pl).toContain('#EXT-X-DISCONTINUITY');
    expect(pl).toContain(`#EXT-X-MAP:URI="init${firstInit + 1}.mp4"`);
    sim.restore(cam.id);
    await s.stop();
  }, 90_000);

  it('loss and reordering (test relay over real RTP packets): no broken frame out, decoding resumes at the next keyframe', async () => {
    // capture ~3 s (3 GOPs) of the camera's real RTP packets
    const packets: RtpPacket[] = [];
    let sdpSps: Buffer | undefined;
    let sdpPps: Buffer | undefined;
    const client = new RtspClient({
      url: cams[3].rtspSub, username: cams[3].username, password: cams[3].password, transport: 'tcp',
      onRtp: (p) => packets.push({ ...p, payload: Buffer.from(p.payload) }),
      onEnd: () => {},
    });
    stops.push(() => client.close());
    const playing = await client.start();
    sdpSps = playing.video.sps[0];
    sdpPps = playing.video.pps[0];
    expect(sdpSps && sdpPps).toBeTruthy();
    while (packets.length < 40 || packets[packets.length - 1].timestamp - packets[0].timestamp < 3.2 * 90000) await new Promise((r) => setTimeout(r, 50));
    await client.close();

    // the relay: drop one packet in the middle of the first GOP, swap neighbours everywhere else
    const firstTs = packets[0].timestamp;
    const dropAt = packets.findIndex((p) => p.timestamp - firstTs > 0.4 * 90000);
    const relayed: RtpPacket[] = packets.filter((_, i) => i !== dropAt);
    for (let i = 1; i + 1 < relayed.length; i += 7) [relayed[i], relayed[i + 1]] = [relayed[i + 1], relayed[i]];

    const frames: AccessUnit[] = [];
    const depack = new VideoDepacketizer('h264', (au) => au.nals.length && frames.push(au));
    const reorder = new ReorderBuffer((p) => depack.push(p), 16);
    for (const p of relayed) reorder.push(p);
    reorder.flush();
    expect(depack.stats.gaps).toBe(1);
    expect(depack.stats.dropped).toBeGreaterThan(0);
    // frames from the loss to the next keyframe are gone: a gap in the timestamps, and the next frame out is a keyframe
    const lostTs = packets[dropAt].timestamp;
    expect(frames.some((f) => f.timestamp === lostTs)).toBe(false);
    const after = frames.filter((f) => f.timestamp > lostTs);
    expect(after[0].key).toBe(true);
    expect(frames.filter((f) => f.timestamp < lostTs).length).toBeGreaterThan(0);

    // what comes out decodes without a single error
    const { parseH264Sps, buildAvcC, h264CodecString } = await import('./codec/h264.js');
    const { buildInitSegment } = await import('./mp4/fmp4-writer.js');
    const info = parseH264Sps(sdpSps!);
    const init = buildInitSegment({ sampleEntry: 'avc1', config: buildAvcC(sdpSps!, [sdpPps!], info), width: info.width, height: info.height, codec: h264CodecString(info) });
    const t0 = frames[0].timestamp;
    const body = frames.map((f, i) => buildFragment(i + 1, f.timestamp - t0, 3600, f.key, f.nals).data);
    const d = await decodeCheck(writeTemp('lossy.mp4', Buffer.concat([init.data, ...body])));
    expect(d.errors).toBe('');
    expect(d.frames).toBe(frames.length);
  });
});
