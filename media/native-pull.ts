/**
 * The native engine for one camera stream: RTSP client → RTP depacketizer → fMP4 writer, all in process. It hands the
 * session the same InitSegment and per-frame Fragment objects that ffmpeg's fMP4 output parses into, so every consumer
 * (LL-HLS muxer, frame tap, snapshots, clip source, recorder) is engine-blind.
 *
 * A new init segment is made whenever a keyframe comes with parameter sets that differ from the current ones
 * (a camera changing resolution or profile): the LL-HLS muxer then opens a discontinuity with the new EXT-X-MAP,
 * which is how the player is told.
 */
import type { Fragment, InitSegment } from '../ingest/fmp4.js';
import type { RtspSource } from '../ingest/rtsp-url.js';
import { buildAvcC, h264CodecString, parseH264Sps } from './codec/h264.js';
import { buildHvcC, h265CodecString, parseH265Sps } from './codec/h265.js';
import { buildFragment, buildInitSegment, VIDEO_TIMESCALE } from './mp4/fmp4-writer.js';
import { ReorderBuffer, type RtpPacket } from './rtp/rtp-packet.js';
import { UnsupportedStreamError, VideoDepacketizer, type AccessUnit, type VideoCodec } from './rtp/video-depacketizer.js';
import { RtspClient, RtspError, type PlayRange, type RtpTransport } from './rtsp/client.js';

export { RtspError } from './rtsp/client.js';
export { UnsupportedStreamError } from './rtp/video-depacketizer.js';

export interface NativePullOptions {
  source: RtspSource;
  transport?: RtpTransport;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  udpTimeoutMs?: number;
  /** PLAY's Range and Scale (recordings, camera playback); live streams leave them out */
  range?: PlayRange;
  scale?: number;
  onInit: (init: InitSegment) => void;
  onFragment: (f: Fragment) => void;
  /** bytes arrived from the camera */
  onData?: () => void;
  /** the pull ended by itself (not after stop()) */
  onEnd: (err: RtspError) => void;
  onInfo?: (msg: string, detail?: Record<string, unknown>) => void;
}

/** Keyframes without any parameter set (SDP or in-band) before giving up on the stream. */
const MAX_KEYFRAMES_WITHOUT_PARAMS = 3;

export class NativePull {
  private client?: RtspClient;
  private depack?: VideoDepacketizer;
  private reorder?: ReorderBuffer;
  private reorderTimer?: NodeJS.Timeout;
  private stopped = false;
  private ended = false;
  private codec: VideoCodec = 'h264';
  private vps?: Buffer;
  private sps?: Buffer;
  private pps?: Buffer;
  private initKey?: string;
  private origin?: number;
  private lastTs?: number;
  private frameTicks = 3600;
  private sequence = 0;
  private keyframesWithoutParams = 0;
  transport?: 'tcp' | 'udp';
  /** the server's answer to PLAY's Range and Scale (see RtspClientOptions.range/scale) */
  played: { range?: string; scale?: number } = {};
  codecString?: string;

  constructor(private readonly o: NativePullOptions) {}

  /** Connect and play; resolves once PLAY succeeded (media follows), rejects with an RtspError. */
  async start(): Promise<void> {
    const client = new RtspClient({
      url: this.o.source.url,
      username: this.o.source.username,
      password: this.o.source.password,
      transport: this.o.transport ?? 'tcp',
      connectTimeoutMs: this.o.connectTimeoutMs,
      requestTimeoutMs: this.o.requestTimeoutMs,
      udpTimeoutMs: this.o.udpTimeoutMs,
      range: this.o.range,
      scale: this.o.scale,
      onData: this.o.onData,
      onInfo: this.o.onInfo,
      onRtp: (p) => this.onRtp(p),
      onEnd: (err) => this.end(err),
    });
    this.client = client;
    const playing = await client.start();
    if (this.stopped) {
      await client.close();
      return;
    }
    const v = playing.video;
    this.transport = playing.transport;
    this.played = { range: playing.range, scale: playing.scale };
    this.codec = v.codec === 'h265' ? 'h265' : 'h264';
    if (this.codec === 'h264' && Number(v.fmtp['packetization-mode'] ?? '0') === 2) {
      throw new RtspError('unsupported', 'H.264 interleaved packetization (packetization-mode=2) is not supported natively');
    }
    if (v.framerate && v.framerate > 0 && v.framerate <= 240) this.frameTicks = Math.round(VIDEO_TIMESCALE / v.framerate);
    this.vps = v.vps[0];
    this.sps = v.sps[0];
    this.pps = v.pps[0];
    try {
      this.depack = new VideoDepacketizer(this.codec, (au) => this.onAccessUnit(au), { donl: Number(v.fmtp['sprop-max-don-diff'] ?? '0') > 0 });
    } catch (err) {
      throw new RtspError('unsupported', (err as Error).message);
    }
    if (playing.transport === 'udp') {
      this.reorder = new ReorderBuffer((p) => this.depacketize(p));
      // a gap that does not fill within ~100 ms is loss, not reordering
      let heldBefore = 0;
      this.reorderTimer = setInterval(() => {
        if (this.reorder!.holding && heldBefore) this.reorder!.flush();
        heldBefore = this.reorder!.holding;
      }, 60);
      this.reorderTimer.unref?.();
    }
  }

