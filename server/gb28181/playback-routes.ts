/**
 * Playback of GB channels' own recordings (on the device or lower platform), for the roles and cameras StreetEye's
 * own playback serves (operator, reviewer, police110, admin; restricted cameras 404 to those who may not see them):
 *   GET    /api/gb28181/cameras/:id/recordings?from=&to=      → {spans:[{from,to,source:'gb28181'}], items} (RecordInfo)
 *   POST   /api/gb28181/cameras/:id/playback {from,to,rate}   → {sessionId, url, expiresAt, from, to, rate} (signed HLS, audited)
 *   POST   /api/gb28181/playback/:sid/control {action: speed|pause|resume, rate?}   (INFO MANSRTSP)
 *   DELETE /api/gb28181/playback/:sid                         (BYE)
 *   GET    /gbpb/:sid/:token/:file                            playlist and media (no cookie; the signature is the credential)
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createReadStream } from 'node:fs';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { seesRestrictedCameras, type Role } from '../auth/roles.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { audit } from '../audit.js';
import { deriveKey } from '../secrets.js';
import { recordCameraAccess } from '../sharing/access-log.js';
import { signLiveToken, verifyLiveToken } from '../../ingest/signed-url.js';
import { LiveAccessCache } from '../../ingest/live-access.js';
import { GbError } from '../../gb28181/server.js';
import { SCALES } from '../../gb28181/record-info.js';
import { PlaybackError, type GbPlayback } from './playback.js';
import type { GbService } from './service.js';
import type { ExternalRecordings } from '../recording/routes.js';
import { checkTimeRange, parseTime } from '../recording/time-range.js';
import type { SessionUser } from '../auth/roles.js';

export const GB_PLAYBACK_ROLES: Role[] = ['operator', 'reviewer', 'police110', 'admin'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_RANGE_MS = 24 * 3600_000;

function fail(reply: FastifyReply, status: number, zh: string, en: string): FastifyReply {
  const error = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }[status] ?? 'Error';
  return reply.code(status).header('cache-control', 'no-store').send({ statusCode: status, error, message: `${zh} / ${en}`, zh, en });
}

const range = (from: unknown, to: unknown, max: number) => checkTimeRange(parseTime(from) ?? NaN, parseTime(to) ?? NaN, max);

function gbErrorBody(err: unknown): { status: number; zh: string; en: string } {
  if (err instanceof PlaybackError) return { status: err.status, zh: { 400: '参数错误', 404: '此时间段无录像', 409: '设备离线或回放已结束', 502: '设备拒绝', 503: '回放路数已满', 504: '设备未应答' }[err.status], en: err.message };
  if (err instanceof GbError) {
    if (err.code === 'offline') return { status: 409, zh: '设备未注册或离线', en: 'the GB device is not registered or offline' };
    if (err.code === 'timeout') return { status: 504, zh: '设备未应答', en: err.message };
    return { status: 502, zh: '设备拒绝或应答不完整', en: err.message };
  }
  throw err;
}

type GbCtx = AppContext & { gb: GbService; urlTtlS?: number };
const urlKeyOf = (ctx: AppContext) => deriveKey(ctx.secretKey, 'gb28181-playback-url');

/** INVITE the playback, sign its URL, audit the view (the camera is one this user may see). */
async function startPlayback(ctx: GbCtx, user: SessionUser, cam: { cameraId: string; deviceId: string; channelId: string }, from: number, to: number, rate: number, ip: string):
  Promise<{ sessionId: string; url: string; expiresAt: string; from: string; to: string; rate: number; timelineStart: string; source: 'gb28181' } | { error: { status: number; zh: string; en: string } }> {
  let s;
  try {
    s = await ctx.gb.playback.open({ ...cam, fromMs: from, toMs: to, rate });
  } catch (err) {
    return { error: gbErrorBody(err) };
  }
  const exp = Math.floor(Date.now() / 1000) + (ctx.urlTtlS ?? 600);
  const token = signLiveToken(urlKeyOf(ctx), { cameraId: cam.cameraId, stream: `gbpb/${s.id}`, userId: user.id, exp });
  await ctx.db.tx(async (q) => {
    await audit(q, { user, action: 'playback.view', targetType: 'camera', targetId: cam.cameraId, detail: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), rate, source: 'gb28181' }, ip });
    await recordCameraAccess(q, { user, cameraId: cam.cameraId, kind: 'playback', startedAt: new Date(), endedAt: new Date(), ip, rangeFrom: new Date(from), rangeTo: new Date(to) });
  });
  return {
    sessionId: s.id, url: `/gbpb/${s.id}/${token}/index.m3u8`, expiresAt: new Date(exp * 1000).toISOString(),
    from: new Date(from).toISOString(), to: new Date(to).toISOString(), rate, timelineStart: new Date(from).toISOString(), source: 'gb28181',
  };
}

