import { randomUUID } from 'node:crypto';
import { Checker, type FieldError } from './validate.js';
import { validatePolygon } from './zones.js';
import { parseHhmm, type Schedule } from './schedule.js';
import type { Polygon } from './types.js';

export type DetectorKind = 'model' | 'foreground';

/** A rule as stored (table `rules`) and as the pipeline runs it. */
export interface Rule {
  id: string;
  cameraId: string;
  /** Key of the classification table (event_types.key), e.g. illegal_motor_parking. */
  eventType: string;
  name?: string;
  /** Polygon in normalised 0..1 frame coordinates. */
  zone: Polygon;
  detector: DetectorKind;
  /** Model id (manifest id) for detector 'model'; the engine's default when absent. */
  model?: string;
  /** Class names of the model; empty for 'foreground'. */
  classes: string[];
  minScore: number;
  /** Minimum box area as a fraction of the frame area (0..1). */
  minArea: number;
  /** How many qualifying objects must be there together (1 = one candidate per object). */
  minCount: number;
  /**
   * A stay opens only when one of its objects is of these classes (a stall needs its umbrella or table: two
   * people standing still are not a stall). From the event type's preset, kept to the rule's classes; empty = none.
   */
  requireClasses: string[];
  /** How long an object must stay put before a candidate opens (seconds of video time). */
  minDwellSeconds: number;
  schedule: Schedule | null;
  /** No new candidate in the same place for this long after one closed or was rejected. */
  cooldownSeconds: number;
  enabled: boolean;
}

export interface RuleContext {
  /** Keys of the classification table. */
  eventTypes: ReadonlySet<string>;
  /** Class names a model knows; undefined when the model id is unknown. */
  classesOf: (modelId: string) => readonly string[] | undefined;
  defaultModel: string;
}

export type RuleResult = { ok: true; rule: Rule } | { ok: false; errors: FieldError[] };

const RULE_KEYS = [
  'id', 'cameraId', 'eventType', 'name', 'zone', 'detector', 'model', 'classes', 'minScore', 'minArea', 'minCount',
  'minDwellSeconds', 'schedule', 'cooldownSeconds', 'enabled',
] as const;

/**
 * Validates a rule as submitted (API body or DB row mapped to camelCase). Missing optional fields take the
 * event type's preset, then generic defaults. Every problem is returned with its field, for a 4xx answer.
 */
export function validateRule(input: unknown, ctx: RuleContext): RuleResult {
  const c = new Checker();
  const r = c.object(input, '', RULE_KEYS);
  if (!r) return { ok: false, errors: c.errors };
  const eventType = c.string(r.eventType, 'eventType');
  if (eventType !== undefined && !ctx.eventTypes.has(eventType)) c.fail('eventType', `unknown event type ${eventType}`);
  const preset: Partial<Rule> = (eventType && PRESETS[eventType]) || {};
  const pick = <K extends keyof Rule>(k: K): unknown => (r[k] !== undefined ? r[k] : preset[k]);

  const id = r.id === undefined ? randomUUID() : c.string(r.id, 'id', { maxLength: 64 });
  const cameraId = c.string(r.cameraId, 'cameraId', { maxLength: 64 });
  const name = c.string(r.name, 'name', { optional: true, maxLength: 200 });
  const zoneCheck = validatePolygon(r.zone, 'zone');
  c.errors.push(...zoneCheck.errors);
  const detector = c.oneOf(pick('detector') ?? 'model', 'detector', ['model', 'foreground'] as const);
  const model = detector === 'model' ? c.string(r.model ?? ctx.defaultModel, 'model') : undefined;
  if (detector === 'foreground' && r.model !== undefined) c.fail('model', 'a foreground rule uses no model');

  const classes: string[] = [];
  const classesRaw = c.array(pick('classes') ?? [], 'classes', { maxLength: 100 });
  classesRaw?.forEach((v, i) => {
    const s = c.string(v, `classes[${i}]`);
    if (s !== undefined) classes.push(s);
  });
  if (detector === 'model' && model !== undefined) {
    const known = ctx.classesOf(model);
    if (!known) c.fail('model', `unknown model ${model}`);
    else {
      if (classesRaw && classes.length === 0) c.fail('classes', 'a model rule needs at least one class');
      classes.forEach((cl, i) => {
        if (!known.includes(cl)) c.fail(`classes[${i}]`, `model ${model} has no class ${cl}`);
      });
    }
  }
  if (detector === 'foreground' && classes.length) c.fail('classes', 'a foreground rule takes no classes');

  // Foreground blobs score by contrast with the background (>= 1/3 once they count at all).
  const minScore = c.number(pick('minScore') ?? (detector === 'foreground' ? 0.3 : 0.4), 'minScore', { min: 0, max: 1 });
  const minArea = c.number(pick('minArea') ?? 0, 'minArea', { min: 0, max: 1 });
  const minCount = c.number(pick('minCount') ?? 1, 'minCount', { integer: true, min: 1, max: 1000 });
  const requireClasses = (preset.requireClasses ?? []).filter((k) => classes.includes(k));
  const minDwellSeconds = c.number(pick('minDwellSeconds') ?? 60, 'minDwellSeconds', { min: 0, max: 7 * 86400 });
  const cooldownSeconds = c.number(pick('cooldownSeconds') ?? 600, 'cooldownSeconds', { min: 0, max: 30 * 86400 });
  const enabled = c.boolean(r.enabled ?? true, 'enabled');
  const schedule = r.schedule === undefined || r.schedule === null ? null : validateSchedule(c, r.schedule);

  if (!c.ok) return { ok: false, errors: c.errors };
  return {
    ok: true,
    rule: {
      id: id!,
      cameraId: cameraId!,
      eventType: eventType!,
      ...(name ? { name } : {}),
      zone: zoneCheck.polygon!,
      detector: detector!,
      ...(model ? { model } : {}),
      classes,
      minScore: minScore!,
      minArea: minArea!,
      minCount: minCount!,
      requireClasses,
      minDwellSeconds: minDwellSeconds!,
      schedule: schedule ?? null,
      cooldownSeconds: cooldownSeconds!,
      enabled: enabled!,
    },
  };
}

