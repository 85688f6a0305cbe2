/**
 * The H.264 rendition of a stream a browser cannot play (an H.265 camera without an H.264 sub stream): the session's
 * own fMP4 (its init segment and every part its LL-HLS muxer receives, from the newest keyframe on) is written to one
 * ffmpeg (libx264 veryfast/zerolatency, the source's GOP: media-tools/ffmpeg-args.ts transcodeH264Args) on stdin —
 * never a second camera pull — and ffmpeg's per-frame fMP4 goes into an LL-HLS muxer of its own, served from the
 * session's directory with URIs prefixed `tc-` (like the keyframe rendition's `kf-`).
 *
 * A transcode costs a CPU core's share, so a node runs at most `maxSessions` of them (TRANSCODE_MAX_SESSIONS, default
 * 4): past it a request is refused with a TranscodeBudgetError (→ 503, {zh, en}, reason `transcode_budget`) and the
 * tile says why. A transcode nobody asked for in `idleMs` (its last viewer left) stops and frees its place; so does
 * one whose session stops.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { transcodeH264Args } from '../media-tools/ffmpeg-args.js';
import type { CameraSession } from './camera-session.js';
import { Fmp4Parser } from './fmp4.js';
import { LlhlsMuxer, type Part } from './llhls-muxer.js';
import type { Log } from './log.js';

export const TRANSCODE_PREFIX = 'tc-';
/** the transcode's picture is at most this wide (720p class): enough for a tile, a bounded CPU cost */
export const TRANSCODE_MAX_WIDTH = 1280;
/** a stdin backlog beyond this (ffmpeg cannot keep up) drops media until the next keyframe, never memory */
const MAX_BACKLOG = 4 * 1024 * 1024;

export class TranscodeBudgetError extends Error {
  readonly statusCode = 503;
  readonly reason = 'transcode_budget';
  readonly zh: string;
  readonly en: string;
  constructor(readonly limit: number) {
    const en = limit === 0
      ? 'this browser cannot play H.265 and transcoding is switched off on this node (TRANSCODE_MAX_SESSIONS=0)'
      : `this browser cannot play H.265 and this node already runs its ${limit} transcodes (TRANSCODE_MAX_SESSIONS); try again later`;
    const zh = limit === 0 ? '浏览器不支持 H.265，本节点未开启转码' : `浏览器不支持 H.265，转码名额已满（${limit} 路）`;
    super(`${zh} / ${en}`);
    this.name = 'TranscodeBudgetError';
    this.zh = zh;
    this.en = en;
  }
}

export interface TranscoderOptions {
  ffmpegPath: string;
  logger: Log;
  /** transcodes this node runs at once (0: none) */
  maxSessions: number;
  /** a transcode with no request for this long stops (ms) */
  idleMs: number;
}

/** One running transcode of one session. */
export class TranscodeRendition {
  readonly muxer: LlhlsMuxer;
  lastUsed = Date.now();
  private child?: ChildProcessWithoutNullStreams;
  private initId = -1;
  private needKeyframe = true;
  private stopped = false;
  private starts = 0;
  private readonly onPart = (p: Part) => this.feed(p);
  /** parts dropped because ffmpeg fell behind */
  dropped = 0;
  /** why the last ffmpeg ended, when it was not asked to */
  lastError?: string;
  /** called once by stop() */
  onStop?: () => void;
  /** encoders in a row that ended without output: the next one waits (1 s, 2 s, … 30 s), never a spawn per keyframe */
  private failures = 0;
  private retryAt = 0;

  constructor(readonly session: CameraSession, private readonly o: TranscoderOptions, private readonly log: Log) {
    const src = session.muxer.opts;
    // time-based like a session's: a later transcode of the same stream never reuses an earlier one's URIs
    this.muxer = new LlhlsMuxer({ firstMsn: Math.floor((Date.now() - 1.7e12) / 100), partTargetS: src.partTargetS, windowSegments: src.windowSegments, maxBytes: Math.min(src.maxBytes, 16 * 1024 * 1024), uriPrefix: TRANSCODE_PREFIX });
    for (const p of session.muxer.partsFromLatestKeyframe()) this.feed(p);
    session.muxer.on('part', this.onPart);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }
  get ffmpegStarts(): number {
    return this.starts;
  }