/**
 * The hook server/recording/routes.ts calls (ExternalRecordings): a GB channel's own recordings on the day's timeline
 * (`GET /api/cameras/:id/recordings`) and its playback where StreetEye recorded nothing (`GET /api/cameras/:id/playback`).
 * The recording routes have already checked the role and that the user may see the camera.
 */
export function gbExternalRecordings(ctx: GbCtx): ExternalRecordings {
  return {
    async spans(cameraId, from, to) {
      const ch = await ctx.gb.repo.channelOfCamera(ctx.db, cameraId);
      if (!ch || !ctx.gb.server.isOnline(ch.deviceId)) return [];
      const { spans } = await ctx.gb.playback.spans(ch.deviceId, ch.channelId, from, to).catch(() => ({ spans: [] }));
      return spans.map((s) => ({ from: new Date(s.startMs).toISOString(), to: new Date(s.endMs).toISOString(), source: 'gb28181' }));
    },
    async playback(user, cameraId, from, to, rate, ip) {
      const ch = await ctx.gb.repo.channelOfCamera(ctx.db, cameraId);
      if (!ch) return undefined;
      const out = await startPlayback(ctx, user, { cameraId, ...ch }, from, to, rate, ip);
      return 'error' in out ? { status: out.error.status, body: { statusCode: out.error.status, message: `${out.error.zh} / ${out.error.en}`, zh: out.error.zh, en: out.error.en } } : { status: 200, body: out };
    },
  };
}

