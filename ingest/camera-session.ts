/**
 * One RTSP pull for one camera stream, supervised: state machine, watchdog, reconnect with backoff and jitter,
 * clean stop, stats. Two engines produce the same fMP4 init segment and per-frame fragments for this session's
 * LL-HLS muxer: `native` (in process: media/native-pull.ts, the default) and `ffmpeg` (one `-c copy` process; stop is
 * q → SIGTERM → SIGKILL), kept for cameras the native client cannot handle — chosen per camera, and taken
 * automatically (logged, with the reason) when the native client meets something it does not support.
 * Nothing here blocks: a dead, stalled or slow camera only affects itself.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { buildIngestArgs, buildPipeIngestArgs } from './ffmpeg-args.js';
import { isPipeSource, PipeOpenError, type PipeFeed, type PipeSource } from './pipe-source.js';
import { Fmp4Parser, type Fragment, type InitSegment } from './fmp4.js';
import { KeyframeRendition } from './keyframe-rendition.js';
import { LlhlsMuxer, type LlhlsMuxerOptions } from './llhls-muxer.js';
import type { Log } from './log.js';
import { InvalidCameraUrlError, redactText, validateRtspUrl, type MediaEngine, type RtspSource } from './rtsp-url.js';
import { NativePull, RtspError } from '../media/native-pull.js';
import type { RtpTransport } from '../media/rtsp/client.js';

export type CameraState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'offline' | 'auth_failed' | 'error';
export type StreamKind = 'main' | 'sub';

export interface SessionStats {
  codec?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
  keyframeIntervalS?: number;
  /** ISO time of the last fragment received */
  lastFrameAt?: string;
  restarts: number;
  /** bytes of media held in memory for LL-HLS */
  heldBytes: number;
  /** the engine pulling now (native, or ffmpeg by choice or by fallback) */
  engine?: MediaEngine;
  /** why the native engine was given up for this stream */
  fallbackReason?: string;
}

export interface StateChange {
  state: CameraState;
  reason: string | null;
  previous: CameraState;
}

export interface CameraSessionOptions {
  cameraId: string;
  stream: StreamKind;
  /**
   * where to pull from; called at every (re)connect so that edited URLs and credentials take effect. A PipeSource
   * (GB/T 28181) is opened at every (re)connect instead (a new INVITE) and fed to ffmpeg's stdin.
   */
  getSource: () => Promise<RtspSource | PipeSource>;
  ffmpegPath: string;
  logger: Log;
  /** no data for this long while live → restart (ms) */
  watchdogMs?: number;
  /** no video this long after spawning → restart (ms) */
  connectTimeoutMs?: number;
  /** reconnect delays; the last repeats */
  backoffMs?: number[];
  /** ± fraction of random jitter on each delay */
  jitter?: number;
  /** a session live at least this long starts its backoff from the beginning again (ms) */
  stableAfterMs?: number;
  /** stop: `q` first, SIGTERM after termAfterMs, SIGKILL after killAfterMs (both from the start of the stop) */
  termAfterMs?: number;
  killAfterMs?: number;
  /** initial ffmpeg probe size in bytes (raised automatically when a camera needs more) */
  probeSize?: number;
  muxer?: LlhlsMuxerOptions;
  /** engine for sources that name none (the camera's setting wins) */
  engine?: MediaEngine;
  /** native engine: how RTP travels (tcp interleaved, udp, or auto = udp then tcp) */
  rtpTransport?: RtpTransport;
}

export const DEFAULT_BACKOFF_MS = [1000, 1000, 1000, 1000, 1000, 5000, 10000, 60000];

type FailureClass = 'auth' | 'network' | 'fatal' | 'transient';

