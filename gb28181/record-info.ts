/**
 * Playback of a device's or lower platform's own recordings (GB/T 28181-2016 §9.7–9.9, A.2.4.5, appendix B):
 *   RecordInfo  MANSCDP query of a channel and a time range; the answer comes in pages (SumNum, RecordList of Items)
 *   MANSRTSP    the body of an INFO inside a playback dialog: PLAY (resume, Scale = speed, Range = seek), PAUSE
 *   MediaStatus NotifyType 121: the device reached the end of the requested range (we then send BYE)
 * GB times carry no zone: `2026-12-02T08:00:00` is the device's local time, Beijing time (UTC+8) by convention.
 */
import { child, textOf, type XmlElement } from './manscdp.js';

export interface RecordItem {
  channelId: string;
  name: string | null;
  /** ms since the epoch */
  startMs: number;
  endMs: number;
  /** time, alarm, manual, all */
  type: string | null;
  filePath: string | null;
  fileSize: number | null;
  recorderId: string | null;
}

/** ms since the epoch → GB local time (UTC+8, no zone). */
export function toGbTime(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19);
}

/** GB time → ms; accepts `YYYY-MM-DDTHH:MM:SS` (UTC+8) or an ISO time with a zone; NaN otherwise. */
export function fromGbTime(s: string | undefined): number {
  if (!s) return NaN;
  const t = s.trim();
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}$/.test(t)) return Date.parse(`${t.replace(' ', 'T')}+08:00`);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(t)) return Date.parse(t);
  return NaN;
}

export const RECORD_TYPES = ['all', 'time', 'alarm', 'manual'] as const;

/** One page of a RecordInfo Response: SumNum and the items it carries (bad items counted, not thrown). */
export function readRecordList(root: XmlElement): { sumNum: number | null; items: RecordItem[]; invalid: number } {
  const sum = Number(textOf(root, 'SumNum'));
  const list = child(root, 'RecordList');
  const items: RecordItem[] = [];
  let invalid = 0;
  for (const el of list?.children ?? []) {
    const startMs = fromGbTime(textOf(el, 'StartTime'));
    const endMs = fromGbTime(textOf(el, 'EndTime'));
    const id = textOf(el, 'DeviceID')?.trim() ?? textOf(root, 'DeviceID')?.trim() ?? '';
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs <= startMs || !/^\d{20}$/.test(id)) {
      invalid++;
      continue;
    }
    const size = Number(textOf(el, 'FileSize'));
    items.push({
      channelId: id,
      name: textOf(el, 'Name')?.slice(0, 200) ?? null,
      startMs,
      endMs,
      type: textOf(el, 'Type')?.slice(0, 16) ?? null,
      filePath: textOf(el, 'FilePath')?.slice(0, 200) ?? null,
      fileSize: Number.isFinite(size) && size >= 0 ? size : null,
      recorderId: textOf(el, 'RecorderID')?.slice(0, 20) ?? null,
    });
  }
  return { sumNum: Number.isInteger(sum) && sum >= 0 ? sum : null, items, invalid };
}

/** Adjacent or overlapping items (gap < toleranceMs) as one span each, sorted: a day's timeline. */
export function mergeRecordSpans(items: Array<Pick<RecordItem, 'startMs' | 'endMs'>>, toleranceMs = 1500): Array<{ startMs: number; endMs: number }> {
  const sorted = [...items].sort((a, b) => a.startMs - b.startMs);
  const out: Array<{ startMs: number; endMs: number }> = [];
  for (const it of sorted) {
    const last = out[out.length - 1];
    if (last && it.startMs - last.endMs < toleranceMs) last.endMs = Math.max(last.endMs, it.endMs);
    else out.push({ startMs: it.startMs, endMs: it.endMs });
  }
  return out;
}

/** Playback speeds GB devices accept in PLAY Scale (a negative scale is reverse play, which we do not ask for). */
export const SCALES = [0.25, 0.5, 1, 2, 4, 8, 16] as const;

export type MansrtspCommand = { method: 'PLAY'; scale?: number; rangeS?: number } | { method: 'PAUSE'; pauseTimeS?: number } | { method: 'TEARDOWN' };

/** An INFO body (Content-Type: Application/MANSRTSP). */
export function buildMansrtsp(cmd: MansrtspCommand, cseq: number): string {
  const lines = [`${cmd.method} MANSRTSP/1.0`, `CSeq: ${cseq}`];
  if (cmd.method === 'PLAY') {
    if (cmd.scale !== undefined) lines.push(`Scale: ${Number(cmd.scale.toFixed(3))}`);
    lines.push(`Range: npt=${cmd.rangeS !== undefined ? Math.max(0, Math.floor(cmd.rangeS)) : 'now'}-`);
  } else if (cmd.method === 'PAUSE') lines.push(`PauseTime: ${cmd.pauseTimeS ?? 'now'}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** Parse a MANSRTSP body; undefined when it is none (a device answers 400). */
export function parseMansrtsp(text: string): (MansrtspCommand & { cseq: number }) | undefined {
  const lines = text.slice(0, 4096).split(/\r?\n/);
  const m = /^(PLAY|PAUSE|TEARDOWN) MANSRTSP\/1\.0$/.exec(lines[0]?.trim() ?? '');
  if (!m) return undefined;
  const h = new Map<string, string>();
  for (const l of lines.slice(1, 20)) {
    const i = l.indexOf(':');
    if (i > 0) h.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  const cseq = Number(h.get('cseq'));
  if (!Number.isInteger(cseq) || cseq < 0) return undefined;
  if (m[1] === 'PLAY') {
    const scale = h.has('scale') ? Number(h.get('scale')) : undefined;
    if (scale !== undefined && (!Number.isFinite(scale) || scale === 0 || Math.abs(scale) > 64)) return undefined;
    const r = /^npt=(\d+(?:\.\d+)?)-/.exec(h.get('range') ?? '');
    return { method: 'PLAY', cseq, scale, rangeS: r ? Number(r[1]) : undefined };
  }
  if (m[1] === 'PAUSE') return { method: 'PAUSE', cseq };
  return { method: 'TEARDOWN', cseq };
}

export const MANSRTSP_CONTENT_TYPE = 'Application/MANSRTSP';
