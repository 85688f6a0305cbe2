import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
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
  rate: number | 'keyframes';
  /** Optional output size (the sub stream is usually small already). */
  width?: number;
  height?: number;
  /** Timestamp of pts 0 for files (ms since epoch); live streams are stamped with arrival time. */
  baseTs?: number;
  logger: Logger;
  ffmpegPath?: string;
}

const SHOWINFO = /Parsed_showinfo.*?pts_time:\s*(-?[\d.]+).*?\bs:(\d+)x(\d+)/;

/**
 * Decodes a file or an RTSP stream to packed RGB frames with ffmpeg (argument array, no shell). Frame
 * times and sizes come from the showinfo filter on stderr, paired in order with the raw frames on stdout.
 * A file is read with backpressure (every frame is delivered); a live stream drops the oldest frames when
 * the consumer is behind.
 */
export class FfmpegFrameSource implements FrameSource {
  private child: ChildProcess | null = null;
  /** Live frames skipped because the consumer was behind. */
  dropped = 0;
  private readonly log: Logger;

  constructor(private readonly opts: FfmpegFrameSourceOptions) {
    this.log = opts.logger.child({ module: 'analytics.frames', cameraId: opts.cameraId });
  }

  args(): string[] {
    const o = this.opts;
    const args = ['-hide_banner', '-loglevel', 'info'];
    if (o.input.kind === 'rtsp') {
      if (!/^rtsps?:\/\//i.test(o.input.url)) throw new Error('only rtsp:// and rtsps:// URLs are accepted');
      args.push('-protocol_whitelist', 'rtsp,rtsps,tcp,udp,tls,rtp', '-rtsp_transport', 'tcp');
    } else {
      args.push('-protocol_whitelist', 'file');
    }
    if (o.rate === 'keyframes') args.push('-skip_frame', 'nokey');
    args.push('-i', o.input.kind === 'rtsp' ? o.input.url : `file:${o.input.path}`);
    const filters: string[] = [];
    if (typeof o.rate === 'number') filters.push(`fps=${o.rate}`);
    if (o.width && o.height) filters.push(`scale=${o.width}:${o.height}`);
    filters.push('showinfo');
    // -vsync (not -fps_mode): the npm-shipped ffmpeg 4.1 predates -fps_mode.
    args.push('-an', '-sn', '-vf', filters.join(','), '-vsync', typeof o.rate === 'number' ? 'cfr' : 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
    return args;
  }

  async *frames(): AsyncGenerator<RgbFrame> {
    const child = spawn(this.opts.ffmpegPath ?? resolveFfmpeg(), this.args(), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    // ffmpeg may close stdin before we send 'q' (it is exiting anyway): EPIPE there is not an error.
    child.stdin!.on('error', () => {});
    const infos: { ptsMs: number; width: number; height: number }[] = [];
    const chunks: Buffer[] = [];
    let buffered = 0;
    let ended = false;
    let failure: Error | null = null;
    let stderrTail = '';
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const take = (n: number): Buffer => {
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      chunks.length = 0;
      const out = Buffer.from(all.subarray(0, n));
      if (all.length > n) chunks.push(all.subarray(n));
      buffered = all.length - n;
      return out;
    };
    const live = this.opts.input.kind === 'rtsp';
    let pending = '';
    child.stderr!.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = SHOWINFO.exec(line);
        if (m) infos.push({ ptsMs: Number(m[1]) * 1000, width: Number(m[2]), height: Number(m[3]) });
        else stderrTail = (stderrTail + line + '\n').slice(-2000);
      }
      notify();
    });
    child.stdout!.on('data', (d: Buffer) => {
      // While stopping, drain and drop: a paused pipe would keep ffmpeg from exiting.
      if (this.stopping) return;
      chunks.push(d);
      buffered += d.length;
      const frameBytes = infos[0] ? infos[0].width * infos[0].height * 3 : 1 << 20;
      if (live) {
        // A live consumer that falls behind skips frames: stale frames stamped "now" would lie about time,
        // and pausing the pipe would back up the camera's RTSP session.
        while (infos.length > 1 && buffered >= 3 * frameBytes) {
          take(frameBytes);
          infos.shift();
          this.dropped++;
        }
      } else if (buffered > 4 * frameBytes) child.stdout!.pause();
      notify();
    });
    child.on('error', (err) => {
      failure = err;
      notify();
    });
    child.on('close', (code, signal) => {
      ended = true;
      if (code !== 0 && signal === null && !this.stopping) failure = new Error(`ffmpeg exited ${code}: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
      notify();
    });
    const started = Date.now();
    try {
      for (;;) {
        const info = infos[0];
        const need = info ? info.width * info.height * 3 : Infinity;
        if (info && buffered >= need) {
          infos.shift();
          const rgb = take(need);
          if (child.stdout!.isPaused() && buffered < 2 * need) child.stdout!.resume();
          const ts = this.opts.input.kind === 'rtsp' ? Date.now() : (this.opts.baseTs ?? started) + Math.round(info.ptsMs);
          yield { cameraId: this.opts.cameraId, ts, width: info.width, height: info.height, rgb };
          continue;
        }
        if (failure) throw failure;
        if (ended) {
          // stdout and stderr may still hold the last frame after 'close' fired; one more pass handles it.
          if (info && buffered >= need) continue;
          return;
        }
        if (child.stdout!.isPaused()) child.stdout!.resume();
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      await this.stop();
    }
  }

  private stopping = false;

  /** q on stdin (RTSP TEARDOWN), SIGTERM after 2 s, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.stopping = true;
    await new Promise<void>((resolve) => {
      const term = setTimeout(() => child.kill('SIGTERM'), 2000);
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      // 'exit', not 'close': close also waits for stdio, which a consumer may have left unread.
      child.once('exit', () => {
        clearTimeout(term);
        clearTimeout(kill);
        resolve();
      });
      try {
        child.stdin?.end('q');
      } catch {
        child.kill('SIGTERM');
      }
      child.stdout?.resume();
    });
    this.log.debug('ffmpeg stopped');
  }
}