  get stats(): { packets: number; lost: number; framesDropped: number } {
    return { packets: this.client?.packets ?? 0, lost: this.client?.receiverStats.lost ?? 0, framesDropped: this.depack?.stats.dropped ?? 0 };
  }

  /** TEARDOWN and close. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.reorderTimer);
    this.depack?.reset();
    await this.client?.close();
  }

  private end(err: RtspError): void {
    if (this.stopped || this.ended) return;
    this.ended = true;
    clearInterval(this.reorderTimer);
    this.depack?.reset(); // a frame cut off mid-way is never emitted
    this.o.onEnd(err);
  }

  private onRtp(p: RtpPacket): void {
    if (!this.depack || this.ended || this.stopped) return;
    if (this.reorder) this.reorder.push(p);
    else this.depacketize(p);
  }

  private depacketize(p: RtpPacket): void {
    try {
      this.depack!.push(p);
    } catch (err) {
      const e = err instanceof RtspError ? err : new RtspError(err instanceof UnsupportedStreamError ? 'unsupported' : 'transient', (err as Error).message);
      void this.client?.close();
      this.end(e);
    }
  }

  private onAccessUnit(au: AccessUnit): void {
    if (au.vps) this.vps = au.vps;
    if (au.sps) this.sps = au.sps;
    if (au.pps) this.pps = au.pps;
    if (au.nals.length === 0) return; // parameter sets only
    if (au.key) {
      if (!this.sps || !this.pps || (this.codec === 'h265' && !this.vps)) {
        if (++this.keyframesWithoutParams >= MAX_KEYFRAMES_WITHOUT_PARAMS) {
          throw new UnsupportedStreamError('no parameter sets (SPS/PPS) in the SDP or in the stream');
        }
        return;
      }
      const key = `${this.vps?.toString('base64') ?? ''}/${this.sps.toString('base64')}/${this.pps.toString('base64')}`;
      if (key !== this.initKey) {
        this.o.onInit(this.buildInit());
        this.initKey = key;
      }
    }
    if (!this.initKey) return;
    if (this.origin === undefined) this.origin = au.timestamp;
    if (this.lastTs !== undefined) {
      const d = au.timestamp - this.lastTs;
      if (d < 0) throw new UnsupportedStreamError('frames arrive out of presentation order (B-frames)');
      if (d > 0 && d < VIDEO_TIMESCALE * 5) this.frameTicks = d;
    }
    this.lastTs = au.timestamp;
    this.o.onFragment(buildFragment(++this.sequence, au.timestamp - this.origin, this.frameTicks, au.key, au.nals));
  }

  private buildInit(): InitSegment {
    try {
      if (this.codec === 'h264') {
        const info = parseH264Sps(this.sps!);
        const codec = h264CodecString(info);
        this.codecString = codec;
        return buildInitSegment({ sampleEntry: 'avc1', config: buildAvcC(this.sps!, [this.pps!], info), width: info.width, height: info.height, codec });
      }
      const info = parseH265Sps(this.sps!);
      const codec = h265CodecString(info);
      this.codecString = codec;
      return buildInitSegment({ sampleEntry: 'hvc1', config: buildHvcC([this.vps!], [this.sps!], [this.pps!], info), width: info.width, height: info.height, codec });
    } catch (err) {
      throw new UnsupportedStreamError(`unreadable ${this.codec === 'h264' ? 'H.264' : 'H.265'} SPS: ${(err as Error).message}`);
    }
  }
}
