import type { EventTypeInfo } from './pipeline.js';
import type { Rule } from './rules.js';
import type { Schedule } from './schedule.js';

/** A row of table `rules` (migrations/003_analytics.sql) as pg/PGlite return it. */
export interface RuleRow {
  id: string;
  camera_id: string;
  event_type: string;
  name: string | null;
  zone: [number, number][];
  detector: 'model' | 'foreground';
  model: string | null;
  classes: string[];
  min_score: number;
  min_area: number;
  min_count: number;
  min_dwell_seconds: number;
  schedule: Schedule | null;
  cooldown_seconds: number;
  enabled: boolean;
}

/** Input for validateRule from a stored row (rules are re-validated on load: the classification may have changed). */
export function ruleInputFromRow(row: RuleRow): Record<string, unknown> {
  return {
    id: row.id,
    cameraId: row.camera_id,
    eventType: row.event_type,
    ...(row.name ? { name: row.name } : {}),
    zone: row.zone,
    detector: row.detector,
    ...(row.detector === 'model' && row.model ? { model: row.model } : {}),
    classes: row.classes,
    minScore: Number(row.min_score),
    minArea: Number(row.min_area),
    minCount: Number(row.min_count),
    minDwellSeconds: Number(row.min_dwell_seconds),
    schedule: row.schedule,
    cooldownSeconds: Number(row.cooldown_seconds),
    enabled: row.enabled,
  };
}

/** Column values for INSERT/UPDATE of a validated rule. */
export function ruleToRow(rule: Rule): RuleRow {
  return {
    id: rule.id,
    camera_id: rule.cameraId,
    event_type: rule.eventType,
    name: rule.name ?? null,
    zone: rule.zone,
    detector: rule.detector,
    model: rule.model ?? null,
    classes: rule.classes,
    min_score: rule.minScore,
    min_area: rule.minArea,
    min_count: rule.minCount,
    min_dwell_seconds: rule.minDwellSeconds,
    schedule: rule.schedule,
    cooldown_seconds: rule.cooldownSeconds,
    enabled: rule.enabled,
  };
}

export interface EventTypeRow {
  key: string;
  code: string;
  name_zh: string;
  name_en: string;
  enabled?: boolean;
}

/** The classification in force for the engine (disabled types are left out: their rules fail validation). */
export function eventTypesFromRows(rows: EventTypeRow[]): Map<string, EventTypeInfo> {
  return new Map(rows.filter((r) => r.enabled !== false).map((r) => [r.key, { key: r.key, code: r.code, nameZh: r.name_zh, nameEn: r.name_en }]));
}
