/**
 * One CameraSession per camera stream, shared by every consumer (live viewers, analytics, snapshots).
 * Refcounted: the first consumer starts it, the last one leaving starts an idle grace period, after which it
 * stops. Pinned streams (cameras with analytics rules) stay on. A node-wide limit refuses new sessions with a
 * SessionLimitError (→ HTTP 503) instead of letting the node collapse slowly.
 */
import { EventEmitter } from 'node:events';
import { CameraSession, type CameraSessionOptions, type CameraState, type SessionStats, type StreamKind } from './camera-session.js';
import type { Log } from './log.js';
import type { RtspSource } from './rtsp-url.js';
import type { PipeSource } from './pipe-source.js';

export class SessionLimitError extends Error {
  readonly statusCode = 503;
  constructor(readonly limit: number) {
    super(`this node already runs its limit of ${limit} camera sessions; try again later or use another node`);
    this.name = 'SessionLimitError';
  }
}

export class NotHeldError extends Error {
  readonly statusCode = 503;
  constructor(readonly cameraId: string) {
    super('this node does not hold this camera (another node streams it)');
    this.name = 'NotHeldError';
  }
}

export interface CameraStateEvent {
  cameraId: string;
  stream: StreamKind;
  state: CameraState;
  reason: string | null;
  stats: SessionStats;
}

export type SessionTuning = Omit<CameraSessionOptions, 'cameraId' | 'stream' | 'getSource' | 'ffmpegPath' | 'logger'>;

export interface SessionManagerOptions {
  ffmpegPath: string;
  logger: Log;
  /** where a camera stream is pulled from (URL + credentials), looked up at every (re)connect */
  resolveSource: (cameraId: string, stream: StreamKind) => Promise<RtspSource | PipeSource>;
  /** node-wide limit on concurrent sessions */
  maxSessions?: number;
  /** may this node pull the camera now (cluster lease; fencing)? New sessions for others are refused (NotHeldError). */
  admit?: (cameraId: string) => boolean;
  /** how long a session without consumers stays up (ms) */
  idleGraceMs?: number;
  /** how long an HTTP viewer counts as watching after its last request (ms) */
  viewerTtlMs?: number;
  /** re-publish stats of live sessions this often (ms); 0 disables */
  statsIntervalMs?: number;
  session?: SessionTuning;
}

export interface Lease {
  readonly session: CameraSession;
  release(): void;
}

interface Entry {
  key: string;
  session: CameraSession;
  consumers: Map<string, number>;
  viewers: Map<string, NodeJS.Timeout>;
  idleTimer?: NodeJS.Timeout;
  idleSince?: number;
}

