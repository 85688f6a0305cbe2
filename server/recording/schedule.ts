/**
 * Schedule mode (计划录像): weekly windows a technician edits, e.g. {days:[1,2,3,4,5], from:'07:00', to:'09:30'}.
 * Times are the city's clock (WORKING_CALENDAR.utcOffsetMinutes, Asia/Shanghai: UTC+8, no daylight saving), not the
 * server's time zone: a window means the same hours on every node of a cluster, wherever it runs. A window whose `to`
 * is not after its `from` passes midnight (22:00–06:00 on Friday records Friday night into Saturday morning); `to` may
 * be 24:00 (the end of the day).
 */
import { WORKING_CALENDAR } from '../cases/working-hours.js';
import type { ScheduleWindow } from './recording-repo.js';

const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const minutes = (s: string): number => { const [h, m] = s.split(':').map(Number); return h * 60 + m; };

/** A problem with one field of a schedule: the field's path and the message in both languages. */
export interface ScheduleProblem { field: string; zh: string; en: string }

/** Check the windows a technician sent; undefined when they are good. */
export function scheduleProblem(windows: ScheduleWindow[]): ScheduleProblem | undefined {
  for (const [i, w] of windows.entries()) {
    const at = `schedule.${i}`;
    if (!HHMM.test(w.from)) return { field: `${at}.from`, zh: `第 ${i + 1} 个时段的开始时间应为 00:00–23:59（时:分）`, en: `window ${i + 1}: from must be a time 00:00–23:59 (HH:MM)` };
    if (!HHMM.test(w.to) && w.to !== '24:00') return { field: `${at}.to`, zh: `第 ${i + 1} 个时段的结束时间应为 00:00–24:00（时:分）`, en: `window ${i + 1}: to must be a time 00:00–24:00 (HH:MM)` };
    if (w.to !== '24:00' && minutes(w.from) === minutes(w.to)) return { field: `${at}.to`, zh: `第 ${i + 1} 个时段的起止时间不能相同`, en: `window ${i + 1}: from and to must differ (a whole day is 00:00–24:00)` };
    const bad = w.days.find((d) => !Number.isInteger(d) || d < 1 || d > 7);
    if (!w.days.length || bad !== undefined) return { field: `${at}.days`, zh: `第 ${i + 1} 个时段的星期应为 1（周一）到 7（周日）`, en: `window ${i + 1}: days must be ISO weekdays 1 (Monday) to 7 (Sunday)` };
  }
  return undefined;
}

/** ISO weekday (Monday = 1) and minute of the day of `at` on the city's clock. */
export function cityClock(at: Date, utcOffsetMinutes = WORKING_CALENDAR.utcOffsetMinutes): { dow: number; minute: number } {
  const local = new Date(at.getTime() + utcOffsetMinutes * 60_000);
  return { dow: ((local.getUTCDay() + 6) % 7) + 1, minute: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

/** Is `at` inside one of the windows (the city's clock; a window may pass midnight)? */
export function inSchedule(windows: ScheduleWindow[], at: Date = new Date(), utcOffsetMinutes = WORKING_CALENDAR.utcOffsetMinutes): boolean {
  const { dow, minute } = cityClock(at, utcOffsetMinutes);
  const prev = dow === 1 ? 7 : dow - 1;
  return windows.some((w) => {
    const from = minutes(w.from);
    const to = minutes(w.to); // 24:00 → 1440
    if (from < to) return w.days.includes(dow) && minute >= from && minute < to;
    return (w.days.includes(dow) && minute >= from) || (w.days.includes(prev) && minute < to);
  });
}
