/**
 * Time limits per event type (时限), in working hours (cases/working-hours.ts), kept on event_types.time_limit_hours.
 * One rule for every route that writes them (PUT /api/time-limits/:eventType, PATCH /api/event-types/:key):
 * more than 0 and at most MAX_TIME_LIMIT_HOURS working hours; null (PATCH) means no time limit.
 * A change applies to cases filed afterwards (a filed case keeps the due time it got).
 */
export const MAX_TIME_LIMIT_HOURS = 10_000;

export const timeLimitHours = { type: 'number', exclusiveMinimum: 0, maximum: MAX_TIME_LIMIT_HOURS } as const;
export const nullableTimeLimitHours = { type: ['number', 'null'], exclusiveMinimum: 0, maximum: MAX_TIME_LIMIT_HOURS } as const;
