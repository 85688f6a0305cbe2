/**
 * In-memory LL-HLS window for one camera stream: fMP4 fragments become parts, parts are grouped into
 * segments that start at keyframes. Memory is bounded (segment count and bytes). Blocking playlist
 * reload and blocking part requests wait on this object.
 *
 * Part URIs carry a sequence number that runs across segments (`part<seq>.m4s`), not the segment's number and the
 * part's index in it: whether the next part opens a new segment is only known when its first frame (a keyframe or
 * not) arrives, so a hint named `part<msn>.<index>` would name a part that is never published whenever a keyframe
 * closes the segment (RFC 8216bis: a server must not hint a resource it will not publish). The next sequence number
 * always comes, whichever segment it lands in (MediaMTX names parts the same way).
 */
import { EventEmitter } from 'node:events';
import type { Fragment, InitSegment, TrackInfo } from './fmp4.js';
import { renderPlaylist, type PlaylistPart, type PlaylistSegment } from './llhls-playlist.js';

export interface Part {
  msn: number;
  index: number;
  /** position in the session's run of parts, across segments: the part's URI */
  seq: number;
  data: Buffer;
  /** seconds */
  duration: number;
  independent: boolean;
  /** decode time in seconds (track timescale) */
  decodeTime: number;
  /** when the part became available, ms since the epoch */
  availableAt: number;
}

export interface Segment {
  msn: number;
  parts: Part[];
  duration: number;
  complete: boolean;
  initId: number;
  discontinuity: boolean;
  programDateTime: number;
  bytes: number;
  /** closes at the next keyframe whatever its length (follows a fast-start segment) */
  short?: boolean;
}

export interface LlhlsMuxerOptions {
  /** part target, seconds: frames are grouped into parts of about this length; the declared PART-TARGET is
   *  raised if a longer part is ever cut (a long frame interval) */
  partTargetS?: number;
  /** a keyframe closes the open segment once it is at least this long, seconds */
  minSegmentS?: number;
  /** complete segments listed in the playlist */
  windowSegments?: number;
  /** cap on the bytes held (complete + open segments); the oldest go first */
  maxBytes?: number;
  /** advertise and serve delta updates */
  deltaUpdates?: boolean;
  /** media sequence number of the first segment; sessions start from a time-based value so that a new session
   *  never reuses an old session's URIs */
  firstMsn?: number;
  /** sequence number of the first part (default firstMsn × 10: with firstMsn counting 100 ms steps, a later session
   *  starts above an earlier one's parts as long as parts come at most 100 per second) */
  firstPartSeq?: number;
  /** prefix of every URI in the playlist (a second rendition served from the same directory: `kf-`) */
  uriPrefix?: string;
}

/** The URI of a part in the playlist (and the file the media route serves). */
export const partUri = (seq: number): string => `part${seq}.m4s`;

export type WaitResult = 'ok' | 'timeout' | 'closed';

export class LlhlsMuxer extends EventEmitter {
  readonly opts: Required<Omit<LlhlsMuxerOptions, 'firstPartSeq'>>;
  private inits = new Map<number, Buffer>();
  private initId = -1;
  private track?: TrackInfo;
  private segments: Segment[] = [];
  private nextMsn = 0;
  /** sequence number the next part will get: what the preload hint names */
  private nextPartSeq: number;
  private discontinuitySequence = 0;
  private pendingDiscontinuity = false;
  private anchor?: { wall: number; dts: number };
  private lastEnd?: number; // decode end time of the last part, seconds
  private maxTargetDuration: number;
  private partTarget: number;
  private bytes = 0;
  private closed = false;
  private waiters = new Set<() => void>();
  private pending?: { frags: Buffer[]; start: number; duration: number; independent: boolean };
  private fastStart = true;
  /** the next segment may start without a keyframe (it continues the one-part fast-start segment) */
  private continuation = false;
  private lastFrameDuration = 0.04;

  constructor(opts: LlhlsMuxerOptions = {}) {
    super();
    this.opts = {
      partTargetS: opts.partTargetS ?? 0.2,
      minSegmentS: opts.minSegmentS ?? 1,
      windowSegments: opts.windowSegments ?? 12,
      maxBytes: opts.maxBytes ?? 24 * 1024 * 1024,
      deltaUpdates: opts.deltaUpdates ?? true,
      firstMsn: opts.firstMsn ?? 0,
      uriPrefix: opts.uriPrefix ?? '',
    };
    this.nextMsn = this.opts.firstMsn;
    this.nextPartSeq = opts.firstPartSeq ?? this.opts.firstMsn * 10;
    this.partTarget = this.opts.partTargetS;
    this.maxTargetDuration = Math.max(1, Math.ceil(this.opts.minSegmentS));
  }

