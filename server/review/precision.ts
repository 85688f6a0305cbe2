/**
 * AI precision, one definition for every page that shows it (KPI, the rules page's report, the rule list):
 *   precision = confirmed / reviewed, reviewed = confirmed + rejected; null when nothing was reviewed.
 * Pending candidates do not count. A rule below PRECISION_THRESHOLD after PRECISION_MIN_REVIEWS reviews is flagged.
 * Each caller states its window (PrecisionWindow) beside the figure: KPI counts reviews made in the period (its column
 * label, kpi/kpi-types.ts); the rules page's report counts candidates first seen in [from, to), all to date without
 * bounds (`window` in GET /api/analytics/precision, and the panel's heading); the rule list counts all time (its header).
 */
export const PRECISION_THRESHOLD = 0.5;
export const PRECISION_MIN_REVIEWS = 5;

/**
 * The window a precision figure counts, stated with it: events first seen in [from, to) (the rules page's report;
 * no bounds: all candidates to date) or reviewed in [from, to) (KPI: the reviews of the period).
 */
export interface PrecisionWindow {
  by: 'first_seen' | 'reviewed_at';
  from?: string | Date | null;
  to?: string | Date | null;
}

export function precision(c: { confirmed: number; rejected: number }): number | null {
  const reviewed = c.confirmed + c.rejected;
  return reviewed ? c.confirmed / reviewed : null;
}

/** The counts with reviewed, precision and the low-precision flag. */
export function withPrecision<T extends { confirmed: number; rejected: number }>(c: T): T & { reviewed: number; precision: number | null; flagged: boolean } {
  const reviewed = c.confirmed + c.rejected;
  const p = precision(c);
  return { ...c, reviewed, precision: p, flagged: p !== null && reviewed >= PRECISION_MIN_REVIEWS && p < PRECISION_THRESHOLD };
}
