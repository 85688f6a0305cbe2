import { union } from './stays.js';
import { iou, type Box } from './types.js';

/**
 * Learning from reviews, as pure functions the server feeds with stored candidates: suppression regions from
 * rejections, spots that keep being rejected, and per-rule thresholds replayed over what reviewers decided.
 */

/** Rejection reasons that say "this place is never an event" for the rule: they become suppression regions. */
export const SUPPRESSING_REASONS: Readonly<Record<string, { days: number | null; zh: string; en: string }>> = {
  permanent_object: { days: null, zh: '固定物体', en: 'permanent object' },
  legal_parking_bay: { days: null, zh: '合法停车位', en: 'legal parking bay' },
  // a licence runs out: the region lapses with it unless someone extends it on the rule page
  licensed_vendor: { days: 90, zh: '持证经营', en: 'licensed vendor' },
};

/** The rejected candidate's box grown by `margin` of its size on each side (the object shifts a little next time). */
export function regionFromRejection(box: Box, margin = 0.15): Box {
  const w = box.x2 - box.x1;
  const h = box.y2 - box.y1;
  const c = (v: number) => Math.min(1, Math.max(0, v));
  return { x1: c(box.x1 - w * margin), y1: c(box.y1 - h * margin), x2: c(box.x2 + w * margin), y2: c(box.y2 + h * margin) };
}

/** Whether an object with this box stands inside the region (bottom centre, as zones judge it) or overlaps it well. */
export function coveredBy(region: Box, box: Box, minIou = 0.3): boolean {
  const cx = (box.x1 + box.x2) / 2;
  const foot = box.y2 - 0.02 * (box.y2 - box.y1);
  return (cx >= region.x1 && cx <= region.x2 && foot >= region.y1 && foot <= region.y2) || iou(region, box) >= minIou;
}

/** A reviewed candidate as stored (events row): what the replay needs of its track. */
export interface ReviewedCandidate {
  id: string;
  status: 'confirmed' | 'rejected';
  reason: string | null;
  /** Normalised box. */
  box: Box | null;
  /** Peak score of the stay. */
  score: number;
  count: number;
  /** How long the object stood there: last seen − first seen (its whole stay, seconds). */
  stayedSeconds: number;
}

export interface SpotSuggestion {
  box: Box;
  rejections: number;
  reasons: Record<string, number>;
  eventIds: string[];
}

/**
 * Places a rule keeps being rejected for: rejected candidates grouped by overlap; a group of at least `minRejections`
 * with no confirmed candidate inside and no region already covering it is suggested as a suppression region.
 */
export function suggestSpots(reviewed: ReviewedCandidate[], existing: Box[], minRejections = 3): SpotSuggestion[] {
  const rejected = reviewed.filter((r) => r.status === 'rejected' && r.box && !existing.some((x) => coveredBy(x, r.box!)));
  const confirmed = reviewed.filter((r) => r.status === 'confirmed' && r.box);
  const groups: ReviewedCandidate[][] = [];
  for (const r of rejected) {
    const g = groups.find((members) => members.some((m) => iou(m.box!, r.box!) >= 0.3));
    if (g) g.push(r);
    else groups.push([r]);
  }
  const out: SpotSuggestion[] = [];
  for (const g of groups) {
    if (g.length < minRejections) continue;
    const box = regionFromRejection(union(g.map((m) => m.box!)), 0.1);
    if (confirmed.some((c) => coveredBy(box, c.box!))) continue;
    const reasons: Record<string, number> = {};
    for (const m of g) reasons[m.reason ?? 'unknown'] = (reasons[m.reason ?? 'unknown'] ?? 0) + 1;
    out.push({ box, rejections: g.length, reasons, eventIds: g.map((m) => m.id) });
  }
  return out.sort((a, b) => b.rejections - a.rejections);
}

export type ThresholdField = 'minDwellSeconds' | 'minScore' | 'minArea' | 'minCount';

export interface ThresholdSuggestion {
  field: ThresholdField;
  current: number;
  suggested: number;
  removesRejected: number;
  rejected: number;
  keepsConfirmed: number;
  confirmed: number;
  message: { zh: string; en: string };
}

const FIELDS: { field: ThresholdField; of: (r: ReviewedCandidate) => number | null; round: (v: number) => number; zh: string; en: string; unit: (v: number) => string }[] = [
  { field: 'minDwellSeconds', of: (r) => r.stayedSeconds, round: (v) => Math.floor(v / 10) * 10, zh: '最短停留', en: 'min dwell', unit: (v) => `${v} s` },
  { field: 'minScore', of: (r) => r.score, round: (v) => Math.floor(v * 20 + 1e-9) / 20, zh: '最低置信度', en: 'min score', unit: (v) => v.toFixed(2) },
  {
    field: 'minArea',
    of: (r) => (r.box ? (r.box.x2 - r.box.x1) * (r.box.y2 - r.box.y1) : null),
    // down to two significant digits (0.00347 → 0.0034)
    round: (v) => {
      if (v <= 0) return 0;
      const step = 10 ** (Math.floor(Math.log10(v)) - 1);
      return Number((Math.floor(v / step + 1e-9) * step).toPrecision(2));
    },
    zh: '最小面积', en: 'min area', unit: (v) => String(v),
  },
  { field: 'minCount', of: (r) => r.count, round: (v) => Math.floor(v), zh: '最少数量', en: 'min count', unit: (v) => String(v) },
];

/**
 * Per rule (and camera): for each threshold, the strictest value that would still have raised every confirmed
 * candidate, replayed over the stored stays (a stay opens under min dwell D if it lasted at least D; under min score
 * S if its peak reached S, …). Suggested when it would have removed at least one rejection. Needs `minReviews`
 * reviews and at least one confirmation (without one there is nothing to keep, so no safe threshold).
 */
export function suggestThresholds(
  current: Record<ThresholdField, number>,
  reviewed: ReviewedCandidate[],
  minReviews = 5,
): ThresholdSuggestion[] {
  const confirmed = reviewed.filter((r) => r.status === 'confirmed');
  const rejected = reviewed.filter((r) => r.status === 'rejected');
  if (reviewed.length < minReviews || !confirmed.length || !rejected.length) return [];
  const out: ThresholdSuggestion[] = [];
  for (const f of FIELDS) {
    const kept = confirmed.map(f.of).filter((v): v is number => v !== null);
    if (kept.length !== confirmed.length) continue;
    const suggested = f.round(Math.min(...kept));
    if (!(suggested > current[f.field])) continue;
    const removes = rejected.filter((r) => {
      const v = f.of(r);
      return v !== null && v < suggested - 1e-9;
    }).length;
    if (!removes) continue;
    const keeps = kept.filter((v) => v >= suggested - 1e-9).length;
    const all = keeps === confirmed.length;
    out.push({
      field: f.field,
      current: current[f.field],
      suggested,
      removesRejected: removes,
      rejected: rejected.length,
      keepsConfirmed: keeps,
      confirmed: confirmed.length,
      message: {
        zh: `将${f.zh}提高到 ${f.unit(suggested)}：可去掉 ${rejected.length} 次驳回中的 ${removes} 次，${all ? `保留全部 ${confirmed.length} 次确认` : `保留 ${confirmed.length} 次确认中的 ${keeps} 次`}`,
        en: `raise ${f.en} to ${f.unit(suggested)}: would have removed ${removes} of ${rejected.length} rejections and kept ${all ? `all ${confirmed.length}` : `${keeps} of ${confirmed.length}`} confirmations`,
      },
    });
  }
  return out.sort((a, b) => b.removesRejected - a.removesRejected);
}