  get trackInfo(): TrackInfo | undefined {
    return this.track;
  }
  get heldBytes(): number {
    return this.bytes;
  }
  get currentInitId(): number {
    return this.initId;
  }
  /** true once at least one part can be served */
  get hasMedia(): boolean {
    return this.segments.some((s) => s.parts.length > 0);
  }
  get lastPart(): Part | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      if (s.parts.length) return s.parts[s.parts.length - 1];
    }
    return undefined;
  }
  /** true once the playlist lists a complete segment (what players need to start) */
  get hasSegment(): boolean {
    return this.segments.some((s) => s.complete);
  }
  get lastCompleteMsn(): number {
    for (let i = this.segments.length - 1; i >= 0; i--) if (this.segments[i].complete) return this.segments[i].msn;
    return -1;
  }

  setInit(init: InitSegment): void {
    this.closeOpen();
    this.initId++;
    this.inits.set(this.initId, init.data);
    this.track = init.track;
    this.anchor = undefined;
    this.lastEnd = undefined;
    this.fastStart = true;
    if (this.segments.length) this.pendingDiscontinuity = true;
    this.pruneInits();
    this.notify();
  }

  getInit(id: number): Buffer | undefined {
    return this.inits.get(id);
  }

  /** The source ended (ffmpeg exited): close the open segment so nobody waits on it. */
  endOfStream(): void {
    this.closeOpen();
    this.continuation = false;
    this.fastStart = true;
    this.anchor = undefined;
    this.lastEnd = undefined;
    if (this.segments.length) this.pendingDiscontinuity = true;
    this.notify();
  }

  /**
   * One fMP4 fragment from ffmpeg (one frame with `frag_every_frame`, or several). Frames are grouped into
   * parts of about partTargetS; a keyframe always starts a new part (and a new segment once the open one is
   * long enough); the first part after a (re)start is flushed at once so that a player can start right away.
   */
  pushFragment(f: Fragment, now = Date.now()): void {
    if (this.initId < 0 || this.closed) return;
    const ts = f.timescale || 1;
    const start = f.baseDecodeTime / ts;
    let duration = f.duration / ts;
    if (duration <= 0) duration = this.lastFrameDuration * Math.max(1, f.sampleCount);
    // timestamps that jump back or far forward without a new init break MSE playback: mark a discontinuity
    if (this.lastEnd !== undefined && (start < this.lastEnd - 0.5 || start > this.lastEnd + 5)) {
      this.closeOpen();
      this.pendingDiscontinuity = true;
      this.anchor = undefined;
      this.fastStart = true;
      this.lastEnd = undefined;
    }
    if (!this.open() && !this.pending && !this.continuation && !f.independent) return; // wait for a keyframe first
    if (f.independent && this.pending) this.flushPending(now);
    if (!this.anchor) this.anchor = { wall: now, dts: start };
    if (!this.pending) this.pending = { frags: [], start, duration: 0, independent: f.independent };
    this.pending.frags.push(f.data);
    this.pending.duration += duration;
    this.lastEnd = start + duration;
    const frame = duration / Math.max(1, f.sampleCount);
    this.lastFrameDuration = frame;
    if (this.fastStart || this.pending.duration >= this.opts.partTargetS - frame / 2 - 1e-6) this.flushPending(now);
  }

  private flushPending(now = Date.now()): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    const fast = this.fastStart;
    this.fastStart = false;
    this.addPart(p.frags.length === 1 ? p.frags[0] : Buffer.concat(p.frags), p.start, p.duration, p.independent, now, fast);
  }

  /**
   * `fast`: the first part after a (re)start becomes a complete one-part segment at once, because players
   * (hls.js) only start on a playlist with at least one complete segment; the next segment continues the GOP
   * and ends at the next keyframe whatever its length.
   */
  private addPart(data: Buffer, start: number, duration: number, independent: boolean, now: number, fast = false): void {
    const f = { independent, data };
    if (!this.anchor) this.anchor = { wall: now, dts: start };
    let seg = this.open();
    if (seg && f.independent && (seg.duration >= this.opts.minSegmentS - 0.05 || seg.short)) {
      this.complete(seg);
      seg = undefined;
    }
    if (!seg) {
      if (!f.independent && !this.continuation) return;
      seg = {
        short: this.continuation,
        msn: this.nextMsn++,
        parts: [],
        duration: 0,
        complete: false,
        initId: this.initId,
        discontinuity: this.pendingDiscontinuity,
        programDateTime: Math.round(this.anchor.wall + (start - this.anchor.dts) * 1000),
        bytes: 0,
      };
      this.pendingDiscontinuity = false;
      this.continuation = false;
      this.segments.push(seg);
    }
    const part: Part = {
      msn: seg.msn,
      index: seg.parts.length,
      seq: this.nextPartSeq++,
      data: f.data,
      duration,
      independent: f.independent,
      decodeTime: start,
      availableAt: now,
    };
    seg.parts.push(part);
    seg.duration += duration;
    seg.bytes += f.data.length;
    this.bytes += f.data.length;
    if (fast && seg.parts.length === 1) {
      this.complete(seg);
      this.continuation = true;
    }
    if (duration > this.partTarget) this.partTarget = Math.ceil(duration * 1000) / 1000;
    const td = Math.round(seg.duration);
    if (td > this.maxTargetDuration) this.maxTargetDuration = td;
    this.prune();
    this.emit('part', part);
    this.notify();
  }

  private open(): Segment | undefined {
    const last = this.segments[this.segments.length - 1];
    return last && !last.complete ? last : undefined;
  }

  private closeOpen(): void {
    this.flushPending();
    this.continuation = false;
    const seg = this.open();
    if (!seg) return;
    if (seg.parts.length === 0) this.segments.pop();
    else this.complete(seg);
  }

  private complete(seg: Segment): void {
    seg.complete = true;
    const td = Math.round(seg.duration);
    if (td > this.maxTargetDuration) this.maxTargetDuration = td;
    this.emit('segment', seg);
  }

  private prune(): void {
    const keep = this.opts.windowSegments + 2; // a client may still fetch a segment that just left the playlist
    const complete = () => this.segments.filter((s) => s.complete).length;
    while (this.segments.length > 1 && this.segments[0].complete && (complete() > keep || (this.bytes > this.opts.maxBytes && complete() > 2))) {
      const gone = this.segments.shift()!;
      this.bytes -= gone.bytes;
      if (gone.discontinuity) this.discontinuitySequence++;
    }
    this.pruneInits();
  }

  private pruneInits(): void {
    const used = new Set(this.segments.map((s) => s.initId));
    used.add(this.initId);
    for (const id of this.inits.keys()) if (!used.has(id)) this.inits.delete(id);
  }

  /** Listed window: the last windowSegments complete segments and the open one. */
  private listed(): Segment[] {
    const complete = this.segments.filter((s) => s.complete);
    const first = complete.length > this.opts.windowSegments ? complete[complete.length - this.opts.windowSegments].msn : -1;
    return this.segments.filter((s) => s.msn >= first);
  }

  get targetDuration(): number {
    const open = this.open();
    return Math.max(this.maxTargetDuration, open ? Math.round(open.duration) : 0);
  }

  /** Media sequence range of the listed window (first listed, last with a part). */
  get range(): { first: number; last: number; lastPart: number } | undefined {
    const list = this.listed();
    if (!list.length) return undefined;
    const last = list[list.length - 1];
    return { first: list[0].msn, last: last.msn, lastPart: last.parts.length - 1 };
  }

  /** Is partial segment `part` of segment `msn` (or anything later) available? (msn alone: segment complete) */
  has(msn: number, part?: number): boolean {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      if (part === undefined) {
        if (s.complete && s.msn >= msn) return true;
      } else {
        if (s.msn > msn && s.parts.length > 0) return true;
        if (s.msn === msn && s.parts.length > part) return true;
      }
      if (s.msn < msn) break;
    }
    return false;
  }

  /** Wait until has(msn, part) or the timeout. */
  waitFor(msn: number, part: number | undefined, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    return this.waitUntil(() => this.has(msn, part), timeoutMs, signal);
  }

  waitUntil(cond: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    if (cond()) return Promise.resolve('ok');
    if (this.closed) return Promise.resolve('closed');
    return new Promise<WaitResult>((resolve) => {
      const done = (r: WaitResult): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const check = (): void => {
        if (cond()) done('ok');
        else if (this.closed) done('closed');
      };
      const onAbort = (): void => done('closed');
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      this.waiters.add(check);
      signal?.addEventListener('abort', onAbort);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  getPart(msn: number, index: number): Part | undefined {
    const s = this.segments.find((x) => x.msn === msn);
    return s?.parts[index];
  }

  /** The part with this sequence number, while it is in the window. */
  getPartBySeq(seq: number): Part | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const parts = this.segments[i].parts;
      if (parts.length && parts[0].seq <= seq) return parts[seq - parts[0].seq];
    }
    return undefined;
  }

  /**
   * A part that may not exist yet (the preload hint names the next sequence number): wait for it, across a segment
   * boundary or a restart of the source; undefined when it will not come (further ahead than the hint, left the
   * window, the session closed, or the timeout).
   */
  async waitForPart(seq: number, timeoutMs: number, signal?: AbortSignal): Promise<Part | undefined> {
    if (seq > this.nextPartSeq) return undefined;
    await this.waitUntil(() => seq < this.nextPartSeq, timeoutMs, signal);
    return this.getPartBySeq(seq);
  }

  getSegment(msn: number): Segment | undefined {
    const s = this.segments.find((x) => x.msn === msn);
    return s?.complete ? s : undefined;
  }

  /** The keyframe that starts each segment of the current init, oldest first (what a keyframe rendition starts from). */
  keyframeParts(): Part[] {
    return this.segments.filter((s) => s.initId === this.initId && s.parts.length && s.parts[0].independent).map((s) => s.parts[0]);
  }

  /**
   * The parts of the current init from the newest keyframe on (the open segment included), oldest first: what a
   * rendition made from this stream (the transcode) starts from, so that it need not wait for the next keyframe.
   */
  partsFromLatestKeyframe(): Part[] {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      if (s.initId !== this.initId) return [];
      const k = s.parts.findIndex((p) => p.independent);
      if (k >= 0) return this.segments.slice(i).flatMap((seg, j) => (j === 0 ? seg.parts.slice(k) : seg.parts));
    }
    return [];
  }

  /** Latest segment start: the init and the independent first part of the newest segment (snapshots). */
  latestKeyframe(): { init: Buffer; part: Part } | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      const init = this.inits.get(s.initId);
      if (s.parts.length && s.parts[0].independent && init) return { init, part: s.parts[0] };
    }
    return undefined;
  }

  playlist(opts: { skip?: boolean } = {}): string {
    const list = this.listed();
    const td = this.targetDuration;
    const complete = list.filter((s) => s.complete);
    const open = list.find((s) => !s.complete);
    // parts are listed for segments within the last three target durations
    const partsFrom = (() => {
      let acc = open ? open.duration : 0;
      for (let i = complete.length - 1; i >= 0; i--) {
        acc += complete[i].duration;
        if (acc > 3 * td) return complete[i].msn;
      }
      return -1;
    })();
    const pre = this.opts.uriPrefix;
    const partList = (s: Segment): PlaylistPart[] =>
      s.parts.map((p) => ({ uri: `${pre}${partUri(p.seq)}`, duration: p.duration, independent: p.independent }));
    const segs: PlaylistSegment[] = complete.map((s) => ({
      msn: s.msn,
      uri: `${pre}seg${s.msn}.m4s`,
      duration: s.duration,
      initUri: `${pre}init${s.initId}.mp4`,
      discontinuity: s.discontinuity,
      programDateTime: s.programDateTime,
      parts: s.msn >= partsFrom ? partList(s) : [],
    }));
    const canSkipUntil = this.opts.deltaUpdates ? 6 * td : undefined;
    let skipSegments = 0;
    if (opts.skip && canSkipUntil) {
      // skip the segments that end more than canSkipUntil before the end, but never across a discontinuity
      const total = segs.reduce((a, s) => a + s.duration, 0) + (open ? open.duration : 0);
      let acc = 0;
      for (const s of segs) {
        if (total - acc - s.duration < canSkipUntil) break;
        acc += s.duration;
        skipSegments++;
      }
      const firstKept = segs[skipSegments];
      const crosses = segs.slice(1, skipSegments + 1).some((s) => s.discontinuity) || (firstKept && firstKept.initUri !== segs[0]?.initUri);
      if (crosses || !firstKept) skipSegments = 0;
    }
    // the next part, whichever segment it opens or continues
    const hint = this.initId >= 0 && !this.closed ? `${pre}${partUri(this.nextPartSeq)}` : undefined;
    return renderPlaylist({
      targetDuration: td,
      partTarget: this.partTarget,
      mediaSequence: list[0]?.msn ?? this.nextMsn,
      discontinuitySequence: this.discontinuitySequence + this.segments.filter((s) => s.msn < (list[0]?.msn ?? 0) && s.discontinuity).length,
      segments: segs,
      open: open
        ? { msn: open.msn, initUri: `${pre}init${open.initId}.mp4`, discontinuity: open.discontinuity, programDateTime: open.programDateTime, parts: partList(open) }
        : undefined,
      preloadHintUri: hint,
      independentSegments: list.every((s) => s.parts.length === 0 || s.parts[0].independent),
      canSkipUntil,
      skipSegments,
    });
  }

  /** Drop everything and wake all waiters (session stopped). */
  close(): void {
    this.closed = true;
    this.segments = [];
    this.inits.clear();
    this.bytes = 0;
    this.notify();
    this.waiters.clear();
  }
}