/** What ffmpeg's stderr says about a failed connection, in words for an operator. */
export function classifyFfmpegError(stderr: string): { kind: FailureClass; reason: string } | undefined {
  const s = stderr;
  if (/401 Unauthorized|403 Forbidden|authorization failed/i.test(s)) return { kind: 'auth', reason: 'the camera refused the user name or password (401 Unauthorized)' };
  if (/Connection refused/i.test(s)) return { kind: 'network', reason: 'connection refused (camera or RTSP service down)' };
  if (/timed out|Operation timed out/i.test(s)) return { kind: 'network', reason: 'connection timed out' };
  if (/No route to host|Network is unreachable|Host is unreachable/i.test(s)) return { kind: 'network', reason: 'camera unreachable (no route to host)' };
  if (/Name or service not known|Temporary failure in name resolution|getaddrinfo|Could not resolve/i.test(s)) return { kind: 'network', reason: 'camera host name does not resolve' };
  if (/404 Not Found|454 Session Not Found/i.test(s)) return { kind: 'fatal', reason: 'stream path not found on the camera (404)' };
  if (/Protocol not on whitelist|not on whitelist/i.test(s)) return { kind: 'fatal', reason: 'refused: protocol not allowed' };
  if (/Output file #0 does not contain any stream|matches no streams|Stream map .* matches no/i.test(s)) return { kind: 'fatal', reason: 'the stream has no video' };
  if (/Connection reset by peer|Broken pipe|End of file/i.test(s)) return { kind: 'transient', reason: 'the camera closed the connection' };
  if (/Invalid data found|could not find codec parameters|Unsupported/i.test(s)) return { kind: 'transient', reason: 'unreadable stream from the camera' };
  return undefined;
}

interface Recent {
  at: number;
  decodeTime: number;
  duration: number;
  bytes: number;
  samples: number;
  independent: boolean;
}

export class CameraSession extends EventEmitter {
  readonly cameraId: string;
  readonly stream: StreamKind;
  readonly muxer: LlhlsMuxer;
  private readonly o: Required<Omit<CameraSessionOptions, 'muxer' | 'getSource' | 'logger'>> & Pick<CameraSessionOptions, 'muxer' | 'getSource'>;
  private readonly log: Log;
  private _state: CameraState = 'idle';
  private _reason: string | null = null;
  private child?: ChildProcessWithoutNullStreams;
  /** the pushed stream feeding the running ffmpeg (pipe sources only) */
  private feed?: PipeFeed;
  private childExited?: Promise<void>;
  private started = false;
  private stopping?: Promise<void>;
  private reconnectTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private failures = 0;
  private everLive = false;
  private liveSince = 0;
  private lastDataAt = 0;
  private spawnedAt = 0;
  private gotMedia = false;
  private killReason?: string;
  private stderrTail: string[] = [];
  private secrets: (string | undefined)[] = [];
  private recent: Recent[] = [];
  private lastFragmentAt = 0;
  private restarts = 0;
  private lastKeyframeTime?: number;
  private keyframeInterval?: number;
  private probeSize: number;
  private native?: NativePull;
  private engineNow?: MediaEngine;
  /** set when the native engine met something unsupported: this session uses ffmpeg from then on */
  private fallbackReason?: string;
  private kf?: KeyframeRendition;
  private currentInit?: InitSegment;

  constructor(opts: CameraSessionOptions) {
    super();
    this.cameraId = opts.cameraId;
    this.stream = opts.stream;
    this.o = {
      watchdogMs: 10_000,
      connectTimeoutMs: 15_000,
      backoffMs: DEFAULT_BACKOFF_MS,
      jitter: 0.2,
      stableAfterMs: 30_000,
      termAfterMs: 2000,
      killAfterMs: 5000,
      probeSize: 4096,
      engine: 'native',
      rtpTransport: 'tcp',
      ...opts,
    } as CameraSession['o'];
    this.log = opts.logger.child({ module: 'ingest', camera: opts.cameraId, stream: opts.stream });
    this.probeSize = this.o.probeSize;
    // deciseconds since 2023-11: later sessions always start above earlier ones (segments are ≥ ~1 s)
    this.muxer = new LlhlsMuxer({ firstMsn: Math.floor((Date.now() - 1.7e12) / 100), ...opts.muxer });
  }

  /**
   * The keyframe-only rendition of this stream, made on first use (a wall tile asked for it) from the keyframes the
   * window still holds, then fed with every new keyframe.
   */
  keyframes(): LlhlsMuxer {
    if (!this.kf) {
      this.kf = new KeyframeRendition({ firstMsn: this.muxer.opts.firstMsn, gopS: this.keyframeInterval });
      this.kf.seed(this.currentInit, this.muxer.keyframeParts());
    }
    return this.kf.muxer;
  }

  /** the keyframe-only rendition if someone asked for it (diagnostics, tests) */
  get keyframeRendition(): KeyframeRendition | undefined {
    return this.kf;
  }

  private onInit(init: InitSegment): void {
    this.currentInit = init;
    this.muxer.setInit(init);
    this.kf?.setInit(init);
  }

  get state(): CameraState {
    return this._state;
  }
  get reason(): string | null {
    return this._reason;
  }
  /** pid of the running ffmpeg (tests, diagnostics) */
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get running(): boolean {
    return this.started && !this.stopping;
  }

  /** the engine of the current (or last) pull */
  get engine(): MediaEngine | undefined {
    return this.engineNow;
  }

  get stats(): SessionStats {
    const t = this.muxer.trackInfo;
    const s: SessionStats = { restarts: this.restarts, heldBytes: this.muxer.heldBytes, engine: this.engineNow };
    if (this.fallbackReason) s.fallbackReason = this.fallbackReason;
    if (t) {
      s.codec = t.codec;
      s.width = t.width;
      s.height = t.height;
    }
    if (this.recent.length >= 2) {
      const dur = this.recent.reduce((a, r) => a + r.duration, 0);
      if (dur > 0) {
        s.fps = Math.round((this.recent.reduce((a, r) => a + r.samples, 0) / dur) * 100) / 100;
        s.bitrateKbps = Math.round((this.recent.reduce((a, r) => a + r.bytes, 0) * 8) / dur / 1000);
      }
    }
    if (this.keyframeInterval !== undefined) s.keyframeIntervalS = Math.round(this.keyframeInterval * 1000) / 1000;
    if (this.lastFragmentAt) s.lastFrameAt = new Date(this.lastFragmentAt).toISOString();
    return s;
  }

  /** Start pulling (idempotent). */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.setState('connecting', null);
    const tick = Math.max(100, Math.min(1000, Math.floor(Math.min(this.o.watchdogMs, this.o.connectTimeoutMs) / 4)));
    this.watchdog = setInterval(() => this.checkWatchdog(), tick);
    void this.connect();
  }

  /** Resolve when the first part is available (or false after the timeout / on stop). */
  async waitForMedia(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return (await this.muxer.waitUntil(() => this.muxer.hasMedia, timeoutMs, signal)) === 'ok';
  }

  /** Stop: `q` (RTSP TEARDOWN), SIGTERM after 2 s, SIGKILL after 5 s. Idempotent; resolves when ffmpeg is gone. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      clearTimeout(this.reconnectTimer);
      clearInterval(this.watchdog);
      await this.terminate(true);
      this.muxer.close();
      this.kf?.close();
      this.setState('idle', null);
      this.removeAllListeners('part');
    })();
    return this.stopping;
  }

  /** End the running pull and reconnect now (e.g. the camera's URL was edited). */
  async restart(reason = 'restart requested'): Promise<void> {
    if (!this.running || (!this.child && !this.native)) return;
    this.killReason = reason;
    await this.terminate(false);
  }

  private setState(state: CameraState, reason: string | null): void {
    if (state === this._state && reason === this._reason) return;
    const previous = this._state;
    this._state = state;
    this._reason = reason;
    if (state !== previous) this.log.info({ state, reason, previous }, 'camera state');
    this.emit('state', { state, reason, previous } satisfies StateChange);
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    let src: RtspSource | PipeSource;
    let args: string[];
    let feed: PipeFeed | undefined;
    try {
      src = await this.o.getSource();
      if (this.stopping) return;
      // a GB/T 28181 channel's pushed stream always goes through ffmpeg (-c copy) until the native muxer takes access units
      if (!isPipeSource(src) && !this.fallbackReason && (src.engine ?? this.o.engine) === 'native') {
        // the same URL rules as for ffmpeg: rtsp:// or rtsps:// with a sane host, nothing else is ever opened
        this.connectNative({ ...validateRtspUrl(src.url, { username: src.username, password: src.password }), engine: src.engine });
        return;
      }
      args = isPipeSource(src) ? buildPipeIngestArgs(src.format) : buildIngestArgs(src, { probeSize: this.probeSize });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // a name that does not resolve now may resolve later (the source resolves it to check CAMERA_NETWORKS)
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return this.fail({ kind: 'network', reason: 'camera host name does not resolve' });
      const reason = err instanceof InvalidCameraUrlError ? err.message : `no usable stream URL: ${(err as Error).message}`;
      this.fail({ kind: 'fatal', reason });
      return;
    }
    if (isPipeSource(src)) {
      this.spawnedAt = Date.now();
      try {
        feed = await src.open();
      } catch (err) {
        this.fail({ kind: err instanceof PipeOpenError ? err.kind : 'network', reason: (err as Error).message });
        return;
      }
      if (this.stopping) {
        await feed.close();
        return;
      }
      this.secrets = [];
    } else this.secrets = [src.password, src.username && src.username.length >= 3 ? src.username : undefined];
    this.stderrTail = [];
    this.killReason = undefined;
    this.gotMedia = false;
    this.spawnedAt = this.lastDataAt = Date.now();
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(this.o.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    } catch (err) {
      this.fail({ kind: 'fatal', reason: `ffmpeg could not be started: ${(err as Error).message}` });
      return;
    }
    this.child = child;
    this.engineNow = 'ffmpeg';
    this.log.debug({ pid: child.pid }, 'ffmpeg started');
    if (feed) {
      this.feed = feed;
      feed.readable.on('error', (err) => {
        this.killReason = err.message;
        child.kill('SIGKILL');
      });
      // the sender ended the stream (GB: BYE): ffmpeg sees EOF, exits, and the session reconnects with backoff
      feed.readable.pipe(child.stdin);
    }
    const parser = new Fmp4Parser({
      onInit: (init) => this.onInit(init),
      onFragment: (f) => this.onFragment(f),
    });
    child.stdin.on('error', () => {}); // EPIPE when ffmpeg already quit
    child.stdout.on('data', (chunk: Buffer) => {
      this.lastDataAt = Date.now();
      try {
        parser.push(chunk);
      } catch (err) {
        this.killReason = `bad data from ffmpeg: ${(err as Error).message}`;
        child.kill('SIGKILL');
      }
    });
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const lines = text.split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.onStderrLine(line);
      if (partial.length > 4096) partial = partial.slice(-4096);
    });
    this.childExited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        if (done) return;
        done = true;
        if (partial) this.onStderrLine(partial);
        resolve();
        this.onExit(child, code, signal, spawnError);
      };
      child.once('error', (err) => finish(null, null, err));
      child.once('close', (code, signal) => finish(code, signal));
    });
  }

  private connectNative(src: RtspSource): void {
    this.secrets = [src.password, src.username && src.username.length >= 3 ? src.username : undefined];
    this.killReason = undefined;
    this.gotMedia = false;
    this.spawnedAt = this.lastDataAt = Date.now();
    this.engineNow = 'native';
    const pull: NativePull = new NativePull({
      source: src,
      transport: this.o.rtpTransport,
      connectTimeoutMs: Math.min(10_000, this.o.connectTimeoutMs),
      requestTimeoutMs: Math.min(10_000, this.o.connectTimeoutMs),
      onInit: (init) => this.onInit(init),
      onFragment: (f) => this.onFragment(f),
      onData: () => (this.lastDataAt = Date.now()),
      onEnd: (err) => this.onNativeEnd(pull, err),
      onInfo: (msg, detail) => this.log.info({ ...detail }, msg),
    });
    this.native = pull;
    pull.start().then(
      () => this.log.debug({ transport: pull.transport }, 'native pull playing'),
      (err: unknown) => {
        void pull.stop();
        this.onNativeEnd(pull, err instanceof RtspError ? err : new RtspError('transient', (err as Error).message));
      },
    );
  }

  private onNativeEnd(pull: NativePull, err: RtspError): void {
    if (this.native !== pull) return;
    this.native = undefined;
    this.muxer.endOfStream();
    this.kf?.endOfStream();
    this.lastKeyframeTime = undefined;
    if (this.stopping) return;
    this.restarts++;
    const reason = redactText(err.message, this.secrets);
    if (err.kind === 'unsupported') {
      // not a camera fault: hand the stream to ffmpeg at once, without a backoff step
      this.fallbackReason = reason;
      this.log.warn({ reason }, 'native engine cannot handle this stream: falling back to ffmpeg');
      this.reconnectTimer = setTimeout(() => void this.connect(), 0);
      return;
    }
    let failure: { kind: FailureClass; reason: string };
    if (this.killReason) failure = { kind: this.gotMedia ? 'transient' : 'network', reason: this.killReason };
    else {
      failure = { kind: err.kind, reason };
      if (!this.gotMedia && failure.kind === 'transient') failure = { kind: 'network', reason: `${reason} before any video` };
    }
    this.log.warn({ reason: failure.reason, kind: err.kind }, 'native pull ended');
    if (this.gotMedia && Date.now() - this.liveSince >= this.o.stableAfterMs) this.failures = 0;
    this.fail(failure);
  }

  private onStderrLine(line: string): void {
    if (!line.trim()) return;
    const clean = redactText(line, this.secrets);
    this.stderrTail.push(clean);
    if (this.stderrTail.length > 20) this.stderrTail.shift();
    if (!/Non-monotonous DTS|non monotonically increasing dts/i.test(clean)) this.log.debug({ ffmpeg: clean }, 'ffmpeg stderr');
  }

  private onFragment(f: Fragment): void {
    const now = Date.now();
    this.muxer.pushFragment(f, now);
    this.kf?.onFragment(f, now);
    this.lastFragmentAt = now;
    const ts = f.timescale || 1;
    this.recent.push({ at: now, decodeTime: f.baseDecodeTime / ts, duration: f.duration / ts, bytes: f.data.length, samples: f.sampleCount, independent: f.independent });
    while (this.recent.length > 2 && now - this.recent[0].at > 5000) this.recent.shift();
    if (f.independent) {
      const t = f.baseDecodeTime / ts;
      if (this.lastKeyframeTime !== undefined && t > this.lastKeyframeTime) this.keyframeInterval = t - this.lastKeyframeTime;
      this.lastKeyframeTime = t;
    }
    if (!this.gotMedia) {
      this.gotMedia = true;
      this.everLive = true;
      this.liveSince = now;
      this.setState('live', null);
      this.log.info({ startupMs: now - this.spawnedAt }, 'camera live');
    }
  }

  private onExit(child: ChildProcessWithoutNullStreams, code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void {
    if (this.child === child) this.child = undefined;
    const feed = this.feed;
    this.feed = undefined;
    if (feed) void feed.close();
    this.muxer.endOfStream();
    this.kf?.endOfStream();
    this.lastKeyframeTime = undefined;
    if (this.stopping) return;
    this.restarts++;
    const stderr = this.stderrTail.join('\n');
    let failure: { kind: FailureClass; reason: string };
    if (spawnError) failure = { kind: 'fatal', reason: `ffmpeg could not be started: ${spawnError.message}` };
    // a camera that does not answer at all (or hangs up) before any video counts as offline, not as a glitch
    else if (this.killReason) failure = { kind: this.gotMedia ? 'transient' : 'network', reason: this.killReason };
    else if (/unspecified size|dimensions not set|Could not find codec parameters|Could not write header/i.test(stderr) && this.probeSize < 5_000_000) {
      // the camera's SDP lacks the stream parameters: probe more of the stream next time
      this.probeSize = Math.min(5_000_000, this.probeSize * 16);
      this.log.info({ probeSize: this.probeSize }, 'probing more of the stream');
      failure = { kind: 'transient', reason: 'stream parameters not found yet (probing more)' };
    } else {
      failure = classifyFfmpegError(stderr) ?? { kind: 'transient', reason: code === 0 ? 'the stream ended' : `ffmpeg exited (${signal ?? `code ${code}`})` };
      if (!this.gotMedia && failure.kind === 'transient') failure = { kind: 'network', reason: `${failure.reason} before any video` };
    }
    this.log.warn({ code, signal, reason: failure.reason, stderr: this.stderrTail.slice(-3) }, 'ffmpeg exited');
    if (this.gotMedia && Date.now() - this.liveSince >= this.o.stableAfterMs) this.failures = 0;
    this.fail(failure);
  }

  private fail(f: { kind: FailureClass; reason: string }): void {
    if (this.stopping) return;
    this.failures++;
    let state: CameraState;
    switch (f.kind) {
      case 'auth':
        state = 'auth_failed';
        break;
      case 'network':
        state = !this.everLive || this.failures >= 2 ? 'offline' : 'reconnecting';
        break;
      case 'fatal':
        state = 'error';
        break;
      default:
        state = this.failures >= 6 ? 'error' : 'reconnecting';
    }
    this.setState(state, f.reason);
    const b = this.o.backoffMs;
    let delay = b[Math.min(this.failures - 1, b.length - 1)];
    // a wrong password or a wrong URL does not fix itself within seconds: do not hammer the camera
    if (f.kind === 'auth' || f.kind === 'fatal') delay = Math.max(delay, b[Math.min(b.length - 1, Math.max(0, b.length - 3))]);
    delay = Math.max(0, Math.round(delay * (1 + (Math.random() * 2 - 1) * this.o.jitter)));
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private checkWatchdog(): void {
    if ((!this.child && !this.native) || this.killReason || this.stopping) return;
    const now = Date.now();
    if (this.gotMedia && now - this.lastDataAt > this.o.watchdogMs) {
      this.killReason = `no data from the camera for ${Math.round(this.o.watchdogMs / 100) / 10} s (stalled)`;
    } else if (!this.gotMedia && now - this.spawnedAt > this.o.connectTimeoutMs) {
      this.killReason = `no video within ${Math.round(this.o.connectTimeoutMs / 100) / 10} s of connecting`;
    } else return;
    this.log.warn({ reason: this.killReason, engine: this.engineNow }, 'watchdog: restarting the pull');
    void this.terminate(false);
  }

  /** graceful: q first (TEARDOWN); otherwise SIGTERM at once. SIGKILL as the last resort. */
  private async terminate(graceful: boolean): Promise<void> {
    const pull = this.native;
    if (pull) {
      // TEARDOWN (bounded wait) and close; the end is handled like any other (reason: killReason)
      await pull.stop();
      this.onNativeEnd(pull, new RtspError('transient', this.killReason ?? 'stopped'));
      return;
    }
    const child = this.child;
    const exited = this.childExited;
    if (!child || !exited || child.exitCode !== null || child.signalCode !== null) {
      await exited;
      return;
    }
    const timers: NodeJS.Timeout[] = [];
    const feed = this.feed;
    if (feed) {
      // a pushed stream: end the sender's stream (BYE) and let ffmpeg finish on EOF
      void feed.close();
      feed.readable.unpipe(child.stdin);
      child.stdin.end();
      timers.push(setTimeout(() => child.kill('SIGTERM'), this.o.termAfterMs));
    } else if (graceful) {
      child.stdin.write('q');
      timers.push(setTimeout(() => child.kill('SIGTERM'), this.o.termAfterMs));
    } else {
      child.kill('SIGTERM');
    }
    timers.push(setTimeout(() => child.kill('SIGKILL'), graceful ? this.o.killAfterMs : this.o.killAfterMs - this.o.termAfterMs));
    await exited;
    for (const t of timers) clearTimeout(t);
  }
}
