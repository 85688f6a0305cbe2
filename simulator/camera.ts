/**
 * A simulated camera: two streams fed by the shared scheduler, its fault state, and the sessions
 * watching it. Frame g of a stream (g = global frame index since the Unix epoch) is due at wall time
 * g * frameMs (+ the camera's delay), and shows picture g mod loopLength: since the loop is 60 s and
 * minutes start on frame boundaries, the burnt-in clock equals the wall clock at send time.
 */
import { CameraEvents } from './events.js';
import type { LoadedStream } from './media.js';
import type { PtzState } from './ptz.js';
import type { RtpFrame } from './rtp-packetizer.js';
import type { Pumpable, Scheduler } from './scheduler.js';

export type StreamKind = 'main' | 'sub';

export type SimFault =
  | { kind: 'offline' }
  | { kind: 'stall' }
  /** Cut every stream `afterMs` (default 3000) after PLAY, over and over, until restored. */
  | { kind: 'drop'; afterMs?: number }
  | { kind: 'auth-refuse' }
  | { kind: 'resolution'; width: number; height: number }
  | { kind: 'delay'; ms: number; jitterMs?: number };

export interface RtpSink {
  /** True until the sink has seen a keyframe (new clients, clients that fell behind, after a stall). */
  needKey: boolean;
  deliver(frame: RtpFrame, g: number, stream: StreamChannel, now: number): void;
  /** Close the client's connection (drop / offline faults). */
  kill(reset: boolean): void;
  readonly playingSince: number;
}

export interface FaultState {
  offline: boolean;
  stall: boolean;
  authRefuse: boolean;
  dropAfterMs?: number;
  delayMs: number;
  jitterMs: number;
  resolution?: { width: number; height: number };
}

/** Frames further behind than this are skipped (sinks wait for the next keyframe) instead of bursting. */
const MAX_CATCH_UP_FRAMES = 10;

export class StreamChannel implements Pumpable {
  readonly sinks = new Set<RtpSink>();
  private lastSent = -1;
  private jitterNow = 0;
  readonly frameMs: number;

  constructor(
    readonly camera: SimCamera,
    readonly kind: StreamKind,
    public media: LoadedStream,
    private readonly scheduler: Scheduler,
  ) {
    this.frameMs = 1000 / media.fps;
  }

  get ticksPerFrame(): number {
    return 90000 / this.media.fps;
  }

  /** Swap the encoded loop (resolution fault); every viewer restarts on the new stream's next keyframe. */
  setMedia(media: LoadedStream): void {
    if (media === this.media) return;
    this.media = media;
    for (const s of this.sinks) s.needKey = true;
  }

  add(sink: RtpSink): void {
    if (this.sinks.size === 0) this.lastSent = -1;
    this.sinks.add(sink);
    this.scheduler.activate(this);
  }

  remove(sink: RtpSink): void {
    this.sinks.delete(sink);
    if (this.sinks.size === 0) this.scheduler.deactivate(this);
  }

  /** Global index of the next frame this stream will send, for RTP-Info. */
  nextFrameIndex(now: number): number {
    // With no viewer yet, the first pump sends the frame due at that moment (not the one after).
    // A position left over from earlier viewers is stale: add() restarts the stream at "now".
    return this.sinks.size > 0 && this.lastSent >= 0 ? this.lastSent + 1 : Math.floor(this.viewTime(now) / this.frameMs);
  }

  private viewTime(now: number): number {
    const f = this.camera.faults;
    return now - f.delayMs - this.jitterNow;
  }

  pump(now: number): number {
    const f = this.camera.faults;
    const due = Math.floor(this.viewTime(now) / this.frameMs);
    if (this.lastSent < 0) this.lastSent = due - 1;
    if (due - this.lastSent > MAX_CATCH_UP_FRAMES) {
      this.lastSent = due - 1;
      for (const s of this.sinks) s.needKey = true;
    }
    const frames = this.media.frames;
    while (this.lastSent < due) {
      const g = ++this.lastSent;
      if (f.stall) {
        for (const s of this.sinks) s.needKey = true;
        continue;
      }
      const frame = frames[g % frames.length];
      for (const s of this.sinks) {
        if (f.dropAfterMs !== undefined && now - s.playingSince >= f.dropAfterMs) {
          s.kill(false);
          continue;
        }
        if (s.needKey && !frame.key) continue;
        s.deliver(frame, g, this, now);
      }
      if (f.jitterMs > 0) {
        // Jitter only ever holds frames back a little longer, so order and timestamps stay monotonic.
        this.jitterNow = Math.random() * f.jitterMs;
      }
    }
    if (f.jitterMs === 0) this.jitterNow = 0;
    return (this.lastSent + 1) * this.frameMs + f.delayMs + this.jitterNow;
  }
}

export interface CameraIdentity {
  id: string;
  name: string;
  username: string;
  password: string;
  /** Index of the camera in the fleet (0-based); used for ONVIF serials and discovery UUIDs. */
  index: number;
}

export class SimCamera {
  readonly faults: FaultState = { offline: false, stall: false, authRefuse: false, delayMs: 0, jitterMs: 0 };
  readonly streams: Record<StreamKind, StreamChannel>;
  /** JPEG per second of the loop (snapshots[s] = second s of the minute). */
  snapshots: Buffer[] = [];
  readonly baseMain: LoadedStream;
  /** Set on PTZ domes only (see the simulator's ptzEvery option); the picture never moves with it. */
  ptz?: PtzState;
  /** Alarms (motion, tamper) and ONVIF pull-point subscriptions; every camera has them. */
  readonly events = new CameraEvents();

  constructor(
    readonly ident: CameraIdentity,
    main: LoadedStream,
    sub: LoadedStream,
    scheduler: Scheduler,
  ) {
    this.baseMain = main;
    this.streams = { main: new StreamChannel(this, 'main', main, scheduler), sub: new StreamChannel(this, 'sub', sub, scheduler) };
  }

  get id(): string {
    return this.ident.id;
  }

  sinks(): RtpSink[] {
    return [...this.streams.main.sinks, ...this.streams.sub.sinks];
  }

  /** The picture for "now" as a JPEG (the second of the minute, shifted by the camera's delay). */
  snapshot(now = Date.now()): Buffer | undefined {
    if (this.snapshots.length === 0) return undefined;
    const s = Math.floor(((now - this.faults.delayMs) % 60_000) / 1000);
    return this.snapshots[s % this.snapshots.length];
  }
}
