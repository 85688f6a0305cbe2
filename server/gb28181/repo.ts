/** gb_devices / gb_channels (migrations/017_gb28181.sql): registrations, catalogs, and approval into the inventory. */
import type { Db, Queryable } from '../db/db.js';
import { open, seal } from '../secrets.js';
import type { CatalogItem } from '../../gb28181/catalog.js';

export interface GbDeviceRow {
  deviceId: string;
  name: string | null;
  hasPassword: boolean;
  enabled: boolean;
  transport: string | null;
  address: string | null;
  port: number | null;
  edition: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  online: boolean;
  statusReason: string | null;
  registeredAt: string | null;
  expiresAt: string | null;
  lastKeepaliveAt: string | null;
  catalogSum: number | null;
  catalogAt: string | null;
  catalogError: string | null;
  channels: number;
  approved: number;
}

export interface GbChannelRow {
  deviceId: string;
  channelId: string;
  kind: string;
  name: string | null;
  civilCode: string | null;
  parentId: string | null;
  address: string | null;
  status: string | null;
  lng: number | null;
  lat: number | null;
  ptzType: number | null;
  removed: boolean;
  cameraId: string | null;
}

const DEVICE_COLUMNS = `d.device_id AS "deviceId", d.name, (d.password_enc IS NOT NULL) AS "hasPassword", d.enabled, d.transport,
  d.address, d.port, d.edition, d.manufacturer, d.model, d.firmware, d.online, d.status_reason AS "statusReason",
  d.registered_at AS "registeredAt", d.expires_at AS "expiresAt", d.last_keepalive_at AS "lastKeepaliveAt",
  d.catalog_sum AS "catalogSum", d.catalog_at AS "catalogAt", d.catalog_error AS "catalogError",
  (SELECT count(*)::int FROM gb_channels g WHERE g.device_id = d.device_id AND NOT g.removed) AS channels,
  (SELECT count(*)::int FROM gb_channels g WHERE g.device_id = d.device_id AND g.camera_id IS NOT NULL) AS approved`;

const CHANNEL_COLUMNS = `g.device_id AS "deviceId", g.channel_id AS "channelId", g.kind, g.name, g.civil_code AS "civilCode",
  g.parent_id AS "parentId", g.address, g.status, g.lng, g.lat, g.ptz_type AS "ptzType", g.removed, g.camera_id AS "cameraId"`;

export class GbRepo {
  constructor(private readonly key: Buffer) {}