export async function gbPlaybackRoutes(app: FastifyInstance, ctx: GbCtx): Promise<void> {
  const pb: GbPlayback = ctx.gb.playback;
  const urlKey = urlKeyOf(ctx);

  /** The camera (visible to this user) and its GB channel; undefined → 404. */
  const gbCamera = async (role: Role, id: string): Promise<{ cameraId: string; deviceId: string; channelId: string } | undefined> => {
    if (!UUID.test(id)) return undefined;
    const row = (await ctx.db.query<{ id: string }>(`SELECT c.id FROM cameras c WHERE c.id = $1 AND ${visibilityCondition({ role })}`, [id])).rows[0];
    if (!row) return undefined;
    const ch = await ctx.gb.repo.channelOfCamera(ctx.db, id);
    return ch ? { cameraId: id, ...ch } : undefined;
  };
  const gbFail = (reply: FastifyReply, err: unknown): FastifyReply => {
    const e = gbErrorBody(err);
    return fail(reply, e.status, e.zh, e.en);
  };

  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string } }>('/api/gb28181/cameras/:id/recordings', {
    config: { roles: GB_PLAYBACK_ROLES },
    schema: {
      summary: 'Recordings a GB channel\'s device or platform holds in a time range (RecordInfo), as timeline spans',
      querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 } } },
    },
  }, async (request, reply) => {
    const cam = await gbCamera(currentUser(request).role, request.params.id);
    if (!cam) return fail(reply, 404, '摄像机不存在或不是国标通道', 'camera not found or not a GB/T 28181 channel');
    const now = Date.now();
    const r = range(request.query.from ?? now - 24 * 3600_000, request.query.to ?? now, 8 * 24 * 3600_000);
    if ('zh' in r) return fail(reply, 400, r.zh, r.en);
    try {
      const { items, spans } = await pb.spans(cam.deviceId, cam.channelId, r.from, r.to);
      return {
        cameraId: cam.cameraId, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(),
        spans: spans.map((s) => ({ from: new Date(s.startMs).toISOString(), to: new Date(s.endMs).toISOString(), source: 'gb28181', available: true })),
        items: items.slice(0, 2000).map((i) => ({ from: new Date(i.startMs).toISOString(), to: new Date(i.endMs).toISOString(), name: i.name, type: i.type })),
      };
    } catch (err) {
      return gbFail(reply, err);
    }
  });

  app.post<{ Params: { id: string }; Body: { from: string; to: string; rate?: number } }>('/api/gb28181/cameras/:id/playback', {
    config: { roles: GB_PLAYBACK_ROLES },
    schema: {
      summary: 'Play back a GB channel\'s own recording (INVITE s=Playback); a signed HLS URL, audited like StreetEye\'s playback',
      body: {
        type: 'object', additionalProperties: false, required: ['from', 'to'],
        properties: { from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 }, rate: { type: 'number', enum: [...SCALES] } },
      },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const cam = await gbCamera(user.role, request.params.id);
    if (!cam) return fail(reply, 404, '摄像机不存在或不是国标通道', 'camera not found or not a GB/T 28181 channel');
    const r = range(request.body.from, request.body.to, MAX_RANGE_MS);
    if ('zh' in r) return fail(reply, 400, r.zh, r.en);
    const out = await startPlayback(ctx, user, cam, r.from, r.to, request.body.rate ?? 1, request.ip);
    return 'error' in out ? fail(reply, out.error.status, out.error.zh, out.error.en) : out;
  });

  /** A session's controls: the user who may see its camera (not only the one who opened it: a colleague may pause). */
  const sessionOf = async (role: Role, sid: string) => {
    const s = /^[0-9a-f]{24}$/.test(sid) ? pb.get(sid) : undefined;
    if (!s) return undefined;
    return (await gbCamera(role, s.cameraId)) ? s : undefined;
  };

  app.post<{ Params: { sid: string }; Body: { action: 'speed' | 'pause' | 'resume'; rate?: number } }>('/api/gb28181/playback/:sid/control', {
    config: { roles: GB_PLAYBACK_ROLES },
    schema: {
      summary: 'Speed, pause or resume a GB playback (INFO with MANSRTSP PLAY Scale / PAUSE)',
      body: {
        type: 'object', additionalProperties: false, required: ['action'],
        properties: { action: { type: 'string', enum: ['speed', 'pause', 'resume'] }, rate: { type: 'number', enum: [...SCALES] } },
      },
    },
  }, async (request, reply) => {
    const s = await sessionOf(currentUser(request).role, request.params.sid);
    if (!s) return fail(reply, 404, '回放不存在', 'no such playback');
    const b = request.body;
    if (b.action === 'speed' && b.rate === undefined) return fail(reply, 400, '倍速须给出 rate', 'speed needs a rate');
    try {
      return await pb.control(s.id, b.action === 'speed' ? { action: 'speed', rate: b.rate! } : { action: b.action });
    } catch (err) {
      return gbFail(reply, err);
    }
  });

  app.delete<{ Params: { sid: string } }>('/api/gb28181/playback/:sid', { config: { roles: GB_PLAYBACK_ROLES } }, async (request, reply) => {
    const s = await sessionOf(currentUser(request).role, request.params.sid);
    if (!s) return fail(reply, 404, '回放不存在', 'no such playback');
    await pb.close(s.id, 'stopped by the viewer');
    return reply.code(204).send();
  });

  // every file request re-checks access; revocations on the bus (a disabled user, a camera turned restricted) drop the cached answers
  const access = new LiveAccessCache(async (userId, cameraId) => {
    if (!UUID.test(userId) || !UUID.test(cameraId)) return false;
    const row = (await ctx.db.query<{ role: Role; disabled: boolean; sharing: string }>(
      'SELECT u.role, u.disabled, c.sharing FROM users u, cameras c WHERE u.id = $1 AND c.id = $2', [userId, cameraId])).rows[0];
    return !!row && !row.disabled && GB_PLAYBACK_ROLES.includes(row.role) && (row.sharing === 'shared' || seesRestrictedCameras(row.role));
  });
  const unsubscribe = ctx.bus.subscribe((msg) => access.onMessage(msg));
  app.addHook('onClose', async () => unsubscribe());
  const maySee = (userId: string, cameraId: string) => access.maySee(userId, cameraId);

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/gbpb/')) reply.header('access-control-allow-origin', '*');
  });

  app.get<{ Params: { sid: string; token: string; file: string } }>('/gbpb/:sid/:token/:file', {
    config: { public: true },
    schema: {
      hide: true,
      params: {
        type: 'object', required: ['sid', 'token', 'file'],
        properties: { sid: { type: 'string', pattern: '^[0-9a-f]{24}$' }, token: { type: 'string', maxLength: 100 }, file: { type: 'string', maxLength: 32 } },
      },
    },
  }, async (request, reply) => {
    const { sid, token, file } = request.params;
    const s = pb.get(sid);
    if (!s) return fail(reply, 404, '回放已结束', 'this playback has ended');
    const v = verifyLiveToken(urlKey, { cameraId: s.cameraId, stream: `gbpb/${sid}`, token });
    if (!v.ok) return fail(reply, 403, v.reason === 'expired' ? '回放地址已过期' : '回放地址签名无效', v.reason === 'expired' ? 'this playback URL has expired' : 'invalid playback URL signature');
    if (!(await maySee(v.userId, s.cameraId))) return fail(reply, 403, '无权查看此摄像机', 'you may not see this camera');
    // the playlist appears with the first segment: wait for it rather than make the player retry
    const f = await pb.file(sid, file, file === 'index.m3u8' ? 8000 : 0);
    if (!f) return fail(reply, 404, '文件不存在', 'no such file');
    const type = file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : file.endsWith('.mp4') ? 'video/mp4' : 'video/iso.segment';
    return reply.header('content-type', type).header('cache-control', file.endsWith('.m3u8') && !f.ended ? 'no-cache' : 'private, max-age=600').send(createReadStream(f.path));
  });
}
