/**
 * Records one camera stream from its running session: a consumer of the session's fMP4 like the LL-HLS viewers and
 * the analytics tap (it listens to the muxer's parts; the bytes are the session's own fragments). Wall-clock time
 * comes from the fragments' decode times anchored to their arrival, re-anchored at every discontinuity (a restart
 * of the pull, a new init segment, a jump in the decode clock), and every discontinuity starts a new file, so one
 * file is always one continuous timeline with one init segment.
 *
 * Continuous mode writes every GOP; events mode keeps a rolling in-memory buffer of the last few seconds (pre-roll)
 * and writes only while a trigger's post-roll lasts. Files are rotated at a keyframe once they reach segmentMs.
 */
import { EventEmitter } from 'node:events';
import type { CameraSession, StreamKind } from '../../ingest/camera-session.js';
import type { Part } from '../../ingest/llhls-muxer.js';
import { SegmentFile, toTuple, type GopTuple } from './segment-file.js';

export interface SegmentOpened {
  cameraId: string;
  stream: StreamKind;
  file: string;
  startMs: number;
  initBytes: number;
  codec?: string;
  width?: number;
  height?: number;
}

export interface SegmentClosed extends SegmentOpened {
  endMs: number;
  bytes: number;
  gops: GopTuple[];
}

export interface RecorderSink {
  opened(s: SegmentOpened): Promise<void>;
  closed(s: SegmentClosed): Promise<void>;
}

export interface CameraRecorderOptions {
  cameraId: string;
  stream: StreamKind;
  root: string;
  sink: RecorderSink;
  /** rotate at the first keyframe after this much media in a file */
  segmentMs: number;
  /** events mode: how much of the past the rolling buffer keeps */
  preRollMs: number;
  /** close the open file when no part arrived for this long (camera offline or stalled) */
  idleCloseMs?: number;
}

interface BufferedPart {
  data: Buffer;
  atMs: number;
  durMs: number;
  independent: boolean;
}

interface BufferedGop {
  init: Buffer;
  initKey: string;
  startMs: number;
  parts: BufferedPart[];
  bytes: number;
}

/** A file name that sorts by time and says what it holds: <camera>/<YYYY-MM-DD>/<stream>-<startMs>.mp4 (UTC day). */
export function segmentPath(cameraId: string, stream: StreamKind, startMs: number): string {
  const day = new Date(startMs).toISOString().slice(0, 10);
  return `${cameraId}/${day}/${stream}-${startMs}.mp4`;
}

export class CameraRecorder extends EventEmitter {
  private session?: CameraSession;
  private readonly onPart = (p: Part) => this.part(p);
  private anchor?: { wall: number; dts: number };
  private lastEnd?: number;
  private lastFileStart = 0;
  private initKey?: string;
  private file?: SegmentFile;
  private fileMeta?: SegmentOpened;
  private ring: BufferedGop[] = [];
  private recordUntil = 0;
  private idleTimer?: NodeJS.Timeout;
  private closing: Promise<void>[] = [];
  private _failure?: Error;
  /** bytes of media received from the session / written to files (write amplification) */
  streamBytes = 0;
  writtenBytes = 0;
  mode: 'continuous' | 'events' = 'continuous';

  constructor(readonly o: CameraRecorderOptions) {
    super();
  }

  get cameraId(): string {
    return this.o.cameraId;
  }
  get stream(): StreamKind {
    return this.o.stream;
  }
  get attachedTo(): CameraSession | undefined {
    return this.session;
  }
  get recording(): boolean {
    return !!this.file;
  }
  /** the file being written (the playlist of a range that reaches "now" lists its GOPs from here) */
  get openSegment(): { meta: SegmentOpened; endMs: number; bytes: number; gops: GopTuple[] } | undefined {
    if (!this.file || !this.fileMeta) return undefined;
    return { meta: this.fileMeta, endMs: this.file.endMs, bytes: this.file.bytes, gops: this.file.gops.map(toTuple) };
  }
  get failure(): Error | undefined {
    return this._failure;
  }

