/**
 * Decoded frames for analytics from the camera's existing pull (decision 1: never a second RTSP connection).
 *
 * For each tapped camera the sub stream session is pinned (SessionManager.pin keeps it on without viewers), and
 * the session's own fMP4 (init segment + every part the LL-HLS muxer receives) is written to a small ffmpeg decoder
 * on stdin, which samples N fps (`-vf fps=N`) or decodes keyframes only (`-skip_frame nokey`) and writes packed RGB
 * at the sub stream's size to stdout. The RTSP session itself keeps `-c copy`: decoding costs nothing for cameras
 * without rules, and a slow or dead decoder never touches live video.
 *
 * Also the clip source for evidence: the muxer's buffered segments around a moment (init + whole segments).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { CameraSession } from './camera-session.js';
import type { Part, Segment } from './llhls-muxer.js';
import type { Log } from './log.js';
import type { SessionManager } from './session-manager.js';

export interface TapFrame {
  cameraId: string;
  /** wall-clock ms when the frame came out of the decoder */
  ts: number;
  width: number;
  height: number;
  rgb: Buffer;
}

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

type Listener = (f: TapFrame) => void;

/** ffmpeg arguments of the decoder: fMP4 on stdin, raw RGB on stdout. Nothing user-supplied reaches them. */
export function tapArgs(rate: TapRate, width: number, height: number): string[] {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-probesize', '32768', '-analyzeduration', '0', '-fflags', 'nobuffer'];
  if (rate.mode === 'keyframes') args.push('-skip_frame', 'nokey');
  args.push('-f', 'mp4', '-i', 'pipe:0', '-an', '-sn', '-dn');
  const filters: string[] = [];
  if (rate.mode === 'fps') filters.push(`fps=${rate.fps}`);
  filters.push(`scale=${width}:${height}`);
  // -vsync (not -fps_mode): the npm-shipped ffmpeg 4.1 predates -fps_mode.
  args.push('-vf', filters.join(','), '-vsync', rate.mode === 'fps' ? 'vfr' : 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  return args;
}

class CameraTap {
  private session?: CameraSession;
  private child?: ChildProcessWithoutNullStreams;
  private initId = -1;
  private needKeyframe = true;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
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
    private readonly emit: (f: TapFrame) => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
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
    if (this.initId !== muxer.currentInitId || !this.child) {
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
    const child = this.child;
    if (!child) return;
    // a decoder that cannot keep up loses media, never memory: drop until the next keyframe
    if (child.stdin.writableLength > 4 * 1024 * 1024) {
      this.needKeyframe = true;
      this.dropped++;
      return;
    }
    child.stdin.write(buf);
  }

  private spawnDecoder(width: number, height: number): void {
    // analytics needs no more than ~640 px: larger sub streams are scaled down (even sizes for rgb24 scalers)
    const scale = Math.min(1, 640 / width);
    const w = Math.max(2, Math.round((width * scale) / 2) * 2);
    const h = Math.max(2, Math.round((height * scale) / 2) * 2);
    this.size = { width: w, height: h };
    const frameBytes = w * h * 3;
    const child = spawn(this.o.ffmpegPath, tapArgs(this.rate, w, h), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.restarts++;
    child.stdin.on('error', () => {}); // EPIPE when the decoder already quit
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    this.pending = [];
    this.pendingBytes = 0;
    child.stdout.on('data', (d: Buffer) => {
      this.pending.push(d);
      this.pendingBytes += d.length;
      while (this.pendingBytes >= frameBytes) {
        const all = Buffer.concat(this.pending);
        const rgb = Buffer.from(all.subarray(0, frameBytes));
        const rest = all.subarray(frameBytes);
        this.pending = rest.length ? [rest] : [];
        this.pendingBytes = rest.length;
        this.frames++;
        this.emit({ cameraId: this.cameraId, ts: Date.now(), width: w, height: h, rgb });
      }
    });
    child.once('close', (code, signal) => {
      if (this.child === child) {
        this.child = undefined;
        this.initId = -1; // the next keyframe starts another decoder
        if (!this.stopped && code !== 0 && signal === null) this.log.warn({ camera: this.cameraId, code, stderr: stderr.trim().split('\n').slice(-2).join(' | ') }, 'frame decoder exited');
      }
    });
  }

  private killDecoder(): void {
    const child = this.child;
    this.child = undefined;
    this.initId = -1;
    if (!child) return;
    child.stdin.end();
    const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
    kill.unref();
    child.once('exit', () => clearTimeout(kill));
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
