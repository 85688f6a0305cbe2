/**
 * Recording and playback HTTP API (roles: playback and export for operator, reviewer, police110, admin; settings for
 * technician and admin, restricted cameras' settings for police110 and admin; restricted cameras 404 to the others):
 *   GET  /api/cameras/:id/recording                 → settings
 *   PUT  /api/cameras/:id/recording                 ← {mode, stream, retentionDays, preRollS, postRollS, eventSources, incidentRadiusM, schedule}
 *   GET  /api/cameras/:id/recordings?from=&to=      → {spans:[{from,to,stream,available,node}], markers:[{kind,at,id,label}]}  (day timeline)
 *   GET  /api/cameras/:id/playback?from=&to=&rate=  → {url, expiresAt, from, to, rate, keyframesOnly, timelineStart} (signed VOD HLS)
 *   GET  /api/cameras/:id/export?from=&to=          → video/mp4 (remuxed), audited
 *   POST /api/cases/:id/recordings                  ← {cameraId, from, to}: attach (locks the span; audited)
 *   GET  /api/cases/:id/recordings                  → attached spans
 *   GET  /api/recordings/status                     → this node's recorder and every store
 *   GET  /rec/:id/:grant/:token/index.m3u8 | :file  → signed VOD playlist and media (no cookie; the signature is the credential)
 * Times are ISO 8601 or ms since the epoch. Playback and export are audited like live views (camera_view_log with the range).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../context.js';
import type { CameraRepo } from '../inventory/camera-repo.js';
import { seesRestrictedCameras, type Role, type SessionUser } from '../auth/roles.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { deriveKey } from '../secrets.js';
import { recordCameraAccess } from '../sharing/access-log.js';
import { signLiveToken, verifyLiveToken } from '../../ingest/signed-url.js';
import { parseMoov } from '../../ingest/fmp4.js';
import type { Recorder } from './recorder.js';
import {
  getSettings, putSettings, segmentById, segmentsInRange, stores, type RecordingSettings, type SegmentRow, type StoreRow,
} from './recording-repo.js';
import { buildVodPlaylist, gopRange, type PlaylistFile } from './vod-playlist.js';
import { exportMp4, NothingRecordedError, piecesFor, readRange } from './export.js';
import { firstSample, keyframeFragment } from './keyframe-only.js';
import type { GopTuple } from './segment-file.js';
import { candidateMarkers } from '../review/events-repo.js';
import { scheduleProblem } from './schedule.js';
import { checkTimeRange, parseTime, type TimeRange } from './time-range.js';

/** timeline markers per request (candidates, alarms, 110 incidents) */
const MAX_MARKERS = 2000;

export const PLAYBACK_ROLES: Role[] = ['operator', 'reviewer', 'police110', 'admin'];
const SETTINGS_READERS: Role[] = ['technician', 'admin', 'police110', 'operator'];
const SETTINGS_EDITORS: Role[] = ['technician', 'admin', 'police110'];
const STATUS_ROLES: Role[] = ['technician', 'admin'];
const RATES = [1, 2, 4, 8, 16];
const MAX_RANGE_MS = 24 * 3600_000;
const MAX_EXPORT_MS = 2 * 3600_000;

/**
 * Recordings held outside StreetEye's stores (a GB/T 28181 channel's own NVR: server/gb28181/playback-routes.ts):
 * their spans join the timeline, and their playback answers where StreetEye recorded nothing.
 */
export interface ExternalRecordings {
  spans(cameraId: string, from: number, to: number): Promise<Array<{ from: string; to: string; source: string }>>;
  /** undefined: not this provider's camera */
  playback(user: SessionUser, cameraId: string, from: number, to: number, rate: number, ip: string): Promise<{ status: number; body: object } | undefined>;
}

export interface RecordingRoutesOptions extends AppContext {
  external?: ExternalRecordings;
  cameras: CameraRepo;
  recorder?: Recorder;
  ffmpegPath: string;
  /** this node's store name (also on nodes without a recorder: its own files are none) */
  storeId: string;
  storeDir: string;
  urlTtlS: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const err = { type: 'object', properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } } } as const;

