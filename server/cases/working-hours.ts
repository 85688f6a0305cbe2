/**
 * Working-time calendar for case time limits (时限). Time limits are counted in working hours: a case
 * filed on Friday at 16:30 with a 4-hour limit is due on Monday at 11:30 (Fri 16:30–17:30, Mon 08:30–11:30).
 *
 * The calendar is data, not scattered literals: a city changes WORKING_CALENDAR (or passes its own) for
 * its office hours, public holidays and the weekend days it works in exchange (调休).
 * Asia/Shanghai has had no daylight saving since 1991, so a fixed UTC offset is exact.
 */
export interface WorkingCalendar {
  /** Minutes east of UTC of the city's clock (Asia/Shanghai: +480). */
  utcOffsetMinutes: number;
  /** ISO weekdays that are working days (1 = Monday ... 7 = Sunday). */
  workdays: number[];
  /** Working periods of a working day, local "HH:MM" pairs, in order and not overlapping. */
  periods: Array<[string, string]>;
  /** Local dates (YYYY-MM-DD) that are not worked although their weekday is (public holidays). */
  holidays: string[];
  /** Local dates that are worked although their weekday is not (调休 weekend working days). */
  extraWorkdays: string[];
}

export const WORKING_CALENDAR: WorkingCalendar = {
  utcOffsetMinutes: 8 * 60,
  workdays: [1, 2, 3, 4, 5],
  periods: [['08:30', '12:00'], ['13:30', '17:30']],
  holidays: [],
  extraWorkdays: [],
};

const DAY_MS = 86_400_000;
const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

function isWorkday(localDayStartMs: number, cal: WorkingCalendar): boolean {
  const date = new Date(localDayStartMs).toISOString().slice(0, 10);
  if (cal.holidays.includes(date)) return false;
  if (cal.extraWorkdays.includes(date)) return true;
  const iso = ((new Date(localDayStartMs).getUTCDay() + 6) % 7) + 1;
  return cal.workdays.includes(iso);
}

/** The instant `hours` working hours after `start` (start itself may fall outside working time). */
export function addWorkingHours(start: Date, hours: number, cal: WorkingCalendar = WORKING_CALENDAR): Date {
  if (!(hours > 0)) return new Date(start);
  const offset = cal.utcOffsetMinutes * 60_000;
  // Work in "local milliseconds": UTC arithmetic on the shifted instant gives local wall-clock fields.
  let cursor = start.getTime() + offset;
  let remaining = Math.round(hours * 3_600_000);
  const periods = cal.periods.map(([a, b]) => [minutesOf(a) * 60_000, minutesOf(b) * 60_000] as const);
  if (!periods.length || !cal.workdays.length && !cal.extraWorkdays.length) throw new Error('working calendar has no working time');
  for (let day = 0; day < 3660; day++) {
    const dayStart = Math.floor(cursor / DAY_MS) * DAY_MS;
    if (isWorkday(dayStart, cal)) {
      for (const [from, to] of periods) {
        const segStart = Math.max(dayStart + from, cursor);
        const segEnd = dayStart + to;
        if (segStart >= segEnd) continue;
        if (remaining <= segEnd - segStart) return new Date(segStart + remaining - offset);
        remaining -= segEnd - segStart;
        cursor = segEnd;
      }
    }
    cursor = dayStart + DAY_MS;
  }
  throw new Error('time limit does not fit in ten years of working time');
}

/** Working hours between two instants (for reports: how long a case really took in office time). */
export function workingHoursBetween(from: Date, to: Date, cal: WorkingCalendar = WORKING_CALENDAR): number {
  if (to <= from) return 0;
  const offset = cal.utcOffsetMinutes * 60_000;
  const end = to.getTime() + offset;
  let cursor = from.getTime() + offset;
  let total = 0;
  const periods = cal.periods.map(([a, b]) => [minutesOf(a) * 60_000, minutesOf(b) * 60_000] as const);
  while (cursor < end) {
    const dayStart = Math.floor(cursor / DAY_MS) * DAY_MS;
    if (isWorkday(dayStart, cal)) {
      for (const [a, b] of periods) {
        const s = Math.max(dayStart + a, cursor);
        const e = Math.min(dayStart + b, end);
        if (e > s) total += e - s;
      }
    }
    cursor = dayStart + DAY_MS;
  }
  return total / 3_600_000;
}
