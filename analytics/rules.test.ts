import { describe, expect, it } from 'vitest';
import { PRESETS, validateRule, type RuleContext } from './rules.js';
import { scheduleActive } from './schedule.js';

const coco = ['person', 'car', 'truck', 'bus', 'bicycle', 'chair', 'dining table', 'umbrella', 'bench'];
const ctx: RuleContext = {
  eventTypes: new Set(['illegal_motor_parking', 'road_occupying_stall', 'exposed_garbage', 'dirty_road']),
  classesOf: (id) => (id === 'yolox_nano' ? coco : undefined),
  defaultModel: 'yolox_nano',
};
const zone = [[0.1, 0.1], [0.6, 0.1], [0.6, 0.5], [0.1, 0.5]];
const fields = (input: unknown) => {
  const r = validateRule(input, ctx);
  return r.ok ? [] : r.errors.map((e) => e.field);
};

describe('rules', () => {
  it('fills a rule from its event type preset', () => {
    const r = validateRule({ cameraId: 'c1', eventType: 'illegal_motor_parking', zone }, ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rule).toMatchObject({ detector: 'model', model: 'yolox_nano', classes: ['car', 'truck', 'bus'], enabled: true, schedule: null });
    expect(r.rule.minDwellSeconds).toBe(PRESETS.illegal_motor_parking.minDwellSeconds);
    expect(r.rule.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('uses the foreground detector for events no model has a class for', () => {
    const r = validateRule({ cameraId: 'c1', eventType: 'exposed_garbage', zone }, ctx);
    expect(r.ok && r.rule.detector).toBe('foreground');
  });

  it('refuses bad rules with the fields at fault', () => {
    expect(fields({ cameraId: 'c1', eventType: 'illegal_motor_parking', zone: [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]] })).toEqual(['zone']);
    expect(fields({ cameraId: 'c1', eventType: 'illegal_motor_parking', zone: [[0.1, 0.1], [1.5, 0.1], [0.5, 0.5]] })).toEqual(['zone[1]']);
    expect(fields({ cameraId: 'c1', eventType: 'no_such_event', zone, classes: ['car'] })).toEqual(['eventType']);
    expect(fields({ cameraId: 'c1', eventType: 'illegal_motor_parking', zone, classes: ['car', 'spaceship'] })).toEqual(['classes[1]']);
    expect(fields({ cameraId: 'c1', eventType: 'illegal_motor_parking', zone, model: 'nope' })).toEqual(['model']);
    expect(fields({ cameraId: 'c1', eventType: 'dirty_road', zone })).toEqual(['classes']);
    expect(fields({ cameraId: 'c1', eventType: 'illegal_motor_parking', zone, minScore: 2, minCount: 0.5, colour: 'red' })).toEqual(['colour', 'minScore', 'minCount']);
    expect(fields({ cameraId: 'c1', eventType: 'illegal_motor_parking', zone, schedule: { days: [0, 1], from: '7:00', to: '22:00' } })).toEqual([
      'schedule.days[0]',
      'schedule.from',
    ]);
  });

  it('evaluates schedules in the configured time zone, overnight windows included', () => {
    // 2026-11-25 is a Wednesday; 23:30 UTC is Thursday 07:30 in Shanghai.
    const ts = Date.UTC(2026, 10, 25, 23, 30);
    expect(scheduleActive({ days: [4], from: '07:00', to: '22:00' }, ts, 'Asia/Shanghai')).toBe(true);
    expect(scheduleActive({ days: [3], from: '07:00', to: '22:00' }, ts, 'Asia/Shanghai')).toBe(false);
    expect(scheduleActive({ days: [3], from: '07:00', to: '22:00' }, ts, 'UTC')).toBe(false);
    expect(scheduleActive({ days: [3], from: '22:00', to: '06:00' }, ts, 'UTC')).toBe(true);
    expect(scheduleActive({ days: [3], from: '22:00', to: '06:00' }, ts + 3 * 3600_000, 'UTC')).toBe(true);
    expect(scheduleActive(null, ts, 'UTC')).toBe(true);
  });
});
