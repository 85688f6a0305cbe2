/**
 * H.265 (RFC 7798) and H.264 (RFC 6184) from a real encoder (ffmpeg libx265/libx264): Annex-B → RTP packets
 * (single NAL, aggregation packets, fragmentation units; the 32-bit RTP clock wrapping mid-stream) → depacketizer →
 * fMP4 (hvcC/avcC) → ffmpeg decodes every frame without an error; the codec strings are in RFC 6381 / ISO 14496-15 form.
 */
import { describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { splitAnnexB } from '../simulator/h264.js';
import { buildAvcC, h264CodecString, parseH264Sps } from './codec/h264.js';
import { buildHvcC, h265CodecString, h265IsVcl, h265NalType, parseH265Sps } from './codec/h265.js';
import { buildFragment, buildInitSegment } from './mp4/fmp4-writer.js';
import type { RtpPacket } from './rtp/rtp-packet.js';
import { VideoDepacketizer, type AccessUnit, type VideoCodec } from './rtp/video-depacketizer.js';
import { decodeCheck, run, writeTemp } from './test-helpers.js';

async function encode(codec: VideoCodec, frames: number): Promise<Buffer> {
  const enc = codec === 'h265'
    ? ['-c:v', 'libx265', '-x265-params', 'keyint=25:min-keyint=25:bframes=0:log-level=error', '-f', 'hevc']
    : ['-c:v', 'libx264', '-g', '25', '-bf', '0', '-profile:v', 'high', '-f', 'h264'];
  const r = await run(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=25`, '-frames:v', String(frames), '-pix_fmt', 'yuv420p', ...enc, 'pipe:1']);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/** Group Annex-B NAL units into frames (a VCL NAL that starts a picture opens a new one). */
function frames(codec: VideoCodec, nals: Buffer[]): Buffer[][] {
  const out: Buffer[][] = [];
  let cur: Buffer[] = [];
  let hasVcl = false;
  for (const n of nals) {
    const vcl = codec === 'h265' ? h265IsVcl(h265NalType(n)) : (n[0] & 0x1f) >= 1 && (n[0] & 0x1f) <= 5;
    const first = vcl && (codec === 'h265' ? (n[2] & 0x80) !== 0 : (n[1] & 0x80) !== 0);
    if ((first || (!vcl && hasVcl)) && hasVcl) {
      out.push(cur);
      cur = [];
      hasVcl = false;
    }
    cur.push(n);
    if (vcl) hasVcl = true;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** A test packetizer: parameter sets aggregated (AP / STAP-A), big NALs fragmented (FU / FU-A), the rest single. */
function packetize(codec: VideoCodec, aus: Buffer[][], ts0: number, mtu = 900): RtpPacket[] {
  const pk: RtpPacket[] = [];
  let seq = 65500; // the sequence number wraps too
  aus.forEach((nals, i) => {
    const ts = (ts0 + i * 3600) >>> 0;
    const payloads: Buffer[] = [];
    const small = nals.filter((n) => n.length < 200 && !(codec === 'h265' ? h265IsVcl(h265NalType(n)) : (n[0] & 0x1f) <= 5));
    if (small.length > 1) {
      const head = codec === 'h265' ? Buffer.from([48 << 1, 1]) : Buffer.from([24]);
      payloads.push(Buffer.concat([head, ...small.flatMap((n) => [Buffer.from([n.length >> 8, n.length & 0xff]), n])]));
    }
    for (const n of nals) {
      if (small.length > 1 && small.includes(n)) continue;
      if (n.length <= mtu) payloads.push(n);
      else {
        const hdrLen = codec === 'h265' ? 2 : 1;
        const body = n.subarray(hdrLen);
        for (let o = 0; o < body.length; o += mtu) {
          const s = o === 0 ? 0x80 : 0;
          const e = o + mtu >= body.length ? 0x40 : 0;
          const head = codec === 'h265'
            ? Buffer.from([(n[0] & 0x81) | (49 << 1), n[1], s | e | h265NalType(n)])
            : Buffer.from([(n[0] & 0xe0) | 28, s | e | (n[0] & 0x1f)]);
          payloads.push(Buffer.concat([head, body.subarray(o, o + mtu)]));
        }
      }
    }
    payloads.forEach((p, j) => pk.push({ marker: j === payloads.length - 1, payloadType: 96, sequence: seq++ & 0xffff, timestamp: ts, ssrc: 1, payload: p }));
  });
  return pk;
}

for (const codec of ['h265', 'h264'] as const) {
  describe(`${codec === 'h265' ? 'H.265 (RFC 7798)' : 'H.264 (RFC 6184)'} from a real encoder`, () => {
    it('packetized, depacketized across a 32-bit timestamp wrap, muxed to fMP4: ffmpeg decodes every frame', async () => {
      const es = await encode(codec, 50);
      const aus = frames(codec, splitAnnexB(es));
      expect(aus.length).toBe(50);
      const packets = packetize(codec, aus, 0x100000000 - 20 * 3600); // wraps at frame 20
      const out: AccessUnit[] = [];
      let vps: Buffer | undefined, sps: Buffer | undefined, pps: Buffer | undefined;
      const d = new VideoDepacketizer(codec, (au) => {
        vps = au.vps ?? vps;
        sps = au.sps ?? sps;
        pps = au.pps ?? pps;
        if (au.nals.length) out.push(au);
      });
      for (const p of packets) d.push(p);
      expect(out.length).toBe(50);
      expect(out[0].key).toBe(true);
      expect(out.filter((a) => a.key).length).toBe(2);
      for (let i = 1; i < out.length; i++) expect(out[i].timestamp - out[i - 1].timestamp).toBe(3600); // monotonic across the wrap
      let init;
      let codecString: string;
      if (codec === 'h265') {
        const info = parseH265Sps(sps!);
        expect({ w: info.width, h: info.height }).toEqual({ w: 320, h: 180 });
        codecString = h265CodecString(info);
        expect(codecString).toMatch(/^hvc1\.1\.6\.L\d+\.[0-9A-F]{1,2}(\.[0-9A-F]{1,2})*$/);
        init = buildInitSegment({ sampleEntry: 'hvc1', config: buildHvcC([vps!], [sps!], [pps!], info), width: info.width, height: info.height, codec: codecString });
      } else {
        const info = parseH264Sps(sps!);
        expect({ w: info.width, h: info.height }).toEqual({ w: 320, h: 180 });
        codecString = h264CodecString(info);
        expect(codecString).toMatch(/^avc1\.6400[0-9A-F]{2}$/); // High profile
        init = buildInitSegment({ sampleEntry: 'avc1', config: buildAvcC(sps!, [pps!], info), width: info.width, height: info.height, codec: codecString });
      }
      const t0 = out[0].timestamp;
      const file = writeTemp(`${codec}.mp4`, Buffer.concat([init.data, ...out.map((a, i) => buildFragment(i + 1, a.timestamp - t0, 3600, a.key, a.nals).data)]));
      const dec = await decodeCheck(file);
      expect(dec.errors).toBe('');
      expect(dec).toMatchObject({ codec: codec === 'h265' ? 'hevc' : 'h264', frames: 50, width: 320, height: 180 });
    });

    it('a camera stopping mid-frame: the cut frame is never emitted', async () => {
      const aus = frames(codec, splitAnnexB(await encode(codec, 5)));
      const packets = packetize(codec, aus, 1000, 300);
      const lastFrameStart = packets.findIndex((p) => p.timestamp === ((1000 + 4 * 3600) >>> 0));
      const out: AccessUnit[] = [];
      const d = new VideoDepacketizer(codec, (au) => au.nals.length && out.push(au));
      for (const p of packets.slice(0, lastFrameStart + 1)) d.push(p); // only the first packet of the last frame
      d.reset(); // the connection closed
      expect(out.length).toBe(4);
      expect(d.stats.dropped).toBe(1);
    });
  });
}