function validateSchedule(c: Checker, raw: unknown): Schedule | undefined {
  const s = c.object(raw, 'schedule', ['days', 'from', 'to']);
  if (!s) return undefined;
  const daysRaw = c.array(s.days, 'schedule.days', { minLength: 1, maxLength: 7 });
  const days = daysRaw?.map((d, i) => c.number(d, `schedule.days[${i}]`, { integer: true, min: 1, max: 7 }));
  if (days && new Set(days).size !== days.length) c.fail('schedule.days', 'days must be unique');
  const from = c.string(s.from, 'schedule.from');
  const to = c.string(s.to, 'schedule.to');
  if (from !== undefined && parseHhmm(from) === null) c.fail('schedule.from', 'must be HH:MM (00:00..23:59)');
  if (to !== undefined && parseHhmm(to) === null) c.fail('schedule.to', 'must be HH:MM (00:00..23:59)');
  if (!days || days.some((d) => d === undefined) || from === undefined || to === undefined) return undefined;
  return { days: days as number[], from, to };
}

const VEHICLES = ['car', 'truck', 'bus'];

/**
 * Defaults per event type key (a rule only has to give its camera, event type and zone). COCO class names;
 * events no COCO model can see use the class-agnostic foreground detector.
 */
export const PRESETS: Readonly<Record<string, Partial<Rule>>> = {
  illegal_motor_parking: { detector: 'model', classes: VEHICLES, minScore: 0.4, minDwellSeconds: 120, cooldownSeconds: 1800 },
  // Any vehicle, motorised or not, standing in the lane for a minute.
  fire_lane_blocked: { detector: 'model', classes: [...VEHICLES, 'motorcycle', 'bicycle'], minScore: 0.4, minDwellSeconds: 60, cooldownSeconds: 1800 },
  muck_truck_uncovered: { detector: 'model', classes: ['truck'], minScore: 0.4, minDwellSeconds: 0, cooldownSeconds: 600 },
  // A stall: a person with table/chair/umbrella/bench, stationary together for 3 minutes; the table, chair or
  // umbrella must be there (two people standing still are not a stall; a bench is street furniture).
  road_occupying_stall: {
    detector: 'model', classes: ['person', 'dining table', 'chair', 'umbrella', 'bench'], requireClasses: ['dining table', 'chair', 'umbrella'],
    minScore: 0.35, minCount: 2, minDwellSeconds: 180, cooldownSeconds: 3600,
  },
  // Goods and furniture put out beyond the shop front: the zone is the strip between the shop-front line and the
  // kerb (draw it from the line outwards); each object standing there for 5 minutes is one candidate.
  outside_shop_trading: {
    detector: 'model', classes: ['dining table', 'chair', 'umbrella', 'bench', 'potted plant', 'suitcase', 'refrigerator'], minScore: 0.35,
    minDwellSeconds: 300, cooldownSeconds: 3600,
  },
  // A hawker is a person with a cart (bicycle, tricycle, motorcycle) or an umbrella; people alone never qualify.
  unlicensed_hawker: {
    detector: 'model', classes: ['person', 'bicycle', 'motorcycle', 'umbrella'], requireClasses: ['bicycle', 'motorcycle', 'umbrella'], minScore: 0.35,
    minCount: 2, minDwellSeconds: 60, cooldownSeconds: 1800,
  },
  // Three or more bicycles / e-bikes (COCO: motorcycle) standing in the zone together for 5 minutes.
  illegal_bike_parking: { detector: 'model', classes: ['bicycle', 'motorcycle'], minScore: 0.35, minCount: 3, minDwellSeconds: 300, cooldownSeconds: 3600 },
  shared_bike_disorder: { detector: 'model', classes: ['bicycle'], minScore: 0.35, minCount: 8, minDwellSeconds: 300, cooldownSeconds: 3600 },
  open_air_bbq: {
    detector: 'model', classes: ['person', 'dining table', 'chair'], requireClasses: ['dining table', 'chair'], minScore: 0.35, minCount: 3,
    minDwellSeconds: 600, cooldownSeconds: 3600,
  },
  exposed_garbage: { detector: 'foreground', minArea: 0.002, minDwellSeconds: 600, cooldownSeconds: 7200 },
  accumulated_muck: { detector: 'foreground', minArea: 0.01, minDwellSeconds: 1800, cooldownSeconds: 7200 },
  piled_materials: { detector: 'foreground', minArea: 0.005, minDwellSeconds: 1800, cooldownSeconds: 7200 },
  bin_overflow: { detector: 'foreground', minArea: 0.001, minDwellSeconds: 600, cooldownSeconds: 7200 },
  roadside_ad_board: { detector: 'foreground', minArea: 0.002, minDwellSeconds: 900, cooldownSeconds: 7200 },
  construction_on_road: { detector: 'foreground', minArea: 0.01, minDwellSeconds: 1800, cooldownSeconds: 7200 },
  street_laundry: { detector: 'foreground', minArea: 0.002, minDwellSeconds: 1800, cooldownSeconds: 7200 },
};
