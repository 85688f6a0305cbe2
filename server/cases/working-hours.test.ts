import { describe, expect, it } from 'vitest';
import { addWorkingHours, workingHoursBetween, WORKING_CALENDAR } from './working-hours.js';
import { formatCaseNo } from './case-number.js';

// Times written in Asia/Shanghai (+08:00); 2026-11-27 is a Friday.
const sh = (s: string) => new Date(`${s}+08:00`);

describe('working hours (08:30–12:00, 13:30–17:30 Mon–Fri, Asia/Shanghai)', () => {
  it('adds hours inside one working period', () => {
    expect(addWorkingHours(sh('2026-11-25T09:00:00'), 2)).toEqual(sh('2026-11-25T11:00:00'));
  });
  it('skips the lunch break', () => {
    expect(addWorkingHours(sh('2026-11-25T11:00:00'), 2)).toEqual(sh('2026-11-25T14:30:00'));
  });
  it('carries a Friday afternoon over the weekend', () => {
    expect(addWorkingHours(sh('2026-11-27T16:30:00'), 4)).toEqual(sh('2026-11-30T11:30:00'));
  });
  it('starts counting at the next opening when filed at night or at the weekend', () => {
    expect(addWorkingHours(sh('2026-11-28T22:00:00'), 1)).toEqual(sh('2026-11-30T09:30:00'));
    expect(addWorkingHours(sh('2026-11-25T06:00:00'), 3.5)).toEqual(sh('2026-11-25T12:00:00'));
  });
  it('counts whole days as 7.5 working hours, and honours holidays and swapped working days', () => {
    expect(addWorkingHours(sh('2026-11-25T08:30:00'), 15)).toEqual(sh('2026-11-26T17:30:00'));
    const cal = { ...WORKING_CALENDAR, holidays: ['2026-11-30'], extraWorkdays: ['2026-11-29'] };
    expect(addWorkingHours(sh('2026-11-27T16:30:00'), 4, cal)).toEqual(sh('2026-11-29T11:30:00'));
    expect(addWorkingHours(sh('2026-11-28T12:00:00'), 8, { ...cal, extraWorkdays: [] })).toEqual(sh('2026-12-02T09:00:00'));
  });
  it('measures working hours between two instants', () => {
    expect(workingHoursBetween(sh('2026-11-27T16:30:00'), sh('2026-11-30T11:30:00'))).toBe(4);
  });
  it('formats case numbers on the city clock', () => {
    expect(formatCaseNo(new Date('2026-11-25T17:00:00Z'), 123)).toBe('SE20261126-000123');
    expect(formatCaseNo(new Date('2026-11-25T01:00:00Z'), 1234567)).toBe('SE20261125-1234567');
  });
});
