/**
 * Decoded frames for analytics from the camera's existing pull (decision 1: never a second RTSP connection).
 *
 * For each tapped camera the sub stream session is pinned (SessionManager.pin keeps it on without viewers), and
 * the session's own fMP4 (init segment + every part the LL-HLS muxer receives) is written to a small ffmpeg decoder
 * on stdin (media-tools/rgb-decoder.ts, the decoder analytics' file sources use too), which samples N fps or decodes
 * keyframes only and writes packed RGB (RgbFrame, ts: when the frame came out of the decoder) at the sub stream's
 * size. The RTSP session itself keeps `-c copy`: decoding costs nothing for cameras
 * without rules, and a slow or dead decoder never touches live video.
 *
 * Also the clip source for evidence: the muxer's buffered segments around a moment (init + whole segments).
 */
import { RgbDecoder, type RgbDecoderOptions, type RgbFrame } from '../media-tools/rgb-decoder.js';
import type { CameraSession } from './camera-session.js';
import type { Part, Segment } from './llhls-muxer.js';
import type { Log } from './log.js';
import type { SessionManager } from './session-manager.js';

export type TapRate = { mode: 'fps'; fps: number } | { mode: 'keyframes' };

export interface FrameTapOptions {
  manager: SessionManager;
  ffmpegPath: string;
  logger: Log;
  /** default sampling for taps that name none */
  rate?: TapRate;
  /** re-attach check interval (a session replaced after a camera edit), ms */
  checkEveryMs?: number;
}

type Listener = (f: RgbFrame) => void;

/** The decoder's settings: fMP4 on stdin, raw RGB out. Nothing user-supplied reaches its arguments. */
export function tapDecoder(rate: TapRate, width: number, height: number): RgbDecoderOptions {
  return {
    inputOptions: ['-probesize', '32768', '-analyzeduration', '0', '-fflags', 'nobuffer', '-f', 'mp4'],
    input: 'pipe:0',
    feed: true,
    rate: rate.mode === 'fps' ? rate.fps : 'keyframes',
    size: { width, height },
    vsync: 'vfr',
  };
}

class CameraTap {
  private session?: CameraSession;
  private decoder?: RgbDecoder;
  private initId = -1;
  private needKeyframe = true;
  private size?: { width: number; height: number };
  private readonly onPart = (p: Part) => this.feed(p);
  frames = 0;
  dropped = 0;
  restarts = 0;
  stopped = false;

  constructor(
    readonly cameraId: string,
    readonly rate: TapRate,
    private readonly o: FrameTapOptions,
    private readonly log: Log,
    private readonly emit: (f: RgbFrame) => void,
  ) {}

  get pid(): number | undefined {
    return this.decoder?.pid;
  }

  /** (Re)attach to the camera's current sub session. */
  attach(): void {
    if (this.stopped) return;
    this.o.manager.pin(this.cameraId, 'sub');
    const session = this.o.manager.get(this.cameraId, 'sub');
    if (session === this.session) return;
    this.detachSession();
    this.session = session;
    session?.muxer.on('part', this.onPart);
  }

  private detachSession(): void {
    this.session?.muxer.off('part', this.onPart);
    this.session = undefined;
    this.killDecoder();
  }

  private feed(p: Part): void {
    const muxer = this.session?.muxer;
    if (!muxer || this.stopped) return;
    const track = muxer.trackInfo;
    if (this.initId !== muxer.currentInitId || !this.decoder) {
      // a new init (ffmpeg reconnected, maybe with another size) needs a fresh decoder starting at a keyframe
      if (!p.independent || !track?.width || !track.height) return;
      this.killDecoder();
      this.initId = muxer.currentInitId;
      const init = muxer.getInit(this.initId);
      if (!init) return;
      this.spawnDecoder(track.width, track.height);
      this.write(init);
      this.needKeyframe = false;
    }
    if (this.needKeyframe && !p.independent) return;
    this.needKeyframe = false;
    this.write(p.data);
  }

  private write(buf: Buffer): void {
    const decoder = this.decoder;
    if (!decoder) return;
    // a decoder that cannot keep up loses media, never memory: drop until the next keyframe
    if (decoder.backlog > 4 * 1024 * 1024) {
      this.needKeyframe = true;
      this.dropped++;
      return;
    }
    decoder.write(buf);
  }

  private spawnDecoder(width: number, height: number): void {
    // analytics needs no more than ~640 px: larger sub streams are scaled down (even sizes for rgb24 scalers)
    const scale = Math.min(1, 640 / width);
    const w = Math.max(2, Math.round((width * scale) / 2) * 2);
    const h = Math.max(2, Math.round((height * scale) / 2) * 2);
    this.size = { width: w, height: h };
    const decoder = new RgbDecoder(this.o.ffmpegPath, tapDecoder(this.rate, w, h), (f) => {
      this.frames++;
      this.emit({ cameraId: this.cameraId, ts: Date.now(), width: f.width, height: f.height, rgb: f.rgb });
    });
    this.decoder = decoder;
    this.restarts++;
    void decoder.closed.then(({ code, signal, stderr }) => {
      if (this.decoder !== decoder) return;
      this.decoder = undefined;
      this.initId = -1; // the next keyframe starts another decoder
      if (!this.stopped && code !== 0 && signal === null) this.log.warn({ camera: this.cameraId, code, stderr: stderr.trim().split('\n').slice(-2).join(' | ') }, 'frame decoder exited');
    });
  }

