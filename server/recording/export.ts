/**
 * Export of a time range as one MP4 (remuxed with ffmpeg `-c copy`, never re-encoded), with the camera's name and the
 * time range in its metadata. The recorded GOPs covering the range are read from the files; consecutive files of one
 * pull (same init segment, adjacent in time) form one run that is piped to ffmpeg as a single fMP4 stream; several runs
 * (the camera restarted in between) are written as temporary pieces, each rebased to decode time 0, and joined with the
 * concat demuxer, each lasting until the next run starts (a hole stays a hole of its length). The start is the
 * keyframe at or before `from` (a copy cannot start between keyframes); the end is cut at `to`.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gopRange } from './vod-playlist.js';
import type { SegmentRow } from './recording-repo.js';
import { firstDecodeTime, shiftDecodeTimes } from './tfdt.js';

export interface ExportPiece {
  row: Pick<SegmentRow, 'file' | 'startMs' | 'initBytes' | 'gops' | 'bytes'>;
  path: string;
  g0: number;
  g1: number;
}

export class NothingRecordedError extends Error {
  readonly statusCode = 404;
  constructor() {
    super('nothing was recorded in this time range (此时间段无录像)');
  }
}

/** The GOPs of each file that overlap [fromMs, toMs). */
export function piecesFor(rows: ExportPiece['row'][], fromMs: number, toMs: number, pathOf: (file: string) => string): ExportPiece[] {
  const out: ExportPiece[] = [];
  for (const row of rows) {
    let g0 = -1;
    let g1 = -1;
    row.gops.forEach(([, ms, dur], i) => {
      const s = row.startMs + ms;
      if (s + dur > fromMs && s < toMs && dur > 0) {
        if (g0 < 0) g0 = i;
        g1 = i;
      }
    });
    if (g0 >= 0) out.push({ row, path: pathOf(row.file), g0, g1 });
  }
  return out;
}

/** Bytes [start, end) of a recording file (shorter if the file is): one GOP range of a segment. */
export async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(end - start);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
      if (!bytesRead) break;
      off += bytesRead;
    }
    return buf.subarray(0, off);
  } finally {
    await fh.close();
  }
}

/** init + the piece's GOP bytes */
async function pieceBytes(p: ExportPiece): Promise<{ init: Buffer; media: Buffer }> {
  const range = gopRange(p.row.gops, p.g0, p.g1, p.row.bytes);
  if (!range) throw new Error(`bad GOP range in ${p.row.file}`);
  const [init, media] = await Promise.all([readRange(p.path, 0, p.row.initBytes), readRange(p.path, range[0], range[1])]);
  return { init, media };
}

export interface ExportResult {
  path: string;
  bytes: number;
  startMs: number;
  endMs: number;
  cleanup(): Promise<void>;
}

export async function exportMp4(o: {
  ffmpegPath: string;
  pieces: ExportPiece[];
  fromMs: number;
  toMs: number;
  cameraName: string;
  cameraId: string;
}): Promise<ExportResult> {
  if (!o.pieces.length) throw new NothingRecordedError();
  const dir = await mkdtemp(join(tmpdir(), 'streeteye-export-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const startMs = o.pieces[0].row.startMs + o.pieces[0].row.gops[o.pieces[0].g0][1];
    const last = o.pieces[o.pieces.length - 1];
    const lastEnd = last.row.startMs + last.row.gops[last.g1][1] + last.row.gops[last.g1][2];
    const endMs = Math.min(o.toMs, lastEnd);
    // runs: adjacent pieces of one pull share their init segment byte for byte
    const loaded = await Promise.all(o.pieces.map(pieceBytes));
    const runs: Array<{ init: Buffer; media: Buffer[]; startMs: number; endMs: number }> = [];
    loaded.forEach((b, i) => {
      const prev = runs[runs.length - 1];
      const p = o.pieces[i];
      const q = o.pieces[i - 1];
      const qEnd = q ? q.row.startMs + q.row.gops[q.g1][1] + q.row.gops[q.g1][2] : 0;
      const pStart = p.row.startMs + p.row.gops[p.g0][1];
      const pEnd = p.row.startMs + p.row.gops[p.g1][1] + p.row.gops[p.g1][2];
      const adjacent = q && Math.abs(pStart - qEnd) < 500 && q.g1 === q.row.gops.length - 1 && p.g0 === 0;
      if (prev && adjacent && prev.init.equals(b.init)) {
        prev.media.push(b.media);
        prev.endMs = pEnd;
      } else runs.push({ init: b.init, media: [b.media], startMs: pStart, endMs: pEnd });
    });
    const out = join(dir, 'export.mp4');
    const fmt = (ms: number) => new Date(ms).toISOString();
    const meta = [
      '-metadata', `title=${o.cameraName} ${fmt(startMs)} – ${fmt(endMs)}`,
      '-metadata', `comment=StreetEye camera ${o.cameraName} (${o.cameraId}), recorded ${fmt(startMs)} to ${fmt(endMs)}, requested ${fmt(o.fromMs)} to ${fmt(o.toMs)}`,
      '-metadata', `creation_time=${fmt(startMs)}`,
      '-metadata', `description=${o.cameraName} ${fmt(o.fromMs)} – ${fmt(o.toMs)}`,
    ];
    const tail = ['-map', '0:v', '-c', 'copy', '-t', ((endMs - startMs) / 1000).toFixed(3), ...meta, '-movflags', '+faststart', '-f', 'mp4', '-y', out];
    let args: string[];
    let stdin: Buffer[] | undefined;
    if (runs.length === 1) {
      args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'mp4', '-i', 'pipe:0', ...tail];
      stdin = [runs[0].init, ...runs[0].media];
    } else {
      // each run rebased to decode time 0 (ffmpeg counts a fragmented file's duration from 0: a run whose pull had
      // been up for a minute would otherwise be placed a minute late, and cut off by -t), and given the wall-clock
      // length to the next run, so that a hole in the recording stays a hole of its length in the file
      const names: string[] = [];
      for (const [i, r] of runs.entries()) {
        const name = `piece${i}.mp4`;
        const media = Buffer.concat(r.media);
        const t0 = firstDecodeTime(media);
        await writeFile(join(dir, name), Buffer.concat([r.init, t0 ? shiftDecodeTimes(media, -t0) : media]));
        names.push(`file '${name}'`);
        const next = runs[i + 1];
        if (next) names.push(`duration ${(Math.max(next.startMs - r.startMs, r.endMs - r.startMs) / 1000).toFixed(3)}`);
      }
      await writeFile(join(dir, 'list.txt'), names.join('\n') + '\n');
      args = ['-hide_banner', '-loglevel', 'error', '-f', 'concat', '-safe', '0', '-i', join(dir, 'list.txt'), ...tail];
    }
    await new Promise<void>((resolveRun, reject) => {
      const child = spawn(o.ffmpegPath, args, { stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => { err = (err + c.toString()).slice(-2000); });
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolveRun() : reject(new Error(`ffmpeg export failed (${code}): ${err.trim().split('\n').slice(-2).join(' ')}`))));
      if (stdin && child.stdin) {
        child.stdin.on('error', () => {});
        (async () => {
          for (const b of stdin!) if (!child.stdin!.write(b)) await new Promise((r) => child.stdin!.once('drain', r));
          child.stdin!.end();
        })().catch(() => {});
      }
    });
    const fh = await open(out, 'r');
    const { size } = await fh.stat();
    await fh.close();
    return { path: out, bytes: size, startMs, endMs, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

export function streamFile(path: string): Readable {
  return createReadStream(path);
}
