/**
 * One recording file on disk: the camera session's own fMP4, copied byte for byte (init segment, then the moof+mdat
 * fragments the session produced: no re-encode, no second pull). Writes are appended in order through one file
 * handle; a GOP index (byte offset, time, duration, size of the keyframe's fragment) is kept beside it for the
 * playlist, keyframe-only playback and export. close() fsyncs before the index row is marked complete, so a row that
 * says "complete" always has its bytes on disk; a crash leaves at most this file's torn tail, which reconcile trims.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface GopEntry {
  /** byte offset of the GOP's first fragment in the file */
  offset: number;
  /** ms from the file's start (wall clock) */
  ms: number;
  /** ms of media in the GOP */
  dur: number;
  /** bytes of the first fragment (moof+mdat holding the keyframe) */
  kfBytes: number;
}

/** Serialised as compact arrays in the index row. */
export type GopTuple = [number, number, number, number];
export const toTuple = (g: GopEntry): GopTuple => [g.offset, g.ms, g.dur, g.kfBytes];
export const fromTuple = (t: GopTuple): GopEntry => ({ offset: t[0], ms: t[1], dur: t[2], kfBytes: t[3] });

/** Size of the first moof+mdat pair in a buffer of concatenated fragments. */
export function firstFragmentBytes(data: Buffer): number {
  if (data.length < 16) return data.length;
  const moof = data.readUInt32BE(0);
  if (moof < 8 || moof + 8 > data.length) return data.length;
  const mdat = data.readUInt32BE(moof);
  return Math.min(data.length, moof + Math.max(8, mdat));
}

export class SegmentFile {
  readonly gops: GopEntry[] = [];
  /** bytes handed to write() so far (init included) */
  bytes = 0;
  /** ms of media written, from the start */
  durationMs = 0;
  private fh?: FileHandle;
  private chain: Promise<void> = Promise.resolve();
  private failure?: Error;
  private closed = false;
  /** this instance created the file (false: not yet, or the create failed, e.g. EEXIST) */
  created = false;

  constructor(
    readonly root: string,
    /** path relative to root */
    readonly rel: string,
    readonly startMs: number,
    readonly init: Buffer,
  ) {}

  get path(): string {
    return join(this.root, this.rel);
  }
  get error(): Error | undefined {
    return this.failure;
  }
  get endMs(): number {
    return this.startMs + this.durationMs;
  }

  /**
   * Create the file (never overwrites) and write the init segment. Parts may be appended at once: they queue behind
   * it. Rejects on ENOSPC/EACCES/EROFS…, as does every later flush().
   *
   * `indexed` is the insert of the file's index row: the file is created only once it settled, so that a crash at any
   * moment leaves either a row without a file (reconcile drops it) or a row with its file (reconcile trims and
   * completes it), never a file the index does not know. A failed insert does not stop the recording (close()
   * upserts the row, and reconcile indexes a file without one).
   */
  open(indexed: Promise<unknown> = Promise.resolve()): Promise<void> {
    this.bytes = this.init.length;
    this.chain = (async () => {
      await indexed.catch(() => {});
      try {
        await mkdir(dirname(this.path), { recursive: true });
        this.fh = await open(this.path, 'wx', 0o640);
        this.created = true;
        await this.fh.write(this.init, 0, this.init.length, 0);
      } catch (err) {
        this.failure = err as Error;
      }
    })();
    return this.flush();
  }

  /** Append one part (one or more fragments). `atMs` is its wall-clock start. Errors surface via `error`/flush(). */
  append(data: Buffer, atMs: number, durationMs: number, independent: boolean): void {
    if (this.closed || this.failure) return;
    if (independent || this.gops.length === 0) {
      this.gops.push({ offset: this.bytes, ms: Math.max(0, Math.round(atMs - this.startMs)), dur: 0, kfBytes: firstFragmentBytes(data) });
    }
    const g = this.gops[this.gops.length - 1];
    g.dur = Math.max(g.dur, Math.round(atMs + durationMs - this.startMs) - g.ms);
    this.durationMs = Math.max(this.durationMs, Math.round(atMs + durationMs - this.startMs));
    void this.write(data);
  }

  private write(data: Buffer): Promise<void> {
    const at = this.bytes;
    this.bytes += data.length;
    this.chain = this.chain.then(async () => {
      if (this.failure || !this.fh) return;
      try {
        let off = 0;
        while (off < data.length) {
          const { bytesWritten } = await this.fh.write(data, off, data.length - off, at + off);
          off += bytesWritten;
        }
      } catch (err) {
        this.failure = err as Error;
      }
    });
    return this.chain;
  }

  /** Wait for queued writes; rejects with the first write error. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
  }

  /** Flush, fsync and close. Resolves with the bytes durably on disk (less than `bytes` after a failed write). */
  async close(): Promise<{ bytes: number; error?: Error }> {
    if (this.closed) return { bytes: this.bytes, error: this.failure };
    this.closed = true;
    await this.chain;
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return { bytes: 0, error: this.failure };
    try {
      if (!this.failure) await fh.sync();
    } catch (err) {
      this.failure ??= err as Error;
    }
    let onDisk = this.bytes;
    if (this.failure) {
      // keep only whole GOPs: a GOP ends where the next begins (the last one at the bytes queued)
      try {
        onDisk = (await fh.stat()).size;
      } catch {
        onDisk = 0;
      }
      const ends = this.gops.map((g, i) => (i + 1 < this.gops.length ? this.gops[i + 1].offset : this.bytes));
      let keep = this.gops.length;
      while (keep > 0 && ends[keep - 1] > onDisk) keep--;
      this.gops.length = keep;
      const whole = keep ? ends[keep - 1] : 0;
      if (whole < onDisk) await fh.truncate(whole).catch(() => {});
      onDisk = Math.min(onDisk, whole);
      const last = this.gops[keep - 1];
      this.durationMs = last ? last.ms + last.dur : 0;
    }
    await fh.close().catch(() => {});
    return { bytes: onDisk, error: this.failure };
  }
}