  private feed(p: Part): void {
    if (this.stopped) return;
    const src = this.session.muxer;
    if (this.initId !== src.currentInitId || !this.child) {
      // a new init (the camera reconnected, maybe at another size) or no encoder yet: a fresh ffmpeg from a keyframe
      if (!p.independent || Date.now() < this.retryAt) return;
      const init = src.getInit(src.currentInitId);
      if (!init) return;
      this.spawn();
      this.initId = src.currentInitId;
      this.child!.stdin.write(init);
      this.needKeyframe = false;
    }
    if (this.needKeyframe && !p.independent) return;
    if (this.child!.stdin.writableLength > MAX_BACKLOG) {
      this.needKeyframe = true;
      this.dropped++;
      return;
    }
    this.needKeyframe = false;
    this.child!.stdin.write(p.data);
  }

  private spawn(): void {
    this.kill();
    const stats = this.session.stats;
    const fps = stats.fps && stats.fps > 0 && stats.fps <= 120 ? stats.fps : 25;
    const gopS = stats.keyframeIntervalS && stats.keyframeIntervalS >= 0.1 && stats.keyframeIntervalS <= 10 ? stats.keyframeIntervalS : 1;
    const args = transcodeH264Args({ gopFrames: fps * gopS, maxWidth: TRANSCODE_MAX_WIDTH });
    const child = spawn(this.o.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.child = child;
    this.starts++;
    this.log.info({ pid: child.pid, fps, gopS }, 'transcode started');
    let output = false;
    const parser = new Fmp4Parser({
      onInit: (init) => this.muxer.setInit(init),
      onFragment: (f) => {
        if (!output) { output = true; this.failures = 0; }
        this.muxer.pushFragment(f);
      },
    });
    let stderr = '';
    child.stdin.on('error', () => {}); // EPIPE when ffmpeg already quit
    child.stdout.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (err) {
        this.lastError = `bad data from ffmpeg: ${(err as Error).message}`;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString('utf8')).slice(-2000); });
    child.once('error', (err) => { this.lastError = err.message; });
    child.once('close', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.initId = -1; // the next keyframe starts another encoder
      this.muxer.endOfStream();
      if (this.stopped) return;
      this.lastError = stderr.trim().split('\n').slice(-2).join(' | ') || `ffmpeg exited (${signal ?? `code ${code}`})`;
      if (!output) {
        this.failures++;
        this.retryAt = Date.now() + Math.min(30_000, 1000 * 2 ** (this.failures - 1));
      }
      this.log.warn({ code, signal, stderr: this.lastError, failures: this.failures }, 'transcode ffmpeg exited');
    });
  }

  private kill(): void {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    t.unref();
    child.once('close', () => clearTimeout(t));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.session.muxer.off('part', this.onPart);
    this.kill();
    this.muxer.close();
    this.onStop?.();
  }
}

/** The node's transcodes: at most one per session, at most maxSessions in all, each stopped when idle. */
export class Transcoder {
  private readonly running = new Map<CameraSession, TranscodeRendition>();
  private readonly log: Log;
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: TranscoderOptions) {
    this.log = o.logger.child({ module: 'ingest.transcode' });
  }

  get limit(): number {
    return this.o.maxSessions;
  }
  get size(): number {
    return this.running.size;
  }

  get(session: CameraSession): TranscodeRendition | undefined {
    return this.running.get(session);
  }

  /** The session's transcode, started if needed (counts as a request: keeps it from idling). Throws TranscodeBudgetError. */
  rendition(session: CameraSession): LlhlsMuxer {
    let t = this.running.get(session);
    if (!t) {
      if (this.running.size >= this.o.maxSessions) {
        this.log.warn({ limit: this.o.maxSessions, camera: session.cameraId }, 'transcode budget full');
        throw new TranscodeBudgetError(this.o.maxSessions);
      }
      t = new TranscodeRendition(session, this.o, this.log.child({ camera: session.cameraId, stream: session.stream }));
      this.running.set(session, t);
      // the session stopped (idle, camera deleted, lease lost): its transcode goes with it
      const onState = () => {
        if (!session.running && this.running.get(session) === t) this.end(session, 'session stopped');
      };
      session.on('state', onState);
      t.onStop = () => session.off('state', onState);
      this.arm();
    }
    t.lastUsed = Date.now();
    return t.muxer;
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const [s, t] of this.running) {
        if (now - t.lastUsed > this.o.idleMs) this.end(s, 'no viewer');
        else if (!s.running) this.end(s, 'session stopped');
      }
      if (!this.running.size) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }, Math.max(200, Math.min(1000, this.o.idleMs / 4)));
    this.timer.unref();
  }

  private end(session: CameraSession, why: string): void {
    const t = this.running.get(session);
    if (!t) return;
    this.running.delete(session);
    this.log.info({ camera: session.cameraId, stream: session.stream, why }, 'transcode stopped');
    t.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const s of [...this.running.keys()]) this.end(s, 'node stopping');
  }
}