  async devices(q: Queryable): Promise<GbDeviceRow[]> {
    return (await q.query<GbDeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM gb_devices d ORDER BY d.device_id`)).rows;
  }

  async device(q: Queryable, id: string): Promise<GbDeviceRow | undefined> {
    return (await q.query<GbDeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM gb_devices d WHERE d.device_id = $1`, [id])).rows[0];
  }

  /** Who may register: enabled devices; the password sealed per device, or null for the platform password. */
  async credentials(q: Queryable, id: string): Promise<{ enabled: boolean; password: string | null } | undefined> {
    const r = (await q.query<{ enabled: boolean; password_enc: string | null }>('SELECT enabled, password_enc FROM gb_devices WHERE device_id = $1', [id])).rows[0];
    if (!r) return undefined;
    return { enabled: r.enabled, password: r.password_enc ? open(this.key, r.password_enc) : null };
  }

  /** Add or edit a device a technician expects (password undefined = keep, null = use the platform password). */
  async upsertDevice(q: Queryable, d: { deviceId: string; name?: string | null; password?: string | null; enabled?: boolean }): Promise<void> {
    const sealed = d.password === undefined ? undefined : d.password === null ? null : seal(this.key, d.password);
    await q.query(
      `INSERT INTO gb_devices (device_id, name, password_enc, enabled) VALUES ($1, $2, $3, COALESCE($4, true))
       ON CONFLICT (device_id) DO UPDATE SET
         name = CASE WHEN $5 THEN EXCLUDED.name ELSE gb_devices.name END,
         password_enc = CASE WHEN $6 THEN EXCLUDED.password_enc ELSE gb_devices.password_enc END,
         enabled = COALESCE($4, gb_devices.enabled), updated_at = now()`,
      [d.deviceId, d.name ?? null, sealed ?? null, d.enabled ?? null, d.name !== undefined, sealed !== undefined]);
  }

  async deleteDevice(q: Queryable, id: string): Promise<boolean> {
    return (await q.query('DELETE FROM gb_devices WHERE device_id = $1', [id])).rowCount > 0;
  }

  /**
   * Many registrations in one statement (the service batches them: a power cut brings thousands back at once),
   * marking each device online; answers the approved cameras of those devices, whose status follows the device.
   */
  async registeredMany(q: Queryable, rows: Array<{ deviceId: string; transport: string; address: string; port: number; edition: string; expiresAt: Date }>, o: { insertNew: boolean }): Promise<Array<{ deviceId: string; cameraId: string }>> {
    if (!rows.length) return [];
    const json = JSON.stringify(rows.map((r) => ({ id: r.deviceId, transport: r.transport, address: r.address, port: r.port, edition: r.edition, expires: r.expiresAt.toISOString() })));
    const x = 'jsonb_to_recordset($1::jsonb) AS x(id text, transport text, address text, port int, edition text, expires timestamptz)';
    // Written behind the SIP answer: a device deleted meanwhile must stay deleted unless new devices are accepted
    await q.query(o.insertNew
      ? `INSERT INTO gb_devices (device_id, transport, address, port, edition, online, registered_at, expires_at, status_reason)
         SELECT x.id, x.transport, x.address, x.port, x.edition, true, now(), x.expires, NULL FROM ${x}
         ON CONFLICT (device_id) DO UPDATE SET transport = EXCLUDED.transport, address = EXCLUDED.address, port = EXCLUDED.port,
           edition = EXCLUDED.edition, online = true, registered_at = now(), expires_at = EXCLUDED.expires_at, status_reason = NULL, updated_at = now()`
      : `UPDATE gb_devices d SET transport = x.transport, address = x.address, port = x.port, edition = x.edition, online = true,
           registered_at = now(), expires_at = x.expires, status_reason = NULL, updated_at = now()
         FROM ${x} WHERE d.device_id = x.id`,
      [json]);
    const r = await q.query<{ device_id: string; camera_id: string }>(
      'SELECT device_id, camera_id FROM gb_channels WHERE device_id = ANY($1::text[]) AND camera_id IS NOT NULL',
      [rows.map((x) => x.deviceId)]);
    return r.rows.map((x) => ({ deviceId: x.device_id, cameraId: x.camera_id }));
  }

  async setOnline(q: Queryable, id: string, online: boolean, reason: string | null): Promise<void> {
    await q.query('UPDATE gb_devices SET online = $2, status_reason = $3, updated_at = now() WHERE device_id = $1', [id, online, reason]);
  }

  /** Keepalives are batched: one statement for every device heard since the last flush. */
  async keepalives(q: Queryable, seen: Map<string, Date>): Promise<void> {
    if (!seen.size) return;
    const rows = [...seen].map(([id, at]) => ({ id, at: at.toISOString() }));
    await q.query(
      `UPDATE gb_devices d SET last_keepalive_at = x.at FROM jsonb_to_recordset($1::jsonb) AS x(id text, at timestamptz) WHERE d.device_id = x.id`,
      [JSON.stringify(rows)]);
  }

  async setInfo(q: Queryable, id: string, info: { name?: string; manufacturer?: string; model?: string; firmware?: string }): Promise<void> {
    await q.query(
      `UPDATE gb_devices SET name = COALESCE(name, $2), manufacturer = $3, model = $4, firmware = $5, updated_at = now() WHERE device_id = $1`,
      [id, info.name?.slice(0, 100) ?? null, info.manufacturer?.slice(0, 100) ?? null, info.model?.slice(0, 100) ?? null, info.firmware?.slice(0, 100) ?? null]);
  }

  async catalogFailed(q: Queryable, id: string, error: string): Promise<void> {
    await q.query('UPDATE gb_devices SET catalog_error = $2, updated_at = now() WHERE device_id = $1', [id, error.slice(0, 300)]);
  }

  /**
   * A complete catalog, in one transaction: every item upserted (one statement per 2,000), items missing from it
   * marked removed. A catalog that did not arrive whole never reaches this (no half-written catalog).
   */
  async importCatalog(db: Db, deviceId: string, items: CatalogItem[]): Promise<{ total: number; removed: number }> {
    return db.tx(async (q) => {
      for (let i = 0; i < items.length; i += 2000) {
        const chunk = items.slice(i, i + 2000).map((it) => ({
          channel_id: it.id, kind: it.kind, name: it.name, manufacturer: it.manufacturer, model: it.model, owner: it.owner,
          civil_code: it.civilCode, address: it.address, parent_id: it.parentId, parental: it.parental, status: it.status,
          lng: it.lng, lat: it.lat, ptz_type: it.ptzType,
        }));
        await q.query(
          `INSERT INTO gb_channels (device_id, channel_id, kind, name, manufacturer, model, owner, civil_code, address, parent_id, parental, status, lng, lat, ptz_type, removed, updated_at)
           SELECT $1, x.channel_id, x.kind, x.name, x.manufacturer, x.model, x.owner, x.civil_code, x.address, x.parent_id, COALESCE(x.parental, false), x.status, x.lng, x.lat, x.ptz_type, false, now()
             FROM jsonb_to_recordset($2::jsonb) AS x(channel_id text, kind text, name text, manufacturer text, model text, owner text, civil_code text,
                  address text, parent_id text, parental boolean, status text, lng double precision, lat double precision, ptz_type smallint)
           ON CONFLICT (device_id, channel_id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name, manufacturer = EXCLUDED.manufacturer,
             model = EXCLUDED.model, owner = EXCLUDED.owner, civil_code = EXCLUDED.civil_code, address = EXCLUDED.address,
             parent_id = EXCLUDED.parent_id, parental = EXCLUDED.parental, status = EXCLUDED.status, lng = EXCLUDED.lng,
             lat = EXCLUDED.lat, ptz_type = EXCLUDED.ptz_type, removed = false, updated_at = now()`,
          [deviceId, JSON.stringify(chunk)]);
      }
      const removed = await q.query(
        `UPDATE gb_channels SET removed = true, updated_at = now() WHERE device_id = $1 AND NOT removed AND channel_id <> ALL($2::text[])`,
        [deviceId, items.map((i) => i.id)]);
      await q.query('UPDATE gb_devices SET catalog_sum = $2, catalog_at = now(), catalog_error = NULL, updated_at = now() WHERE device_id = $1', [deviceId, items.length]);
      return { total: items.length, removed: removed.rowCount };
    });
  }

  /** Catalog subscription events: ON/OFF/VLOST/DEFECT change status, ADD/UPDATE upsert, DEL marks removed. */
  async applyEvents(db: Db, deviceId: string, items: CatalogItem[]): Promise<Array<{ channelId: string; event: string; cameraId: string | null }>> {
    return db.tx(async (q) => {
      const out: Array<{ channelId: string; event: string; cameraId: string | null }> = [];
      for (const it of items) {
        const ev = it.event ?? 'UPDATE';
        let res;
        if (ev === 'ADD' || ev === 'UPDATE') {
          res = await q.query<{ camera_id: string | null }>(
            `INSERT INTO gb_channels (device_id, channel_id, kind, name, civil_code, address, parent_id, parental, status, lng, lat, ptz_type)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (device_id, channel_id) DO UPDATE SET name = COALESCE(EXCLUDED.name, gb_channels.name),
               civil_code = COALESCE(EXCLUDED.civil_code, gb_channels.civil_code), address = COALESCE(EXCLUDED.address, gb_channels.address),
               parent_id = COALESCE(EXCLUDED.parent_id, gb_channels.parent_id), status = COALESCE(EXCLUDED.status, gb_channels.status),
               lng = COALESCE(EXCLUDED.lng, gb_channels.lng), lat = COALESCE(EXCLUDED.lat, gb_channels.lat),
               ptz_type = COALESCE(EXCLUDED.ptz_type, gb_channels.ptz_type), removed = false, updated_at = now()
             RETURNING camera_id`,
            [deviceId, it.id, it.kind, it.name, it.civilCode, it.address, it.parentId, it.parental, it.status, it.lng, it.lat, it.ptzType]);
        } else if (ev === 'DEL') {
          res = await q.query<{ camera_id: string | null }>('UPDATE gb_channels SET removed = true, updated_at = now() WHERE device_id = $1 AND channel_id = $2 RETURNING camera_id', [deviceId, it.id]);
        } else {
          res = await q.query<{ camera_id: string | null }>('UPDATE gb_channels SET status = $3, updated_at = now() WHERE device_id = $1 AND channel_id = $2 RETURNING camera_id', [deviceId, it.id, ev]);
        }
        out.push({ channelId: it.id, event: ev, cameraId: res.rows[0]?.camera_id ?? null });
      }
      return out;
    });
  }

  async channels(q: Queryable, f: { deviceId?: string; kind?: string; approved?: boolean; q?: string; limit: number; offset: number }): Promise<{ total: number; items: GbChannelRow[] }> {
    const where: string[] = ['NOT g.removed'];
    const params: unknown[] = [];
    if (f.deviceId) { params.push(f.deviceId); where.push(`g.device_id = $${params.length}`); }
    if (f.kind) { params.push(f.kind); where.push(`g.kind = $${params.length}`); }
    if (f.approved !== undefined) where.push(f.approved ? 'g.camera_id IS NOT NULL' : 'g.camera_id IS NULL');
    if (f.q) { params.push(`%${f.q.toLowerCase()}%`); where.push(`(lower(coalesce(g.name, '')) LIKE $${params.length} OR g.channel_id LIKE $${params.length})`); }
    const w = where.join(' AND ');
    const total = (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM gb_channels g WHERE ${w}`, params)).rows[0].n;
    params.push(f.limit, f.offset);
    const items = (await q.query<GbChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM gb_channels g WHERE ${w} ORDER BY g.device_id, g.channel_id LIMIT $${params.length - 1} OFFSET $${params.length}`, params)).rows;
    return { total, items };
  }

  /** The GB channel behind an inventory camera (live, PTZ, alarms). */
  async channelOfCamera(q: Queryable, cameraId: string): Promise<{ deviceId: string; channelId: string } | undefined> {
    return (await q.query<{ deviceId: string; channelId: string }>('SELECT device_id AS "deviceId", channel_id AS "channelId" FROM gb_channels WHERE camera_id = $1', [cameraId])).rows[0];
  }

  async cameraOfChannel(q: Queryable, deviceId: string, channelId: string): Promise<string | undefined> {
    return (await q.query<{ camera_id: string | null }>('SELECT camera_id FROM gb_channels WHERE device_id = $1 AND channel_id = $2', [deviceId, channelId])).rows[0]?.camera_id ?? undefined;
  }

  async camerasOfDevice(q: Queryable, deviceId: string): Promise<string[]> {
    return (await q.query<{ camera_id: string }>('SELECT camera_id FROM gb_channels WHERE device_id = $1 AND camera_id IS NOT NULL', [deviceId])).rows.map((r) => r.camera_id);
  }
}
