import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, dbKinds } from '../test/db.js';
import type { Db } from '../server/db/db.js';
import { eventTypesFromRows, ruleInputFromRow, ruleToRow, type EventTypeRow, type RuleRow } from './db-mapping.js';
import { validateRule } from './rules.js';

const repoRoot = join(import.meta.dirname, '..');

function csvKeys(csv: string): string[] {
  return csv.trim().split('\n').slice(1).map((line) => line.split(',')[0]);
}

describe.each(dbKinds())('003_analytics on %s', (kind) => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb(kind);
  });
  afterAll(async () => {
    await db.close();
  });

  it('seeds every event type of the standards CSV with its code in force', async () => {
    const keys = csvKeys(await readFile(join(repoRoot, 'test', 'fixtures', 'standards', 'event-types.csv'), 'utf8'));
    const rows = await db.query<{ key: string; code: string; code_gbt47678_2026: string | null }>('SELECT key, code, code_gbt47678_2026 FROM event_types ORDER BY key');
    expect(rows.rows.map((r) => r.key).sort()).toEqual([...keys].sort());
    const parking = rows.rows.find((r) => r.key === 'illegal_motor_parking');
    expect(parking?.code).toBe('09009');
    for (const r of rows.rows) if (r.code_gbt47678_2026) expect(r.code).toBe(r.code_gbt47678_2026);
  });

  it('keeps rules and events consistent in the schema', async () => {
    const cam = await db.query<{ id: string }>(`INSERT INTO cameras (name) VALUES ('analytics-cam') RETURNING id`);
    const cameraId = cam.rows[0].id;
    const zone = JSON.stringify([[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]);
    await expect(db.query(`INSERT INTO rules (camera_id, event_type, zone, classes) VALUES ($1, 'no_such_type', $2, '{car}')`, [cameraId, zone])).rejects.toThrow();
    await expect(db.query(`INSERT INTO rules (camera_id, event_type, zone, classes) VALUES ($1, 'illegal_motor_parking', $2, '{}')`, [cameraId, zone])).rejects.toThrow();
    const rule = await db.query<{ id: string }>(
      `INSERT INTO rules (camera_id, event_type, zone, classes, min_dwell_seconds) VALUES ($1, 'illegal_motor_parking', $2, '{car,truck}', 120) RETURNING id`,
      [cameraId, zone],
    );
    const ev = await db.query<{ status: string }>(
      `INSERT INTO events (rule_id, camera_id, event_type, event_code, score, first_seen, last_seen, track)
       VALUES ($1, $2, 'illegal_motor_parking', '09009', 0.7, now() - interval '3 minutes', now(), '{"trackIds":[1]}') RETURNING status`,
      [rule.rows[0].id, cameraId],
    );
    expect(ev.rows[0].status).toBe('pending');
    // A rejection must say why (the reason feeds per-rule precision).
    await expect(db.query(`UPDATE events SET status = 'rejected' WHERE rule_id = $1`, [rule.rows[0].id])).rejects.toThrow();
    await db.query(`DELETE FROM cameras WHERE id = $1`, [cameraId]);
    const left = await db.query(`SELECT 1 FROM rules WHERE camera_id = $1`, [cameraId]);
    expect(left.rowCount).toBe(0);
  });

  it('round-trips a validated rule through the rules table', async () => {
    const types = eventTypesFromRows((await db.query<EventTypeRow>('SELECT key, code, name_zh, name_en, enabled FROM event_types')).rows);
    expect(types.get('illegal_motor_parking')?.code).toBe('09009');
    const cam = await db.query<{ id: string }>(`INSERT INTO cameras (name) VALUES ('analytics-cam-2') RETURNING id`);
    const ctx = { eventTypes: new Set(types.keys()), classesOf: () => ['car', 'truck', 'bus'], defaultModel: 'yolox_nano' };
    const v = validateRule({ cameraId: cam.rows[0].id, eventType: 'illegal_motor_parking', zone: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]], schedule: { days: [1, 2], from: '07:00', to: '22:00' } }, ctx);
    if (!v.ok) throw new Error(JSON.stringify(v.errors));
    const row = ruleToRow(v.rule);
    const cols = Object.keys(row);
    const values = cols.map((k) => {
      const val = row[k as keyof RuleRow];
      return k === 'zone' || k === 'schedule' ? JSON.stringify(val) : val;
    });
    await db.query(`INSERT INTO rules (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, values);
    const back = await db.query<RuleRow>('SELECT * FROM rules WHERE id = $1', [v.rule.id]);
    const again = validateRule(ruleInputFromRow(back.rows[0]), ctx);
    expect(again).toEqual({ ok: true, rule: v.rule });
  });
});