export class SessionManager extends EventEmitter {
  private readonly entries = new Map<string, Entry>();
  private readonly stopping = new Set<Promise<void>>();
  /** stops still in flight per stream key: a new session for the same stream waits for them (never two pulls at once) */
  private readonly stoppingByKey = new Map<string, Promise<void>>();
  private readonly log: Log;
  private readonly maxSessions: number;
  private readonly idleGraceMs: number;
  private readonly viewerTtlMs: number;
  private statsTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly o: SessionManagerOptions) {
    super();
    this.setMaxListeners(0);
    this.log = o.logger.child({ module: 'ingest' });
    this.maxSessions = o.maxSessions ?? 200;
    this.idleGraceMs = o.idleGraceMs ?? 30_000;
    this.viewerTtlMs = o.viewerTtlMs ?? 15_000;
    const every = o.statsIntervalMs ?? 10_000;
    if (every > 0) {
      this.statsTimer = setInterval(() => {
        for (const e of this.entries.values()) if (e.session.state === 'live') this.publish(e.session);
      }, every);
      this.statsTimer.unref();
    }
  }

  get limit(): number {
    return this.maxSessions;
  }
  get size(): number {
    return this.entries.size;
  }

  static key(cameraId: string, stream: StreamKind): string {
    return `${cameraId}/${stream}`;
  }

  get(cameraId: string, stream: StreamKind): CameraSession | undefined {
    return this.entries.get(SessionManager.key(cameraId, stream))?.session;
  }

  /** Add a consumer (counted per name); starts the session if needed. Throws SessionLimitError. */
  acquire(cameraId: string, stream: StreamKind, consumer: string): Lease {
    const e = this.entry(cameraId, stream);
    e.consumers.set(consumer, (e.consumers.get(consumer) ?? 0) + 1);
    this.cancelIdle(e);
    let released = false;
    return {
      session: e.session,
      release: () => {
        if (released) return;
        released = true;
        this.drop(e, consumer);
      },
    };
  }

  /**
   * An HTTP viewer (playlist/part requests carry no "disconnect"): counts as a consumer until viewerTtlMs after
   * its last request. Starts the session if needed. Throws SessionLimitError.
   */
  touch(cameraId: string, stream: StreamKind, viewer: string): CameraSession {
    const e = this.entry(cameraId, stream);
    const name = `viewer:${viewer}`;
    const timer = e.viewers.get(name);
    if (timer) timer.refresh();
    else {
      e.consumers.set(name, (e.consumers.get(name) ?? 0) + 1);
      this.cancelIdle(e);
      e.viewers.set(
        name,
        setTimeout(() => {
          e.viewers.delete(name);
          this.drop(e, name);
          // A viewer that moved to the other stream of the camera (tile focus) is still watching it.
          const other = this.entries.get(SessionManager.key(cameraId, stream === 'main' ? 'sub' : 'main'));
          if (!other?.viewers.has(name)) this.emit('viewer.left', { cameraId, viewer, lastSeen: new Date(Date.now() - this.viewerTtlMs) });
        }, this.viewerTtlMs),
      );
    }
    return e.session;
  }

  /** Keep a stream on regardless of viewers (analytics rules). */
  pin(cameraId: string, stream: StreamKind = 'sub'): void {
    const e = this.entry(cameraId, stream);
    if (!e.consumers.has('pinned')) e.consumers.set('pinned', 1);
    this.cancelIdle(e);
  }

  unpin(cameraId: string, stream: StreamKind = 'sub'): void {
    const e = this.entries.get(SessionManager.key(cameraId, stream));
    if (e?.consumers.has('pinned')) {
      e.consumers.set('pinned', 1);
      this.drop(e, 'pinned');
    }
  }

  /** The camera's URL or credentials changed: reconnect its running sessions now. */
  async restartCamera(cameraId: string, reason = 'camera settings changed'): Promise<void> {
    await Promise.all(
      (['main', 'sub'] as const).map((s) => this.entries.get(SessionManager.key(cameraId, s))?.session.restart(reason)),
    );
  }

  /** The camera was deleted: stop its sessions at once, whoever watches. */
  async removeCamera(cameraId: string): Promise<void> {
    await Promise.all((['main', 'sub'] as const).map((s) => {
      const e = this.entries.get(SessionManager.key(cameraId, s));
      return e ? this.stopEntry(e) : undefined;
    }));
  }

  /** Resolves when no session of the camera is running or still stopping (a lease may then pass to another node). */
  async whenStopped(cameraId: string): Promise<void> {
    await this.removeCamera(cameraId);
    await Promise.all((['main', 'sub'] as const).map((s) => this.stoppingByKey.get(SessionManager.key(cameraId, s))));
  }

  list(): Array<CameraStateEvent & { consumers: string[]; idleSince?: string }> {
    return [...this.entries.values()].map((e) => ({
      cameraId: e.session.cameraId,
      stream: e.session.stream,
      state: e.session.state,
      reason: e.session.reason,
      stats: e.session.stats,
      consumers: [...e.consumers.keys()],
      idleSince: e.idleSince ? new Date(e.idleSince).toISOString() : undefined,
    }));
  }

  /** Stop every session (node shutdown). */
  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.statsTimer);
    await Promise.all([...this.entries.values()].map((e) => this.stopEntry(e)));
    await Promise.all([...this.stopping]);
  }

  private entry(cameraId: string, stream: StreamKind): Entry {
    if (this.closed) throw new Error('ingest is shutting down');
    const key = SessionManager.key(cameraId, stream);
    const existing = this.entries.get(key);
    if (existing) return existing;
    if (this.o.admit && !this.o.admit(cameraId)) throw new NotHeldError(cameraId);
    if (this.entries.size >= this.maxSessions) {
      // make room by ending the session that has been idle longest, if any
      let oldest: Entry | undefined;
      for (const e of this.entries.values()) if (e.idleSince && (!oldest || e.idleSince < oldest.idleSince!)) oldest = e;
      if (oldest) void this.stopEntry(oldest);
      else {
        this.log.warn({ limit: this.maxSessions, camera: cameraId }, 'session limit reached');
        throw new SessionLimitError(this.maxSessions);
      }
    }
    const session = new CameraSession({
      ...this.o.session,
      cameraId,
      stream,
      ffmpegPath: this.o.ffmpegPath,
      logger: this.o.logger,
      getSource: () => this.o.resolveSource(cameraId, stream),
    });
    const e: Entry = { key, session, consumers: new Map(), viewers: new Map() };
    this.entries.set(key, e);
    session.on('state', () => this.publish(session));
    const prev = this.stoppingByKey.get(key);
    if (prev) void prev.then(() => { if (this.entries.get(key) === e && !this.closed) session.start(); });
    else session.start();
    return e;
  }

  private publish(session: CameraSession): void {
    const ev: CameraStateEvent = { cameraId: session.cameraId, stream: session.stream, state: session.state, reason: session.reason, stats: session.stats };
    this.emit('state', ev);
  }

  private cancelIdle(e: Entry): void {
    if (e.idleTimer) {
      clearTimeout(e.idleTimer);
      e.idleTimer = undefined;
      e.idleSince = undefined;
    }
  }

  private drop(e: Entry, consumer: string): void {
    const n = (e.consumers.get(consumer) ?? 0) - 1;
    if (n > 0) e.consumers.set(consumer, n);
    else e.consumers.delete(consumer);
    if (e.consumers.size === 0 && !e.idleTimer && this.entries.get(e.key) === e) {
      e.idleSince = Date.now();
      e.idleTimer = setTimeout(() => {
        this.log.info({ camera: e.session.cameraId, stream: e.session.stream }, 'no consumers: stopping after idle grace');
        void this.stopEntry(e);
      }, this.idleGraceMs);
    }
  }

  private stopEntry(e: Entry): Promise<void> {
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
    clearTimeout(e.idleTimer);
    for (const t of e.viewers.values()) clearTimeout(t);
    e.viewers.clear();
    const p = e.session.stop().finally(() => {
      this.stopping.delete(p);
      if (this.stoppingByKey.get(e.key) === p) this.stoppingByKey.delete(e.key);
    });
    this.stoppingByKey.set(e.key, p);
    this.stopping.add(p);
    return p;
  }
}
