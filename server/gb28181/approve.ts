/**
 * A technician approves which GB channels enter the inventory: each becomes a camera with its 20-digit ID
 * (national_id), name, district (the civil-code item's name from the same catalog, else the code), address and
 * coordinates, in one transaction with the audit record. A channel whose ID an inventory camera already carries
 * is linked to that camera instead of duplicating it.
 */
import type { Db } from '../db/db.js';
import type { SessionUser } from '../auth/roles.js';
import { audit } from '../audit.js';
import { HttpError } from '../http/errors.js';

export interface ApproveInput {
  deviceId: string;
  channelIds: string[];
  sharing?: 'shared' | 'restricted';
}

export interface ApproveResult {
  created: number;
  linked: number;
  cameras: Array<{ channelId: string; cameraId: string; name: string }>;
}

const APPROVABLE = new Set(['camera', 'other', 'device']);

export async function approveChannels(db: Db, user: SessionUser, input: ApproveInput, ip?: string): Promise<ApproveResult> {
  const ids = [...new Set(input.channelIds)];
  return db.tx(async (q) => {
    const rows = (await q.query<{ channel_id: string; kind: string; name: string | null; civil_code: string | null; address: string | null; lat: number | null; lng: number | null; owner: string | null; camera_id: string | null; removed: boolean; district: string | null }>(
      `SELECT g.channel_id, g.kind, g.name, g.civil_code, g.address, g.lat, g.lng, g.owner, g.camera_id, g.removed,
              (SELECT r.name FROM gb_channels r WHERE r.device_id = g.device_id AND r.channel_id = g.civil_code) AS district
         FROM gb_channels g WHERE g.device_id = $1 AND g.channel_id = ANY($2::text[]) FOR UPDATE OF g`, [input.deviceId, ids])).rows;
    const byId = new Map(rows.map((r) => [r.channel_id, r]));
    const missing = ids.filter((id) => !byId.get(id) || byId.get(id)!.removed);
    if (missing.length) throw new HttpError(404, `通道不在该设备的目录中 / channels not in this device's catalog: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` (+${missing.length - 10})` : ''}`);
    const wrong = rows.filter((r) => !APPROVABLE.has(r.kind));
    if (wrong.length) throw new HttpError(400, `只能批准视频通道 / only video channels can be approved (not ${wrong[0].kind} items such as regions or groups): ${wrong.slice(0, 10).map((r) => r.channel_id).join(', ')}`);
    const todo = rows.filter((r) => !r.camera_id);
    const result: ApproveResult = { created: 0, linked: 0, cameras: [] };
    if (!todo.length) return result;
    // an inventory camera with the same national ID (added by RTSP before, or from another platform) is linked, not duplicated
    const existing = new Map((await q.query<{ id: string; national_id: string; name: string }>(
      'SELECT id, national_id, name FROM cameras WHERE national_id = ANY($1::text[])', [todo.map((r) => r.channel_id)])).rows.map((r) => [r.national_id, r]));
    const wantNames = todo.filter((r) => !existing.has(r.channel_id)).map((r) => (r.name?.trim() || r.channel_id).slice(0, 80));
    const taken = new Set((await q.query<{ name: string }>('SELECT name FROM cameras WHERE name = ANY($1::text[])', [wantNames])).rows.map((r) => r.name));
    const inputs: Array<Record<string, unknown>> = [];
    for (const r of todo) {
      const cam = existing.get(r.channel_id);
      if (cam) {
        result.linked++;
        result.cameras.push({ channelId: r.channel_id, cameraId: cam.id, name: cam.name });
        continue;
      }
      let name = (r.name?.trim() || r.channel_id).slice(0, 80);
      // camera names are unique: a second "东门" gets its channel serial
      if (taken.has(name)) name = `${name} (${r.channel_id.slice(-7)})`;
      taken.add(name);
      inputs.push({ national_id: r.channel_id, name, owner: r.owner, sharing: input.sharing ?? 'restricted', lat: r.lat, lng: r.lng, address: r.address, district: r.district ?? r.civil_code, tags: ['gb28181'] });
    }
    const created = inputs.length
      ? (await q.query<{ id: string; national_id: string; name: string }>(
        `INSERT INTO cameras (national_id, name, owner, sharing, lat, lng, address, district, tags, status)
         SELECT x.national_id, x.name, x.owner, x.sharing, x.lat, x.lng, x.address, x.district, x.tags, 'unknown'
           FROM jsonb_to_recordset($1::jsonb) AS x(national_id text, name text, owner text, sharing text, lat double precision, lng double precision, address text, district text, tags text[])
         RETURNING id, national_id, name`, [JSON.stringify(inputs)])).rows
      : [];
    result.created = created.length;
    for (const c of created) result.cameras.push({ channelId: c.national_id, cameraId: c.id, name: c.name });
    await q.query(
      `UPDATE gb_channels g SET camera_id = x.camera_id, updated_at = now() FROM jsonb_to_recordset($2::jsonb) AS x(channel_id text, camera_id uuid)
        WHERE g.device_id = $1 AND g.channel_id = x.channel_id`,
      [input.deviceId, JSON.stringify(result.cameras.map((c) => ({ channel_id: c.channelId, camera_id: c.cameraId })))]);
    await audit(q, { user, action: 'gb28181.approve', targetType: 'gb_device', targetId: input.deviceId, detail: { created: result.created, linked: result.linked, channels: result.cameras.length, sharing: input.sharing ?? 'restricted' }, ip });
    return result;
  });
}
