import type { Logger } from 'pino';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { rtspInputOptions } from '../media-tools/ffmpeg-args.js';
import { RgbDecoder, rgbDecoderArgs, type DecodedFrame, type DecodeRate, type DecoderExit, type RgbDecoderOptions } from '../media-tools/rgb-decoder.js';
import type { RgbFrame } from './types.js';

/** What the engine consumes; ingest's live sampler provides the same shape. */
export interface FrameSource {
  frames(): AsyncIterable<RgbFrame>;
  stop(): Promise<void>;
}

export interface FfmpegFrameSourceOptions {
  cameraId: string;
  /** A local file (tests, bench) or an rtsp:// / rtsps:// URL. Nothing else reaches ffmpeg. */
  input: { kind: 'file'; path: string } | { kind: 'rtsp'; url: string };
  /** Frames per second to sample, or 'keyframes' to decode only keyframes (cheapest on a live stream). */
  rate: DecodeRate;
  /** Optional output size (the sub stream is usually small already). */
  width?: number;
  height?: number;
  /** Timestamp of pts 0 for files (ms since epoch); live streams are stamped with arrival time. */
  baseTs?: number;
  logger: Logger;
  ffmpegPath?: string;
}

/**
 * Decodes a file or an RTSP stream to packed RGB frames (media-tools/rgb-decoder.ts, the decoder ingest's frame tap
 * uses too). Frame times come from the video (showinfo) for files, from arrival for live streams. A file is read
 * with backpressure (every frame is delivered); a live stream drops the oldest frames when the consumer is behind.
 */
export class FfmpegFrameSource implements FrameSource {
  private decoder?: RgbDecoder;
  /** Live frames skipped because the consumer was behind. */
  dropped = 0;
  private readonly log: Logger;

  constructor(private readonly opts: FfmpegFrameSourceOptions) {
    this.log = opts.logger.child({ module: 'analytics.frames', cameraId: opts.cameraId });
  }

  private decoderOptions(): RgbDecoderOptions {
    const o = this.opts;
    const size = o.width && o.height ? { width: o.width, height: o.height } : undefined;
    if (o.input.kind === 'rtsp') {
      if (!/^rtsps?:\/\//i.test(o.input.url)) throw new Error('only rtsp:// and rtsps:// URLs are accepted');
      return { inputOptions: rtspInputOptions(), input: o.input.url, rate: o.rate, size, timestamps: true, vsync: 'cfr' };
    }
    return { inputOptions: ['-protocol_whitelist', 'file'], input: `file:${o.input.path}`, rate: o.rate, size, timestamps: true, vsync: 'cfr' };
  }

  args(): string[] {
    return rgbDecoderArgs(this.decoderOptions());
  }

  async *frames(): AsyncGenerator<RgbFrame> {
    const live = this.opts.input.kind === 'rtsp';
    const queue: DecodedFrame[] = [];
    let exit: DecoderExit | undefined;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const decoder = new RgbDecoder(this.opts.ffmpegPath ?? resolveFfmpeg(), this.decoderOptions(), (f) => {
      queue.push(f);
      // A live consumer that falls behind skips frames: stale frames stamped "now" would lie about time,
      // and pausing the pipe would back up the camera's RTSP session.
      if (live) {
        while (queue.length > 2) {
          queue.shift();
          this.dropped++;
        }
      } else if (queue.length >= 4) decoder.pause();
      notify();
    });
    this.decoder = decoder;
    void decoder.closed.then((e) => {
      exit = e;
      notify();
    });
    const started = Date.now();
    try {
      for (;;) {
        const f = queue.shift();
        if (f) {
          if (queue.length < 2) decoder.resume();
          const ts = live ? Date.now() : (this.opts.baseTs ?? started) + Math.round(f.ptsMs ?? 0);
          yield { cameraId: this.opts.cameraId, ts, width: f.width, height: f.height, rgb: f.rgb };
          continue;
        }
        if (exit) {
          if (exit.error) throw exit.error;
          if (exit.code !== 0 && exit.signal === null && !decoder.stopping) {
            throw new Error(`ffmpeg exited ${exit.code}: ${exit.stderr.trim().split('\n').slice(-3).join(' | ')}`);
          }
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      await this.stop();
    }
  }

  /** q on stdin (RTSP TEARDOWN), SIGTERM after 2 s, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const decoder = this.decoder;
    if (!decoder) return;
    await decoder.stop();
    this.log.debug('ffmpeg stopped');
  }
}
