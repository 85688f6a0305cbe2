/**
 * After a crash (or any start): make the index and the files agree for this store.
 *   - a row still "open" (the file being written when the node died): the file is scanned, its torn tail trimmed to
 *     the last whole GOP, and the row completed with what is really there (or removed when nothing is);
 *   - a file without a row (its row never reached the database, or retention deleted the row and died before the
 *     unlink): scanned and indexed again — retention will take it in order if it is old;
 *   - a row whose file is gone: removed (the bytes are lost; the index must not promise them).
 * Only the day folders of the last `days` days are walked, so a start stays quick on a full disk.
 */
import { readdir, readFile, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Fmp4Parser } from '../../ingest/fmp4.js';
import type { Queryable } from '../db/db.js';
import type { GopTuple } from './segment-file.js';
import { completeSegment, deleteSegmentByFile, nodeSegments } from './recording-repo.js';

export interface ScannedFile {
  initBytes: number;
  /** bytes that form whole GOPs (the rest is a torn tail) */
  bytes: number;
  durationMs: number;
  gops: GopTuple[];
  codec?: string;
  width?: number;
  height?: number;
}

const NAME = /^(main|sub)-(\d{10,15})\.mp4$/;

/** Read a recording file back: init segment, fragments, GOPs (the last GOP only when it is whole or the file ends cleanly). */
export function scanRecording(data: Buffer): ScannedFile | undefined {
  let init: { bytes: number; codec?: string; width?: number; height?: number } | undefined;
  const frags: Array<{ offset: number; bytes: number; t: number; dur: number; independent: boolean }> = [];
  let offset = 0;
  let first: number | undefined;
  const parser = new Fmp4Parser({
    onInit: (i) => {
      if (!init) init = { bytes: i.data.length, codec: i.track.codec, width: i.track.width, height: i.track.height };
      offset = i.data.length;
    },
    onFragment: (f) => {
      const ts = f.timescale || 1;
      first ??= f.baseDecodeTime / ts;
      frags.push({ offset, bytes: f.data.length, t: (f.baseDecodeTime / ts - first) * 1000, dur: (f.duration / ts) * 1000, independent: f.independent });
      offset += f.data.length;
    },
  });
  try {
    parser.push(data);
  } catch {
    // a corrupt box: keep what parsed before it
  }
  if (!init) return undefined;
  const gops: GopTuple[] = [];
  for (const f of frags) {
    if (f.independent || !gops.length) gops.push([f.offset, Math.round(f.t), 0, f.bytes]);
    const g = gops[gops.length - 1];
    g[2] = Math.max(g[2], Math.round(f.t + f.dur) - g[1]);
  }
  const whole = offset; // end of the last complete fragment
  const last = gops[gops.length - 1];
  return { initBytes: init.bytes, bytes: whole, durationMs: last ? last[1] + last[2] : 0, gops, codec: init.codec, width: init.width, height: init.height };
}

export interface ReconcileReport {
  completed: number;
  recovered: number;
  removedRows: number;
  removedFiles: number;
  trimmedBytes: number;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

export async function reconcileStore(db: Queryable, o: { root: string; nodeId: string; days?: number; now?: number }): Promise<ReconcileReport> {
  const report: ReconcileReport = { completed: 0, recovered: 0, removedRows: 0, removedFiles: 0, trimmedBytes: 0 };
  const now = o.now ?? Date.now();
  const sinceMs = now - (o.days ?? 2) * 86_400_000;

  const fix = async (rel: string, row: { cameraId: string; stream: 'main' | 'sub'; startMs: number } ): Promise<'kept' | 'removed'> => {
    const path = join(o.root, rel);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch {
      await deleteSegmentByFile(db, rel);
      report.removedRows++;
      return 'removed';
    }
    const scan = scanRecording(data);
    if (!scan || !scan.gops.length) {
      await deleteSegmentByFile(db, rel);
      await unlink(path).catch(() => {});
      report.removedFiles++;
      return 'removed';
    }
    if (scan.bytes < data.length) {
      await truncate(path, scan.bytes);
      report.trimmedBytes += data.length - scan.bytes;
    }
    await completeSegment(db, o.nodeId, {
      cameraId: row.cameraId, stream: row.stream, file: rel, startMs: row.startMs, initBytes: scan.initBytes,
      codec: scan.codec, width: scan.width, height: scan.height, endMs: row.startMs + scan.durationMs, bytes: scan.bytes, gops: scan.gops,
    });
    return 'kept';
  };

  // rows left open by the previous run of this store
  const open = await nodeSegments(db, o.nodeId, `status = 'open'`);
  for (const r of open) if ((await fix(r.file, r)) === 'kept') report.completed++;

  // files of recent days: any without a row is indexed again; rows without a file go
  const known = new Map((await nodeSegments(db, o.nodeId, `start_at >= to_timestamp($2 / 1000.0)`, [sinceMs - 86_400_000])).map((r) => [r.file, r]));
  const seen = new Set<string>();
  const cameras = await readdir(o.root, { withFileTypes: true }).catch(() => []);
  for (const cam of cameras) {
    if (!cam.isDirectory() || !/^[0-9a-f-]{36}$/.test(cam.name)) continue;
    const days = await readdir(join(o.root, cam.name), { withFileTypes: true }).catch(() => []);
    for (const day of days) {
      if (!day.isDirectory() || !/^\d{4}-\d{2}-\d{2}$/.test(day.name)) continue;
      if (Date.parse(`${day.name}T23:59:59.999Z`) < sinceMs) continue;
      for (const name of await readdir(join(o.root, cam.name, day.name)).catch(() => [] as string[])) {
        const m = NAME.exec(name);
        if (!m) continue;
        const rel = `${cam.name}/${day.name}/${name}`;
        seen.add(rel);
        if (known.has(rel)) continue;
        if ((await fix(rel, { cameraId: cam.name, stream: m[1] as 'main' | 'sub', startMs: Number(m[2]) })) === 'kept') report.recovered++;
      }
    }
  }
  for (const [rel, r] of known) {
    if (seen.has(rel) || r.startMs < sinceMs) continue;
    if (!(await exists(join(o.root, rel)))) {
      await deleteSegmentByFile(db, rel);
      report.removedRows++;
    }
  }
  return report;
}
