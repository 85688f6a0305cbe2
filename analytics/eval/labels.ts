import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { Box, Polygon } from '../types.js';
import { Checker, ValidationError } from '../validate.js';
import { validatePolygon } from '../zones.js';

/**
 * Ground truth for one clip (format `streeteye-labels/1`, documented in analytics/eval/README.md): the rules a city
 * would run on that camera and the events a person saw, with their time spans (seconds of video) and boxes
 * (normalised 0..1 to the frame, like zones). Everything not labelled is a negative: a candidate that matches no
 * labelled event is a false candidate.
 */
export interface LabelFile {
  format: 'streeteye-labels/1';
  /** Absolute path of the clip (resolved against the label file's folder). */
  video: string;
  /** Where the label file was read from (for the report). */
  source: string;
  description: string | null;
  /** Frames per second fed to the engine (the product samples 1 fps by default). */
  fps: number;
  /** Video time of the first frame (ISO); schedules are evaluated against it. */
  startTime: string;
  /** Model for rules that name none. */
  defaultModel: string;
  match: { iou: number; slackSeconds: number };
  /** Rule bodies as the rules API takes them (validated with validateRule: presets fill what is absent). */
  rules: { id: string; note: string | null; body: Record<string, unknown> }[];
  events: LabelledEvent[];
}

export interface LabelledEvent {
  id: string;
  eventType: string;
  /** Seconds of video: when the situation began (object arrived; 0 when already there) and ended. */
  from: number;
  to: number;
  box: Box;
  /** Only candidates of this rule count for it (default: any rule of the event type). */
  rule: string | null;
  note: string | null;
}

const FILE_KEYS = ['format', 'video', 'description', 'fps', 'startTime', 'defaultModel', 'match', 'rules', 'events'] as const;
const RULE_KEYS = ['id', 'note', 'eventType', 'name', 'zone', 'detector', 'model', 'classes', 'minScore', 'minArea', 'minCount', 'minDwellSeconds', 'schedule', 'cooldownSeconds'] as const;
const EVENT_KEYS = ['id', 'eventType', 'from', 'to', 'box', 'rule', 'note'] as const;

/** Validates a parsed label file; every problem is reported with its path. */
export function parseLabels(raw: unknown, source: string): LabelFile {
  const c = new Checker();
  const o = c.object(raw, '', FILE_KEYS);
  if (!o) throw new ValidationError(source, c.errors);
  if (o.format !== 'streeteye-labels/1') c.fail('format', 'must be "streeteye-labels/1"');
  const video = c.string(o.video, 'video');
  const description = c.string(o.description, 'description', { optional: true }) ?? null;
  const fps = c.number(o.fps ?? 1, 'fps', { min: 0.1, max: 30 });
  const startTime = c.string(o.startTime ?? '2026-01-05T02:00:00.000Z', 'startTime');
  if (startTime && Number.isNaN(Date.parse(startTime))) c.fail('startTime', 'must be an ISO date-time');
  const defaultModel = c.string(o.defaultModel ?? 'yolox_nano', 'defaultModel');
  const m = o.match === undefined ? {} : c.object(o.match, 'match', ['iou', 'slackSeconds']) ?? {};
  const iou = c.number(m.iou ?? 0.3, 'match.iou', { min: 0, max: 1, exclusiveMin: true });
  const slackSeconds = c.number(m.slackSeconds ?? 2, 'match.slackSeconds', { min: 0, max: 3600 });

  const rules: LabelFile['rules'] = [];
  const ruleIds = new Set<string>();
  c.array(o.rules, 'rules', { minLength: 1, maxLength: 100 })?.forEach((r, i) => {
    const f = `rules[${i}]`;
    const ro = c.object(r, f, RULE_KEYS);
    if (!ro) return;
    const id = c.string(ro.id, `${f}.id`, { pattern: /^[A-Za-z0-9_.-]{1,64}$/ });
    if (id && ruleIds.has(id)) c.fail(`${f}.id`, `duplicate rule id ${id}`);
    if (id) ruleIds.add(id);
    const note = c.string(ro.note, `${f}.note`, { optional: true }) ?? null;
    const { id: _id, note: _note, ...body } = ro;
    if (id) rules.push({ id, note, body });
  });

  const events: LabelledEvent[] = [];
  const eventIds = new Set<string>();
  c.array(o.events, 'events', { maxLength: 10_000 })?.forEach((e, i) => {
    const f = `events[${i}]`;
    const eo = c.object(e, f, EVENT_KEYS);
    if (!eo) return;
    const id = c.string(eo.id, `${f}.id`, { maxLength: 64 });
    if (id && eventIds.has(id)) c.fail(`${f}.id`, `duplicate event id ${id}`);
    if (id) eventIds.add(id);
    const eventType = c.string(eo.eventType, `${f}.eventType`);
    const from = c.number(eo.from, `${f}.from`, { min: 0 });
    const to = c.number(eo.to, `${f}.to`, { min: 0 });
    if (from !== undefined && to !== undefined && to < from) c.fail(`${f}.to`, 'must not be before from');
    const box = parseBox(c, eo.box, `${f}.box`);
    const rule = c.string(eo.rule, `${f}.rule`, { optional: true }) ?? null;
    if (rule && !ruleIds.has(rule)) c.fail(`${f}.rule`, `no rule ${rule} in this file`);
    const note = c.string(eo.note, `${f}.note`, { optional: true }) ?? null;
    if (id && eventType && from !== undefined && to !== undefined && box) events.push({ id, eventType, from, to, box, rule, note });
  });
  if (!c.ok) throw new ValidationError(source, c.errors);
  const base = dirname(source);
  return {
    format: 'streeteye-labels/1',
    video: isAbsolute(video!) ? video! : join(base, video!),
    source,
    description,
    fps: fps!,
    startTime: new Date(startTime!).toISOString(),
    defaultModel: defaultModel!,
    match: { iou: iou!, slackSeconds: slackSeconds! },
    rules,
    events,
  };
}

function parseBox(c: Checker, raw: unknown, field: string): Box | undefined {
  const t = c.numberTuple(raw, field, 4);
  if (!t) return undefined;
  const [x1, y1, x2, y2] = t;
  if ([x1, y1, x2, y2].some((v) => v < 0 || v > 1)) return c.fail(field, 'coordinates must be within 0..1 (normalised to the frame)');
  if (x2 <= x1 || y2 <= y1) return c.fail(field, 'must be [x1, y1, x2, y2] with x2 > x1 and y2 > y1');
  return { x1, y1, x2, y2 };
}

export async function loadLabels(path: string): Promise<LabelFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ValidationError(path, [{ field: '', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return parseLabels(parsed, path);
}

/** Zone check with the same rules as the rules API, for a clear message before the engine sees the file. */
export function zoneOf(body: Record<string, unknown>): Polygon | null {
  return validatePolygon(body.zone).polygon ?? null;
}
