/** Weekly active window: ISO weekdays (1 = Monday .. 7 = Sunday) and a local time range. */
export interface Schedule {
  days: number[];
  /** 'HH:MM'; a range with from > to runs overnight (22:00-06:00). */
  from: string;
  to: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

export function parseHhmm(s: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** Local weekday and minute of day of an instant in a time zone. */
export function localTime(ts: number, timeZone: string): { day: number; minute: number } {
  const parts = formatter(timeZone).formatToParts(new Date(ts));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: WEEKDAYS[get('weekday')], minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** Whether a schedule is active at ts; null schedule means always. Overnight windows belong to their start day. */
export function scheduleActive(schedule: Schedule | null, ts: number, timeZone: string): boolean {
  if (!schedule) return true;
  const from = parseHhmm(schedule.from)!;
  const to = parseHhmm(schedule.to)!;
  const { day, minute } = localTime(ts, timeZone);
  if (from === to) return schedule.days.includes(day);
  if (from < to) return schedule.days.includes(day) && minute >= from && minute < to;
  const previous = day === 1 ? 7 : day - 1;
  return (schedule.days.includes(day) && minute >= from) || (schedule.days.includes(previous) && minute < to);
}
