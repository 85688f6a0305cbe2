/**
 * The time range of a recording request (timeline, playback, export; StreetEye's own recordings and GB channels'):
 * ISO 8601 times or ms since the epoch, `to` after `from`, at most `maxMs` long. One definition, so every playback
 * route accepts the same times and says the same thing about a bad one.
 */

/** ms since the epoch; undefined when absent, NaN when not a time. */
export function parseTime(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v);
  if (/^\d{10,15}$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return NaN;
  return Date.parse(s);
}

export interface TimeRange { from: number; to: number }

/** The range, or what is wrong with it in both languages. */
export function checkTimeRange(from: number, to: number, maxMs: number): TimeRange | { zh: string; en: string } {
  if (Number.isNaN(from) || Number.isNaN(to)) return { zh: '时间格式错误', en: 'from/to must be ISO 8601 times or ms since the epoch' };
  if (to <= from) return { zh: '结束时间须晚于开始时间', en: 'to must be after from' };
  if (to - from > maxMs) return { zh: '时间范围过长', en: `the range may be at most ${maxMs / 3600_000} h` };
  return { from, to };
}