  private killDecoder(): void {
    const decoder = this.decoder;
    this.decoder = undefined;
    this.initId = -1;
    void decoder?.stop();
  }

  stop(): void {
    this.stopped = true;
    this.detachSession();
    this.o.manager.unpin(this.cameraId, 'sub');
  }
}

/**
 * Frame subscriptions over ingest's sessions. `tap(cameraId)` starts sampling a camera (pins its sub stream),
 * `untap` ends it; `onFrame` listeners get every sampled frame of every tapped camera.
 */
export class FrameTap {
  private readonly taps = new Map<string, CameraTap>();
  private readonly listeners = new Set<Listener>();
  private readonly log: Log;
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: FrameTapOptions) {
    this.log = o.logger.child({ module: 'ingest.frames' });
  }

  onFrame(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  tapped(): string[] {
    return [...this.taps.keys()];
  }

  stats(): Array<{ cameraId: string; frames: number; dropped: number; decoderStarts: number; pid?: number }> {
    return [...this.taps.values()].map((t) => ({ cameraId: t.cameraId, frames: t.frames, dropped: t.dropped, decoderStarts: t.restarts, pid: t.pid }));
  }

  /** Start sampling a camera's sub stream (idempotent; a different rate restarts the tap). */
  tap(cameraId: string, rate: TapRate = this.o.rate ?? { mode: 'fps', fps: 1 }): void {
    const existing = this.taps.get(cameraId);
    if (existing && JSON.stringify(existing.rate) === JSON.stringify(rate)) {
      try {
        existing.attach();
      } catch {
        /* limit reached or shutting down: retried on the next tick */
      }
      return;
    }
    existing?.stop();
    const t = new CameraTap(cameraId, rate, this.o, this.log, (f) => {
      for (const fn of this.listeners) {
        try {
          fn(f);
        } catch (err) {
          this.log.error({ err }, 'frame listener failed');
        }
      }
    });
    this.taps.set(cameraId, t);
    try {
      t.attach();
    } catch (err) {
      this.log.warn({ camera: cameraId, err: (err as Error).message }, 'cannot tap camera now; will retry');
    }
    this.timer ??= setInterval(() => {
      for (const tap of this.taps.values()) {
        try {
          tap.attach();
        } catch {
          /* limit reached or shutting down: retried on the next tick */
        }
      }
    }, this.o.checkEveryMs ?? 5000);
    this.timer.unref();
  }

  untap(cameraId: string): void {
    this.taps.get(cameraId)?.stop();
    this.taps.delete(cameraId);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.taps.values()) t.stop();
    this.taps.clear();
  }

  /**
   * The buffered fMP4 around `ts` (ms): whole segments from `beforeMs` before to `afterMs` after, waiting up to
   * `afterMs` + a little for the post-roll to arrive. Null when the camera has nothing buffered.
   */
  async clip(cameraId: string, ts: number, opts: { beforeMs?: number; afterMs?: number } = {}): Promise<{ init: Buffer; segments: Buffer[] } | null> {
    const before = opts.beforeMs ?? 5000;
    const after = opts.afterMs ?? 3000;
    const session = this.o.manager.get(cameraId, 'sub') ?? this.o.manager.get(cameraId, 'main');
    if (!session) return null;
    const muxer = session.muxer;
    await muxer.waitUntil(() => {
      const last = muxer.range && muxer.getSegment(muxer.lastCompleteMsn);
      return !!last && last.programDateTime + last.duration * 1000 >= ts + after;
    }, after + 3000);
    const range = muxer.range;
    if (!range) return null;
    const picked: Segment[] = [];
    for (let msn = range.first; msn <= range.last; msn++) {
      const seg = muxer.getSegment(msn);
      if (!seg || !seg.complete || seg.parts.length === 0) continue;
      const start = seg.programDateTime;
      const end = start + seg.duration * 1000;
      if (end < ts - before || start > ts + after) continue;
      picked.push(seg);
    }
    if (!picked.length) return null;
    // one init per clip: keep the segments of the init in force at the moment itself
    const initId = (picked.find((s) => s.programDateTime <= ts && s.programDateTime + s.duration * 1000 >= ts) ?? picked[picked.length - 1]).initId;
    const same = picked.filter((s) => s.initId === initId);
    const init = muxer.getInit(initId);
    if (!init) return null;
    return { init, segments: same.map((s) => Buffer.concat(s.parts.map((p) => p.data))) };
  }
}