function bad(reply: FastifyReply, status: number, message: string, fieldErrors?: Record<string, string>): FastifyReply {
  const error = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 503: 'Service Unavailable' }[status] ?? 'Error';
  return reply.code(status).header('cache-control', 'no-store').send({ statusCode: status, error, message, ...(fieldErrors ? { fieldErrors } : {}) });
}

/** ISO 8601 or ms since the epoch → ms; undefined when absent; NaN when unreadable. */
function range(q: { from?: string; to?: string }, dflt: { back: number; span: number }, max: number): TimeRange | string {
  const now = Date.now();
  const from = parseTime(q.from) ?? now - dflt.back;
  const to = parseTime(q.to) ?? Math.min(now, from + dflt.span);
  const r = checkTimeRange(from, to, max);
  return 'zh' in r ? `${r.en} (${r.zh})` : r;
}

export async function recordingRoutes(app: FastifyInstance, o: RecordingRoutesOptions): Promise<void> {
  const urlKey = deriveKey(o.secretKey, 'recording-url');
  const visible = async (user: { role: Role }, id: string) => (UUID.test(id) ? o.cameras.getVisible(o.db, user, id) : null);
  let storeCache: { at: number; rows: Map<string, StoreRow> } | undefined;
  const storeMap = async (): Promise<Map<string, StoreRow>> => {
    if (storeCache && Date.now() - storeCache.at < 2000) return storeCache.rows;
    const rows = new Map((await stores(o.db, o.recorder?.cfg.storeTimeoutS ?? 45)).map((s) => [s.id, s]));
    storeCache = { at: Date.now(), rows };
    return rows;
  };
  const isMine = (nodeId: string) => nodeId === o.storeId;
  const available = (s: SegmentRow, m: Map<string, StoreRow>) => isMine(s.nodeId) || (m.get(s.nodeId)?.alive ?? false);

  // ---------------------------------------------------------------- settings

  const settingsBody = {
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: { type: 'string', enum: ['off', 'continuous', 'events', 'schedule'] },
      stream: { type: 'string', enum: ['main', 'sub'] },
      retentionDays: { type: 'integer', minimum: 1, maximum: 3650 },
      preRollS: { type: 'integer', minimum: 0, maximum: 60 },
      postRollS: { type: 'integer', minimum: 0, maximum: 3600 },
      eventSources: { type: 'array', items: { type: 'string', enum: ['candidate', 'alarm', 'incident'] }, uniqueItems: true },
      incidentRadiusM: { type: 'integer', minimum: 0, maximum: 10000 },
      schedule: {
        type: 'array', maxItems: 50,
        items: {
          type: 'object', additionalProperties: false, required: ['days', 'from', 'to'],
          properties: {
            days: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 1, maximum: 7 }, uniqueItems: true },
            // HH:MM, checked by scheduleProblem() with a message in words (not a regular expression)
            from: { type: 'string', maxLength: 5 },
            to: { type: 'string', maxLength: 5 },
          },
        },
      },
    },
  } as const;

  app.get<{ Params: { id: string } }>('/api/cameras/:id/recording', {
    config: { roles: SETTINGS_READERS },
    schema: { summary: 'Recording settings of a camera (off / continuous / events / schedule)' },
  }, async (request, reply) => {
    const cam = await visible(currentUser(request), request.params.id);
    if (!cam) return bad(reply, 404, 'camera not found (摄像机不存在)');
    return getSettings(o.db, cam.id);
  });

  app.put<{ Params: { id: string }; Body: Partial<RecordingSettings> }>('/api/cameras/:id/recording', {
    config: { roles: SETTINGS_EDITORS },
    schema: { summary: 'Edit what a camera records', body: settingsBody },
  }, async (request, reply) => {
    const user = currentUser(request);
    const cam = await visible(user, request.params.id);
    if (!cam) return bad(reply, 404, 'camera not found (摄像机不存在)');
    // the police decide for their restricted cameras; technicians decide for shared ones
    if (cam.sharing === 'restricted' && !['police110', 'admin'].includes(user.role)) {
      return bad(reply, 403, 'recording of a restricted camera follows the police\'s choice (受限摄像机的录像由公安决定)');
    }
    if (cam.sharing !== 'restricted' && user.role === 'police110') return bad(reply, 403, 'technicians set recording for shared cameras (共享摄像机由技术员设置)');
    const b = request.body;
    const problem = b.schedule && scheduleProblem(b.schedule);
    if (problem) return bad(reply, 400, `计划录像时段有误：${problem.zh} · Invalid schedule: ${problem.en}`, { [problem.field]: `${problem.zh} · ${problem.en}` });
    const current = await getSettings(o.db, cam.id);
    const next: RecordingSettings = { ...current, ...b, cameraId: cam.id };
    if (next.mode === 'schedule' && !next.schedule.length) {
      return bad(reply, 400, '计划录像需要至少一个时段 · schedule mode needs at least one window', { schedule: '至少一个时段 · at least one window' });
    }
    if (next.mode === 'events' && !next.eventSources.length) {
      return bad(reply, 400, '事件录像需要至少一种触发事件 · events mode needs at least one event source (candidate, alarm, incident)', { eventSources: '至少一种 · at least one' });
    }
    const saved = await o.db.tx(async (q) => {
      const s = await putSettings(q, next, user.id);
      await audit(q, { user, action: 'recording.settings', targetType: 'camera', targetId: cam.id, detail: { mode: s.mode, stream: s.stream, retentionDays: s.retentionDays }, ip: request.ip });
      return s;
    });
    o.bus.publish('recording.settings', { cameraId: cam.id, mode: saved.mode }, cam.id);
    void o.recorder?.sync();
    return saved;
  });

  // ---------------------------------------------------------------- timeline

  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string } }>('/api/cameras/:id/recordings', {
    config: { roles: PLAYBACK_ROLES },
    schema: {
      summary: 'Recorded spans and markers (candidates, camera alarms, 110 incidents) of a camera in a time range (default: the last 24 h)',
      querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 } } },
    },
  }, async (request, reply) => {
    const cam = await visible(currentUser(request), request.params.id);
    if (!cam) return bad(reply, 404, 'camera not found (摄像机不存在)');
    const r = range(request.query, { back: 24 * 3600_000, span: 24 * 3600_000 }, 8 * 24 * 3600_000);
    if (typeof r === 'string') return bad(reply, 400, r);
    const rows = await segmentsInRange(o.db, cam.id, r.from, r.to);
    const m = await storeMap();
    const spans: Array<{ from: string; to: string; stream: string; available: boolean; node: string; recording: boolean }> = [];
    let last: { fromMs: number; toMs: number; stream: string; available: boolean; node: string; recording: boolean } | undefined;
    const flush = () => { if (last) spans.push({ from: new Date(last.fromMs).toISOString(), to: new Date(last.toMs).toISOString(), stream: last.stream, available: last.available, node: last.node, recording: last.recording }); };
    for (const s of rows) {
      const open = s.status === 'open';
      const live = open && isMine(s.nodeId) ? o.recorder?.recorderFor(cam.id)?.openSegment : undefined;
      const endMs = live && live.meta.file === s.file ? live.endMs : open && available(s, m) ? Math.max(s.endMs, Date.now()) : s.endMs;
      const av = available(s, m);
      if (last && s.startMs - last.toMs < 1500 && last.stream === s.stream && last.available === av && last.node === s.nodeId) {
        last.toMs = Math.max(last.toMs, endMs);
        last.recording ||= open;
      } else {
        flush();
        last = { fromMs: s.startMs, toMs: endMs, stream: s.stream, available: av, node: s.nodeId, recording: open };
      }
    }
    flush();
    for (const x of o.external ? await o.external.spans(cam.id, r.from, r.to).catch(() => []) : []) {
      spans.push({ from: x.from, to: x.to, stream: 'main', available: true, node: x.source, recording: false });
    }
    const from = new Date(r.from);
    const to = new Date(r.to);
    const others = (await o.db.query<{ kind: string; at: Date; id: string; label: string | null }>(
      `SELECT 'alarm' AS kind, started_at AS at, id::text AS id, kind AS label FROM camera_alarms WHERE camera_id = $1 AND started_at BETWEEN $2 AND $3 AND kind <> 'motion'
       UNION ALL SELECT 'incident', reported_at, id::text, coalesce(category_name, category_code) FROM incidents_110 WHERE camera_id = $1 AND reported_at BETWEEN $2 AND $3
       ORDER BY at LIMIT ${MAX_MARKERS}`, [cam.id, from, to])).rows;
    const markers = [...await candidateMarkers(o.db, cam.id, from, to, MAX_MARKERS), ...others]
      .map((x) => ({ kind: x.kind, at: new Date(x.at).toISOString(), id: x.id, label: x.label }))
      .sort((a, b) => a.at.localeCompare(b.at)).slice(0, MAX_MARKERS);
    return { cameraId: cam.id, from: from.toISOString(), to: to.toISOString(), spans, markers };
  });

  // ---------------------------------------------------------------- playback URL

  /** The store that should serve a range: the one holding its newest recording (it knows the file being written). */
  const holderOf = async (cameraId: string, from: number, to: number): Promise<{ base: string } | { unavailable: true } | { none: true }> => {
    const rows = await segmentsInRange(o.db, cameraId, from, to);
    if (!rows.length) return { none: true };
    const m = await storeMap();
    const newest = [...rows].reverse().find((s) => available(s, m));
    if (!newest) return { unavailable: true };
    if (isMine(newest.nodeId)) return { base: '' };
    const addr = m.get(newest.nodeId)?.address;
    return addr ? { base: addr } : { base: '' };
  };

  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string; rate?: number } }>('/api/cameras/:id/playback', {
    config: { roles: PLAYBACK_ROLES },
    schema: {
      summary: 'Signed, expiring VOD HLS URL for a camera and a time range (seek = from); rate 1–16 (keyframes only above 4)',
      querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 }, rate: { type: 'integer' } } },
      response: { 400: err, 404: err, 503: err },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const cam = await visible(user, request.params.id);
    if (!cam) return bad(reply, 404, 'camera not found (摄像机不存在)');
    const rate = request.query.rate ?? 1;
    if (!RATES.includes(rate)) return bad(reply, 400, `rate must be one of ${RATES.join(', ')} (倍速须为 ${RATES.join('/')})`);
    const r = range(request.query, { back: 600_000, span: 3600_000 }, MAX_RANGE_MS);
    if (typeof r === 'string') return bad(reply, 400, r);
    const holder = await holderOf(cam.id, r.from, r.to);
    const ext = 'none' in holder ? await o.external?.playback(user, cam.id, r.from, r.to, rate, request.ip) : undefined;
    if (ext) return reply.code(ext.status).send(ext.body);
    if ('none' in holder) return bad(reply, 404, 'nothing was recorded in this time range (此时间段无录像)');
    if ('unavailable' in holder) return bad(reply.header('retry-after', '30'), 503, 'the node holding these recordings is unavailable; they are kept and return with it (录像所在节点不可用)');
    const mode = rate > 4 ? 'k' : 'n';
    const grant = `${r.from}.${r.to}.${mode}`;
    const exp = Math.floor(Date.now() / 1000) + o.urlTtlS;
    const token = signLiveToken(urlKey, { cameraId: cam.id, stream: `rec/${grant}`, userId: user.id, exp });
    await o.db.tx(async (q) => {
      await audit(q, { user, action: 'playback.view', targetType: 'camera', targetId: cam.id, detail: { from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), rate }, ip: request.ip });
      await recordCameraAccess(q, { user, cameraId: cam.id, kind: 'playback', startedAt: new Date(), endedAt: new Date(), ip: request.ip, rangeFrom: new Date(r.from), rangeTo: new Date(r.to) });
    });
    return {
      url: `${holder.base}/rec/${cam.id}/${grant}/${token}/index.m3u8`, expiresAt: new Date(exp * 1000).toISOString(),
      from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), rate, keyframesOnly: mode === 'k',
    };
  });

  // ---------------------------------------------------------------- signed VOD media

  interface RecParams { id: string; grant: string; token: string; file?: string }
  const recParams = {
    type: 'object',
    properties: {
      id: { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' },
      grant: { type: 'string', pattern: '^\\d{10,15}\\.\\d{10,15}\\.[nk]$' },
      token: { type: 'string', maxLength: 100 },
      file: { type: 'string', maxLength: 64 },
    },
    required: ['id', 'grant', 'token'],
  } as const;

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/rec/')) reply.header('access-control-allow-origin', '*');
  });

  const seeCache = new Map<string, { at: number; ok: boolean }>();
  const maySee = async (userId: string, cameraId: string): Promise<boolean> => {
    const k = `${userId}/${cameraId}`;
    const hit = seeCache.get(k);
    if (hit && Date.now() - hit.at < 5000) return hit.ok;
    const row = (await o.db.query<{ role: Role; disabled: boolean; sharing: string }>(
      'SELECT u.role, u.disabled, c.sharing FROM users u, cameras c WHERE u.id = $1 AND c.id = $2', [userId, cameraId])).rows[0];
    const ok = !!row && !row.disabled && PLAYBACK_ROLES.includes(row.role) && (row.sharing === 'shared' || seesRestrictedCameras(row.role));
    if (seeCache.size > 10_000) seeCache.clear();
    seeCache.set(k, { at: Date.now(), ok });
    return ok;
  };

  const authorize = async (request: FastifyRequest<{ Params: RecParams }>, reply: FastifyReply): Promise<{ from: number; to: number; keyframes: boolean } | undefined> => {
    const { id, grant, token } = request.params;
    const v = verifyLiveToken(urlKey, { cameraId: id, stream: `rec/${grant}`, token });
    if (!v.ok) {
      bad(reply, 403, v.reason === 'expired' ? 'this playback URL has expired; ask for a new one (回放地址已过期)' : 'invalid playback URL signature (回放地址签名无效)');
      return undefined;
    }
    if (!(await maySee(v.userId, id))) {
      bad(reply, 403, 'you may not see this camera (无权查看此摄像机)');
      return undefined;
    }
    const [from, to, mode] = grant.split('.');
    return { from: Number(from), to: Number(to), keyframes: mode === 'k' };
  };

  /** GOPs of a row that may be served: the open file's come from its recorder (all but the GOP being written). */
  const gopsOf = (s: SegmentRow): { gops: GopTuple[]; bytes: number } => {
    if (s.status === 'open' && isMine(s.nodeId)) {
      const open = o.recorder?.recorderFor(s.cameraId)?.openSegment;
      if (open && open.meta.file === s.file) return { gops: open.gops.slice(0, -1), bytes: open.gops.length > 1 ? open.gops[open.gops.length - 1][0] : s.initBytes };
      return { gops: [], bytes: s.bytes };
    }
    return { gops: s.gops, bytes: s.bytes };
  };

  app.get<{ Params: RecParams }>('/rec/:id/:grant/:token/index.m3u8', {
    config: { public: true },
    schema: { hide: true, params: recParams },
  }, async (request, reply) => {
    const g = await authorize(request, reply);
    if (!g) return reply;
    const { id, grant, token } = request.params;
    const rows = await segmentsInRange(o.db, id, g.from, g.to);
    const m = await storeMap();
    const files: PlaylistFile[] = rows.map((s) => {
      const { gops } = gopsOf(s);
      const st = m.get(s.nodeId);
      const base = isMine(s.nodeId) || !st?.address ? '' : `${st.address}/rec/${id}/${grant}/${token}/`;
      return { id: s.id, startMs: s.startMs, initBytes: s.initBytes, gops, base, available: available(s, m) };
    });
    const pl = buildVodPlaylist(files, g.from, g.to, { keyframesOnly: g.keyframes });
    return reply
      .header('content-type', 'application/vnd.apple.mpegurl')
      .header('cache-control', 'no-cache')
      .header('x-timeline-start', new Date(pl.timelineStartMs).toISOString())
      .send(pl.text);
  });


  app.get<{ Params: RecParams }>('/rec/:id/:grant/:token/:file', {
    config: { public: true },
    schema: { hide: true, params: { ...recParams, required: ['id', 'grant', 'token', 'file'] } },
  }, async (request, reply) => {
    const g = await authorize(request, reply);
    if (!g) return reply;
    const file = request.params.file!;
    const mm = /^([isk])(\d{1,15})(?:_(\d{1,6})_(\d{1,6}))?\.(mp4|m4s)$/.exec(file);
    if (!mm) return bad(reply, 404, 'no such file');
    const row = await segmentById(o.db, Number(mm[2]));
    // a token is good for its camera and its time range only
    if (!row || row.cameraId !== request.params.id || row.startMs >= g.to || (row.status === 'complete' && row.endMs <= g.from)) return bad(reply, 404, 'no such recording');
    if (!isMine(row.nodeId)) {
      const st = (await storeMap()).get(row.nodeId);
      if (st?.alive && st.address) return reply.code(307).header('cache-control', 'no-store').redirect(`${st.address}${request.url}`, 307);
      return bad(reply.header('retry-after', '30'), 503, 'the node holding this recording is unavailable (录像所在节点不可用)');
    }
    const path = join(o.storeDir, row.file);
    if (row.status === 'open') await o.recorder?.recorderFor(row.cameraId)?.flush();
    let body: Buffer;
    try {
      if (mm[1] === 'i') body = await readRange(path, 0, row.initBytes);
      else {
        const { gops, bytes } = gopsOf(row);
        const g0 = Number(mm[3]);
        const g1 = Number(mm[4]);
        const r = gopRange(gops, g0, g1, bytes);
        if (!r) return bad(reply, 404, 'no such GOP range');
        if (mm[1] === 's') body = await readRange(path, r[0], r[1]);
        else {
          const init = await readRange(path, 0, row.initBytes);
          const track = parseMoov(init.subarray(init.readUInt32BE(0)));
          const frags: Buffer[] = [];
          for (let i = g0; i <= g1; i++) {
            const [off, , dur, kfBytes] = gops[i];
            const s = firstSample(await readRange(path, off, off + kfBytes), { flags: track.defaultSampleFlags });
            if (s) frags.push(keyframeFragment(s, (dur / 1000) * track.timescale, i + 1));
          }
          body = Buffer.concat(frags);
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return bad(reply, 404, 'the recording file is gone (录像文件已删除)');
      throw e;
    }
    return reply.header('content-type', mm[5] === 'mp4' ? 'video/mp4' : 'video/iso.segment').header('cache-control', row.status === 'complete' ? 'private, max-age=3600' : 'no-cache').send(body);
  });

  // ---------------------------------------------------------------- export

  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string } }>('/api/cameras/:id/export', {
    config: { roles: PLAYBACK_ROLES },
    schema: {
      summary: 'MP4 of a time range (remuxed, not re-encoded; camera name and range in its metadata); audited',
      querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 } } },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const cam = await visible(user, request.params.id);
    if (!cam) return bad(reply, 404, 'camera not found (摄像机不存在)');
    if (!request.query.from || !request.query.to) return bad(reply, 400, 'from and to are required (须指定开始和结束时间)');
    const r = range(request.query, { back: 0, span: 0 }, MAX_EXPORT_MS);
    if (typeof r === 'string') return bad(reply, 400, r);
    const rows = await segmentsInRange(o.db, cam.id, r.from, r.to);
    if (rows.length && rows.every((s) => !isMine(s.nodeId))) {
      const holder = await holderOf(cam.id, r.from, r.to);
      if ('base' in holder && holder.base) return reply.code(307).redirect(`${holder.base}${request.url}`, 307);
      return bad(reply.header('retry-after', '30'), 503, 'the node holding these recordings is unavailable (录像所在节点不可用)');
    }
    const mine = rows.filter((s) => isMine(s.nodeId)).map((s) => ({ ...s, ...gopsOf(s) }));
    if (mine.some((s) => s.status === 'open')) await o.recorder?.recorderFor(cam.id)?.flush();
    let result;
    try {
      result = await exportMp4({ ffmpegPath: o.ffmpegPath, pieces: piecesFor(mine, r.from, r.to, (f) => join(o.storeDir, f)), fromMs: r.from, toMs: r.to, cameraName: cam.name, cameraId: cam.id });
    } catch (e) {
      if (e instanceof NothingRecordedError) return bad(reply, 404, e.message);
      throw e;
    }
    await o.db.tx(async (q) => {
      await audit(q, { user, action: 'recording.export', targetType: 'camera', targetId: cam.id, detail: { from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), bytes: result.bytes }, ip: request.ip });
      await recordCameraAccess(q, { user, cameraId: cam.id, kind: 'export', startedAt: new Date(), endedAt: new Date(), ip: request.ip, rangeFrom: new Date(r.from), rangeTo: new Date(r.to) });
    });
    const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 15);
    const name = `camera-${cam.id.slice(0, 8)}-${stamp(result.startMs)}-${stamp(result.endMs)}.mp4`;
    const stream = createReadStream(result.path);
    stream.once('close', () => void result.cleanup());
    return reply
      .header('content-type', 'video/mp4')
      .header('content-length', String((await stat(result.path)).size))
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('x-recording-start', new Date(result.startMs).toISOString())
      .header('x-recording-end', new Date(result.endMs).toISOString())
      .send(stream);
  });

  // ---------------------------------------------------------------- cases

  app.post<{ Params: { id: string }; Body: { cameraId: string; from: string; to: string } }>('/api/cases/:id/recordings', {
    config: { roles: PLAYBACK_ROLES },
    schema: {
      summary: 'Attach a recorded time range to a case: kept until the case closes plus its retention; audited',
      body: { type: 'object', additionalProperties: false, required: ['cameraId', 'from', 'to'], properties: { cameraId: { type: 'string', format: 'uuid' }, from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 } } },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    if (!UUID.test(request.params.id)) return bad(reply, 404, 'case not found (案件不存在)');
    const c = (await o.db.query<{ id: string; case_no: string }>('SELECT id, case_no FROM cases WHERE id = $1', [request.params.id])).rows[0];
    if (!c) return bad(reply, 404, 'case not found (案件不存在)');
    const cam = await visible(user, request.body.cameraId);
    if (!cam) return bad(reply, 404, 'camera not found (摄像机不存在)');
    const r = range(request.body, { back: 0, span: 0 }, MAX_EXPORT_MS);
    if (typeof r === 'string') return bad(reply, 400, r);
    const row = await o.db.tx(async (q) => {
      const ins = (await q.query<{ id: number }>(
        `INSERT INTO recording_locks (camera_id, from_at, to_at, case_id, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id::int AS id`,
        [cam.id, new Date(r.from), new Date(r.to), c.id, user.id])).rows[0];
      await audit(q, { user, action: 'case.recording.attach', targetType: 'case', targetId: c.id, detail: { cameraId: cam.id, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() }, ip: request.ip });
      return ins;
    });
    return reply.code(201).send({ id: row.id, caseId: c.id, caseNo: c.case_no, cameraId: cam.id, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() });
  });

  app.get<{ Params: { id: string } }>('/api/cases/:id/recordings', {
    config: { roles: PLAYBACK_ROLES },
    schema: { summary: 'Recorded time ranges attached to a case' },
  }, async (request, reply) => {
    const user = currentUser(request);
    if (!UUID.test(request.params.id)) return bad(reply, 404, 'case not found (案件不存在)');
    const rows = (await o.db.query<{ id: number; camera_id: string; from_at: Date; to_at: Date; sharing: string; name: string }>(
      `SELECT l.id::int AS id, l.camera_id, l.from_at, l.to_at, c.sharing, c.name FROM recording_locks l JOIN cameras c ON c.id = l.camera_id
       WHERE l.case_id = $1 ORDER BY l.from_at`, [request.params.id])).rows;
    return {
      items: rows.filter((x) => x.sharing === 'shared' || seesRestrictedCameras(user.role))
        .map((x) => ({ id: x.id, cameraId: x.camera_id, cameraName: x.name, from: new Date(x.from_at).toISOString(), to: new Date(x.to_at).toISOString() })),
    };
  });

  app.get<{ Params: { id: string } }>('/api/recordings/incident/:id', {
    config: { roles: PLAYBACK_ROLES },
    schema: { summary: 'Where to play a 110 incident\'s scene: its camera, else the visible camera nearest to it, at the report time' },
  }, async (request, reply) => {
    const user = currentUser(request);
    if (!UUID.test(request.params.id)) return bad(reply, 404, 'incident not found (警情不存在)');
    const inc = (await o.db.query<{ camera_id: string | null; lat: number | null; lng: number | null; reported_at: Date }>(
      'SELECT camera_id, lat, lng, reported_at FROM incidents_110 WHERE id = $1', [request.params.id])).rows[0];
    if (!inc) return bad(reply, 404, 'incident not found (警情不存在)');
    const at = new Date(inc.reported_at).toISOString();
    if (inc.camera_id && (await visible(user, inc.camera_id))) return { cameraId: inc.camera_id, at, distanceM: 0 };
    if (inc.lat == null || inc.lng == null) return bad(reply, 404, 'the incident has no camera and no position (警情无点位和坐标)');
    const near = (await o.db.query<{ id: string; lat: number; lng: number }>(
      `SELECT id, lat, lng FROM cameras c WHERE lat BETWEEN $1 - 0.05 AND $1 + 0.05 AND lng BETWEEN $2 - 0.06 AND $2 + 0.06
         AND ${seesRestrictedCameras(user.role) ? 'TRUE' : `c.sharing = 'shared'`}`, [inc.lat, inc.lng])).rows;
    const { distanceM } = await import('./recorder.js');
    const best = near.map((c) => ({ c, d: distanceM(inc.lat!, inc.lng!, c.lat, c.lng) })).sort((a, b) => a.d - b.d)[0];
    if (!best) return bad(reply, 404, 'no camera within about 5 km of the incident (附近无摄像机)');
    return { cameraId: best.c.id, at, distanceM: Math.round(best.d) };
  });

  // ---------------------------------------------------------------- status

  app.get('/api/recordings/status', {
    config: { roles: STATUS_ROLES },
    schema: { summary: 'This node\'s recorder (cameras, disk, failures) and every recording store' },
  }, async (request) => {
    const user = currentUser(request);
    const m = await storeMap();
    const node = o.recorder?.status() ?? null;
    if (node && !seesRestrictedCameras(user.role) && node.cameras.length) {
      // restricted cameras stay hidden here too
      const shared = new Set((await o.db.query<{ id: string }>(`SELECT id FROM cameras WHERE id = ANY($1::uuid[]) AND sharing = 'shared'`, [node.cameras.map((c) => c.cameraId)])).rows.map((r) => r.id));
      node.cameras = node.cameras.filter((c) => shared.has(c.cameraId));
    }
    return { node, stores: [...m.values()] };
  });
}