  /** Wait until the open file's queued writes are on disk (before serving its newest GOPs). */
  async flush(): Promise<void> {
    await this.file?.flush().catch(() => {});
  }

  /** Events mode: record from the pre-roll until `untilMs` (extends a running post-roll). */
  trigger(untilMs: number): void {
    this.recordUntil = Math.max(this.recordUntil, untilMs);
  }

  /** Stop writing for a reason outside this camera (the store is full of locked recordings); retry() resumes. */
  suspend(err: Error): void {
    if (this._failure) return;
    this._failure = err;
    void this.closeFile();
  }

  /** Clear a write failure so that the next keyframe tries a new file (the disk has room again). */
  retry(): void {
    this._failure = undefined;
  }

  attach(session: CameraSession): void {
    if (this.session === session) return;
    this.detach();
    this.session = session;
    session.muxer.on('part', this.onPart);
  }

  detach(): void {
    if (this.session) this.session.muxer.off('part', this.onPart);
    this.session = undefined;
    this.anchor = undefined;
    this.initKey = undefined;
    this.ring = [];
    void this.closeFile();
  }

  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.detach();
    await Promise.all(this.closing);
  }

  private wantsRecording(atMs: number): boolean {
    if (this._failure) return false;
    return this.mode === 'continuous' || atMs < this.recordUntil;
  }

  private part(p: Part): void {
    const session = this.session;
    if (!session) return;
    const mux = session.muxer;
    const initId = mux.currentInitId;
    const init = mux.getInit(initId);
    if (!init) return;
    this.streamBytes += p.data.length;
    const durMs = p.duration * 1000;
    // the fragment is emitted once complete: it started about its own duration before it arrived
    const arrivedStart = p.availableAt - durMs;
    const key = `${session.pid ?? 0}/${initId}`;
    let discontinuity = false;
    if (!this.anchor || key !== this.initKey || this.lastEnd === undefined || p.decodeTime < this.lastEnd - 0.5 || p.decodeTime > this.lastEnd + 5) {
      discontinuity = true;
    } else {
      const predicted = this.anchor.wall + (p.decodeTime - this.anchor.dts) * 1000;
      // the camera's clock and ours drift apart, or the pipe stalled: keep the wall clock honest (new file)
      if (Math.abs(predicted - arrivedStart) > 3000) discontinuity = true;
    }
    if (discontinuity) {
      if (!p.independent) return; // a new timeline starts at a keyframe
      this.anchor = { wall: arrivedStart, dts: p.decodeTime };
      this.initKey = key;
      this.ring = [];
      void this.closeFile();
    }
    this.lastEnd = p.decodeTime + p.duration;
    const atMs = Math.round(this.anchor!.wall + (p.decodeTime - this.anchor!.dts) * 1000);
    const bp: BufferedPart = { data: p.data, atMs, durMs, independent: p.independent };
    this.armIdle();

    const now = Date.now();
    if (this.mode === 'events') this.buffer(init, key, bp, now);
    // the post-roll is measured on the picture's clock: a part that arrives late (a loaded node, a stalled pipe)
    // still belongs to the seconds after the trigger, and its GOP ends the recording where the video says
    if (!this.wantsRecording(bp.atMs)) {
      if (this.file) void this.closeFile();
      return;
    }
    let rotated = false;
    if (this.file && p.independent && this.file.durationMs >= this.o.segmentMs) {
      void this.closeFile();
      rotated = true;
    }
    if (!this.file) {
      // a recording that starts (not one rotating to its next file: the ring's GOPs are in the previous file already)
      if (this.mode === 'events' && !rotated) {
        // start from the rolling buffer: the GOPs within the pre-roll (the current part is in it already)
        const from = now - this.o.preRollMs;
        let first = this.ring.findIndex((g, i) => g.startMs >= from || i === this.ring.length - 1);
        if (first > 0 && this.ring[first].startMs > from) first--; // the GOP holding the pre-roll's start
        const gops = first >= 0 ? this.ring.slice(first) : [];
        if (!gops.length || !gops[0].parts[0]?.independent) return;
        if (!this.openFile(gops[0].init, gops[0].startMs)) return;
        for (const g of gops) for (const q of g.parts) this.write(q);
        return;
      }
      if (!p.independent) return;
      if (!this.openFile(init, atMs)) return;
    }
    this.write(bp);
  }

  private buffer(init: Buffer, key: string, bp: BufferedPart, now: number): void {
    if (bp.independent || !this.ring.length) this.ring.push({ init, initKey: key, startMs: bp.atMs, parts: [], bytes: 0 });
    const g = this.ring[this.ring.length - 1];
    g.parts.push(bp);
    g.bytes += bp.data.length;
    // keep the GOP that holds the pre-roll's start, and everything after it
    const from = now - this.o.preRollMs;
    while (this.ring.length > 1 && this.ring[1].startMs <= from) this.ring.shift();
  }

  private openFile(init: Buffer, startAt: number): boolean {
    const s = this.session;
    // file names carry the start: never the same name twice (a file is never overwritten, and the row of a file that
    // could not be created is removed: it must not be another file's)
    const startMs = Math.max(startAt, this.lastFileStart + 1);
    this.lastFileStart = startMs;
    const rel = segmentPath(this.o.cameraId, this.o.stream, startMs);
    const file = new SegmentFile(this.o.root, rel, startMs, init);
    const track = s?.muxer.trackInfo;
    const meta: SegmentOpened = {
      cameraId: this.o.cameraId, stream: this.o.stream, file: rel, startMs, initBytes: init.length,
      codec: track?.codec, width: track?.width, height: track?.height,
    };
    this.file = file;
    this.fileMeta = meta;
    // the row first, then the file (SegmentFile.open waits for the insert); close() queues behind both, so the row
    // of a file that closes at once (no GOP) is deleted after it was inserted, never before
    const indexed = this.o.sink.opened(meta).catch((err) => { this.emit('warn', err); });
    file.open(indexed).catch((err: Error) => this.fail(err, file));
    return true;
  }

  private write(bp: BufferedPart): void {
    const f = this.file;
    if (!f) return;
    if (f.error) {
      this.fail(f.error, f);
      return;
    }
    f.append(bp.data, bp.atMs, bp.durMs, bp.independent);
    this.writtenBytes += bp.data.length;
  }

  private fail(err: Error, file: SegmentFile): void {
    if (this._failure) return;
    this._failure = err;
    if (this.file === file) void this.closeFile();
    this.emit('failed', err);
  }

  private armIdle(): void {
    const ms = this.o.idleCloseMs ?? 6000;
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        this.anchor = undefined; // whatever comes next is a new timeline
        void this.closeFile();
      }, ms);
      this.idleTimer.unref();
    }
  }

  /** Close the open file (fsync) and tell the sink; a file without media is removed instead. */
  closeFile(): Promise<void> {
    const file = this.file;
    const meta = this.fileMeta;
    this.file = undefined;
    this.fileMeta = undefined;
    if (!file || !meta) return Promise.resolve();
    const p = (async () => {
      const { bytes, error } = await file.close();
      this.writtenBytes += file.init.length;
      if (error && !this._failure) {
        this._failure = error;
        this.emit('failed', error);
      }
      // a name taken already (EEXIST) is another file's: its row and bytes are not this recorder's to touch
      if (!file.created && (error as NodeJS.ErrnoException | undefined)?.code === 'EEXIST') return;
      const closed: SegmentClosed = { ...meta, endMs: file.startMs + file.durationMs, bytes, gops: file.gops.map(toTuple) };
      try {
        await this.o.sink.closed(closed);
      } catch (err) {
        this.emit('warn', err);
      }
    })();
    this.closing.push(p);
    void p.finally(() => {
      this.closing = this.closing.filter((x) => x !== p);
    });
    return p;
  }
}
