import type { Queryable } from '../db/db.js';
import { WORKING_CALENDAR } from './working-hours.js';

/**
 * Case numbers: SE<yyyymmdd>-<nnnnnn>, e.g. SE20261125-000123. The date is the filing day on the city's clock;
 * the serial comes from the PostgreSQL sequence case_no_seq, so numbers are unique under any concurrency
 * (a sequence never hands the same value twice, even to transactions that roll back). The serial does not
 * restart each day (a restart would need a per-day counter row and its lock); it widens past 6 digits.
 */
export function formatCaseNo(filedAt: Date, serial: number, utcOffsetMinutes = WORKING_CALENDAR.utcOffsetMinutes): string {
  const local = new Date(filedAt.getTime() + utcOffsetMinutes * 60_000).toISOString();
  return `SE${local.slice(0, 4)}${local.slice(5, 7)}${local.slice(8, 10)}-${String(serial).padStart(6, '0')}`;
}

export async function nextCaseNo(q: Queryable, filedAt: Date): Promise<string> {
  const res = await q.query<{ n: number }>(`SELECT nextval('case_no_seq')::bigint AS n`);
  return formatCaseNo(filedAt, Number(res.rows[0].n));
}
