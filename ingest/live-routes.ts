/**
 * HTTP side of ingest:
 *   GET /api/cameras/:id/live?stream=sub|main → { url, expiresAt }   (session; checks the user may see the camera)
 *   GET /api/cameras/:id/snapshot?stream=…    → image/jpeg           (session; latest keyframe — asked of the holder
 *                                                                     in a cluster — else ONVIF URI)
 *   GET /live/:id/:stream/:token/index.m3u8   → LL-HLS playlist       (signed URL; blocking reload, delta updates)
 *   GET /live/:id/:stream/:token/keyframes.m3u8 → LL-HLS playlist of the keyframes only (1 frame per GOP, one part each;
 *                                                 media `kf-…`; signed URL, same checks)
 *   GET /live/:id/:stream/:token/transcode.m3u8 → LL-HLS playlist of an H.264 transcode of the stream (for browsers
 *                                                 without H.265; media `tc-…`; started on demand within the node's
 *                                                 transcode budget, else 503 {zh, en, reason: 'transcode_budget'})
 *   GET /live/:id/:stream/:token/master.m3u8  → multivariant playlist (signed URL; CODECS="avc1.…"/"hvc1.…", RESOLUTION)
 *   GET /live/:id/:stream/:token/<media>      → init/part/segment     (signed URL; preload hints block)
 * The playlist and media are public in the session sense: the signature (camera, stream, user, expiry) is the
 * credential, checked in constant time; every playlist and media request also re-checks that the user may still
 * see the camera (userMaySee: disabled users, lost roles and restricted cameras are refused at once, see
 * live-access.ts).
 */
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IngestService } from './service.js';
import { SessionLimitError } from './session-manager.js';
import { signLiveToken, verifyLiveToken } from './signed-url.js';
import { SnapshotUnavailableError } from './snapshot.js';
import type { CameraSession, StreamKind } from './camera-session.js';
import { LlhlsMuxer as LlhlsMuxerClass, type LlhlsMuxer } from './llhls-muxer.js';
import { KEYFRAME_PREFIX } from './keyframe-rendition.js';
import { TRANSCODE_PREFIX, TranscodeBudgetError } from './transcode-rendition.js';

export interface LiveCamera {
  id: string;
  /** which streams have a URL */
  streams: StreamKind[];
}

export interface LiveRoutesOptions {
  ingest: IngestService;
  /** the signed-in roles that may ask for live URLs and snapshots (the server's: every role) */
  roles: readonly string[];
  /** key for signing live URLs (purpose-bound) */
  urlKey: Buffer;
  /** the camera if the user may see it, else null (→ 404, as for a camera that does not exist) */
  getVisibleCamera(user: { id: string; role: string }, cameraId: string): Promise<LiveCamera | null>;
  /** serve-time check on every playlist and media request: may this user (still) see the camera? (callers cache it briefly) */
  userMaySee(userId: string, cameraId: string): Promise<boolean>;
  /** the camera's own snapshot URI (ONVIF GetSnapshotUri) with credentials, when there is one */
  snapshotSource?(cameraId: string): Promise<{ uri: string; username?: string | null; password?: string | null } | null>;
  /**
   * Cluster placement (absent: this node streams every camera). A live URL asked of a node that does not stream the
   * camera points at the ingest node that does (absolute, signed with the key every node shares); a playlist or media
   * request reaching the wrong node is redirected (307) to the holder, or refused with 503 while nobody holds it.
   */
  cluster?: {
    /** base URL of this node */
    readonly address: string;
    /** may this node pull the camera (its lease, fencing)? */
    streams(cameraId: string): boolean;
    /** base URL of the node streaming the camera now, or null */
    locate(cameraId: string): Promise<string | null>;
  };
  /** audit trail: who started watching which camera */
  audit?(e: { user: { id: string; username: string }; action: string; cameraId: string; detail: Record<string, unknown>; ip: string }): Promise<void>;
}

/** Session states in which the playlist's content is stale (the camera is not delivering). */
const DOWN_STATES = new Set(['reconnecting', 'offline', 'auth_failed', 'error']);
const DOWN_ZH: Record<string, string> = { reconnecting: '重连中', offline: '离线', auth_failed: '认证失败', error: '故障' };
const UUIDISH = '^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$';
const streamQuery = {
  type: 'object',
  properties: { stream: { type: 'string', enum: ['sub', 'main'], default: 'sub' } },
  additionalProperties: false,
} as const;
/** A snapshot URL may carry a cache-buster (t=...): an <img> refreshes only when its src changes. It is ignored. */
const snapshotQuery = {
  type: 'object',
  properties: { ...streamQuery.properties, t: { type: 'string', maxLength: 32, pattern: '^[0-9A-Za-z_-]*$' } },
  additionalProperties: false,
} as const;
const idParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: UUIDISH } },
  required: ['id'],
  additionalProperties: false,
} as const;
const err = { type: 'object', properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } } } as const;

function fail(reply: FastifyReply, status: number, message: string): FastifyReply {
  const error = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 503: 'Service Unavailable' }[status] ?? 'Error';
  return reply.code(status).header('cache-control', 'no-store').send({ statusCode: status, error, message });
}

function sessionUser(request: FastifyRequest): { id: string; username: string; role: string } {
  const user = (request as unknown as { user?: { id: string; username: string; role: string } | null }).user;
  if (!user) throw Object.assign(new Error('Sign in first'), { statusCode: 401 });
  return user;
}

/**
 * GET the snapshot from the node that streams the camera, as the same user (sessions live in the shared database, so
 * the cookie is valid there too). Null when the holder has nothing better than this node would (a 5xx).
 */
async function snapshotFromHolder(holder: string, cameraId: string, stream: StreamKind, request: FastifyRequest): Promise<{ status: number; type: string; body: Buffer } | null> {
  const res = await fetch(`${holder}/api/cameras/${encodeURIComponent(cameraId)}/snapshot?stream=${stream}`, {
    headers: { cookie: request.headers.cookie ?? '' },
    signal: AbortSignal.timeout(8000),
    redirect: 'error',
  });
  if (res.status >= 500) return null;
  return { status: res.status, type: res.headers.get('content-type') ?? 'application/octet-stream', body: Buffer.from(await res.arrayBuffer()) };
}

/** AbortSignal that fires when the client goes away before the response is sent. */
function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => ac.abort());
  return ac.signal;
}

export async function liveRoutes(app: FastifyInstance, o: LiveRoutesOptions): Promise<void> {
  // the server's session guard reads config.roles (its Role type is the server's own, not ingest's)
  const routeConfig = { roles: o.roles } as unknown as FastifyContextConfig;
  const { ingest } = o;
  const manager = ingest.manager;
  const settings = ingest.settings;
  const maySee = (userId: string, cameraId: string): Promise<boolean> => o.userMaySee(userId, cameraId);

  app.get<{ Params: { id: string }; Querystring: { stream: StreamKind } }>('/api/cameras/:id/live', {
    config: routeConfig,
    schema: {
      summary: 'Signed, expiring LL-HLS URL for a camera stream (starts the stream on demand)',
      params: idParams,
      querystring: streamQuery,
      response: {
        200: {
          type: 'object',
          properties: {
            url: { type: 'string' }, expiresAt: { type: 'string' }, stream: { type: 'string' },
            // the same stream behind a multivariant playlist that names the codec (RFC 6381) where players read it
            masterUrl: { type: 'string' },
            // the keyframe-only rendition of the same stream (same signature): 1 frame per GOP, for small tiles
            keyframesUrl: { type: 'string' },
            // the stream's codec when it is already known (a running session), for MediaSource.isTypeSupported
            codec: { type: 'string' },
            // an H.264 transcode of the same stream (same signature), for a browser that cannot play the codec
            transcodeUrl: { type: 'string' },
            // the streams the camera has (a tile that cannot play one may take the other)
            streams: { type: 'array', items: { type: 'string' } },
          },
          required: ['url', 'expiresAt'],
        },
        404: err, 409: err, 503: err,
      },
    },
  }, async (request, reply) => {
    const user = sessionUser(request);
    const { id } = request.params;
    const stream = request.query.stream ?? 'sub';
    const camera = await o.getVisibleCamera(user, id);
    if (!camera) return fail(reply, 404, 'camera not found');
    if (!camera.streams.includes(stream) && !camera.streams.length) return fail(reply, 409, 'this camera has no stream URL');
    // the URL points at the node that pulls the camera (one pull per camera across the cluster)
    let base = '';
    if (o.cluster && !o.cluster.streams(id)) {
      const holder = await o.cluster.locate(id);
      if (!holder) return fail(reply.header('retry-after', '3'), 503, 'no ingest node holds this camera right now; try again in a few seconds');
      base = holder;
    } else {
      try {
        manager.touch(id, stream, `u:${user.id}`); // start pulling now: the player's first playlist request finds it warming up
      } catch (e) {
        if (e instanceof SessionLimitError) return fail(reply.header('retry-after', '30'), 503, e.message);
        throw e;
      }
    }
    const exp = Math.floor(Date.now() / 1000) + settings.liveUrlTtlS;
    const token = signLiveToken(o.urlKey, { cameraId: id, stream, userId: user.id, exp });
    if (o.audit) void o.audit({ user, action: 'live.view', cameraId: id, detail: { stream }, ip: request.ip }).catch((e2) => request.log.warn({ err: e2 }, 'audit failed'));
    const dir = `${base}/live/${encodeURIComponent(id)}/${stream}/${token}`;
    const codec = base ? undefined : manager.get(id, stream)?.muxer.trackInfo?.codec;
    return { url: `${dir}/index.m3u8`, masterUrl: `${dir}/master.m3u8`, keyframesUrl: `${dir}/keyframes.m3u8`, transcodeUrl: `${dir}/transcode.m3u8`, expiresAt: new Date(exp * 1000).toISOString(), stream, streams: camera.streams, ...(codec ? { codec } : {}) };
  });

  app.get<{ Params: { id: string }; Querystring: { stream: StreamKind } }>('/api/cameras/:id/snapshot', {
    config: routeConfig,
    schema: { summary: 'JPEG snapshot: the running stream\'s latest keyframe, else the camera\'s snapshot URI', params: idParams, querystring: snapshotQuery },
  }, async (request, reply) => {
    const user = sessionUser(request);
    const { id } = request.params;
    const camera = await o.getVisibleCamera(user, id);
    if (!camera) return fail(reply, 404, 'camera not found');
    const wanted = request.query.stream ?? 'sub';
    // in a cluster the node that pulls the camera has its latest keyframe: ask it (it checks the same session and audits)
    if (o.cluster && !o.cluster.streams(id)) {
      const holder = await o.cluster.locate(id);
      if (holder && holder !== o.cluster.address) {
        const relayed = await snapshotFromHolder(holder, id, wanted, request).catch((e: Error) => {
          request.log.warn({ module: 'ingest', camera: id, holder, err: e.message }, 'snapshot from the holder failed; trying the camera');
          return null;
        });
        if (relayed) return reply.code(relayed.status).header('content-type', relayed.type).header('cache-control', relayed.status === 200 ? 'private, max-age=1' : 'no-store').send(relayed.body);
      }
    }
    const session = manager.get(id, wanted) ?? manager.get(id, wanted === 'sub' ? 'main' : 'sub');
    try {
      let jpeg: Buffer | undefined;
      const fromSession = session && ingest.snapshots.fromSession(session);
      if (fromSession) jpeg = await fromSession.catch(() => undefined);
      if (!jpeg) {
        const src = o.snapshotSource ? await o.snapshotSource(id) : null;
        if (!src) return fail(reply, 503, session ? 'the stream has no picture yet' : 'the camera is not streaming and has no snapshot URI');
        jpeg = await ingest.snapshots.fromUri(src.uri, src);
      }
      if (o.audit) void o.audit({ user, action: 'snapshot.view', cameraId: id, detail: { stream: wanted }, ip: request.ip }).catch((e2) => request.log.warn({ err: e2 }, 'audit failed'));
      return reply.header('content-type', 'image/jpeg').header('cache-control', 'private, max-age=1').send(jpeg);
    } catch (e) {
      if (e instanceof SnapshotUnavailableError) return fail(reply, 503, e.message);
      throw e;
    }
  });

  // ---- signed media (no session cookie: hls.js and native players fetch these) ----

  interface LiveParams { id: string; stream: string; token: string; file?: string }
  const liveParams = {
    type: 'object',
    properties: {
      id: { type: 'string', pattern: UUIDISH },
      stream: { type: 'string', enum: ['sub', 'main'] },
      token: { type: 'string', maxLength: 100 },
      file: { type: 'string', maxLength: 64 },
    },
    required: ['id', 'stream', 'token'],
  } as const;

  const authorize = (request: FastifyRequest<{ Params: LiveParams }>, reply: FastifyReply): { userId: string } | undefined => {
    const { id, stream, token } = request.params;
    const v = verifyLiveToken(o.urlKey, { cameraId: id, stream, token });
    if (!v.ok) {
      fail(reply, 403, v.reason === 'expired' ? 'this live URL has expired; ask for a new one' : 'invalid live URL signature');
      return undefined;
    }
    return { userId: v.userId };
  };

  // Signed media may be fetched cross-origin (console on an API node, video from an ingest node): the signature in the
  // path is the credential, no cookie is involved, so any origin may read it.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/live/')) reply.header('access-control-allow-origin', '*');
  });

  /** Not this node's camera: 307 to the node that streams it (same path and query), else 503. True when answered. */
  const elsewhere = async (request: FastifyRequest<{ Params: LiveParams }>, reply: FastifyReply): Promise<boolean> => {
    if (!o.cluster || o.cluster.streams(request.params.id)) return false;
    const holder = await o.cluster.locate(request.params.id);
    if (holder && holder !== o.cluster.address) {
      reply.code(307).header('cache-control', 'no-store').redirect(`${holder}${request.url}`, 307);
      return true;
    }
    fail(reply.header('retry-after', '2'), 503, 'this camera is moving to another node; try again in a moment');
    return true;
  };

  const mediaSession = (request: FastifyRequest<{ Params: LiveParams }>, userId: string, reply: FastifyReply): CameraSession | undefined => {
    try {
      return manager.touch(request.params.id, request.params.stream as StreamKind, `u:${userId}`);
    } catch (e) {
      if (e instanceof SessionLimitError) {
        fail(reply.header('retry-after', '30'), 503, e.message);
        return undefined;
      }
      throw e;
    }
  };

  /** A media playlist of one rendition of the session: the full stream, its keyframes only, or its H.264 transcode. */
  const servePlaylist = async (request: FastifyRequest<{ Params: LiveParams; Querystring: Record<string, string> }>, reply: FastifyReply, rendition: (s: CameraSession) => LlhlsMuxer | Promise<LlhlsMuxer | FastifyReply>): Promise<FastifyReply> => {
    const auth = authorize(request, reply);
    if (!auth) return reply;
    const { id } = request.params;
    if (!(await maySee(auth.userId, id))) return fail(reply, 403, 'you may not see this camera');
    if (await elsewhere(request, reply)) return reply;
    const session = mediaSession(request, auth.userId, reply);
    if (!session) return reply;
    const gone = clientGone(reply);
    const got = await rendition(session);
    if (!(got instanceof LlhlsMuxerClass)) return got;
    const mux = got;
    if (!mux.hasSegment) {
      // players need one complete segment to start; the muxer completes the first keyframe as one at once
      const ok = (await mux.waitUntil(() => mux.hasSegment, settings.startWaitMs, gone)) === 'ok';
      if (!ok) {
        if (gone.aborted) return reply;
        return fail(reply.header('retry-after', '2'), 503, `camera not streaming yet (${session.state}${session.reason ? `: ${session.reason}` : ''})`);
      }
    }
    // a camera that went down keeps its last segments in memory: once they are stale (nothing new for two target
    // durations), answer with its state, not 200 with stale video
    // (the tile shows the state; the player asks again and plays on once the camera is live)
    const newest = mux.lastPart?.availableAt ?? 0;
    if (DOWN_STATES.has(session.state) && Date.now() - newest > Math.max(2000, 2 * mux.targetDuration * 1000)) {
      return fail(reply.header('retry-after', '2').header('x-camera-state', session.state), 503,
        `camera ${session.state}${session.reason ? `: ${session.reason}` : ''} / 摄像机${DOWN_ZH[session.state] ?? '不可用'}`);
    }
    const q = request.query;
    const msnRaw = q._HLS_msn;
    const partRaw = q._HLS_part;
    if (partRaw !== undefined && msnRaw === undefined) return fail(reply, 400, '_HLS_part needs _HLS_msn');
    if (msnRaw !== undefined) {
      if (!/^\d{1,15}$/.test(msnRaw) || (partRaw !== undefined && !/^\d{1,6}$/.test(partRaw))) return fail(reply, 400, 'bad _HLS_msn/_HLS_part');
      const msn = Number(msnRaw);
      const part = partRaw === undefined ? undefined : Number(partRaw);
      const range = mux.range;
      if (range && msn > range.last + 2) return fail(reply, 400, '_HLS_msn is too far in the future');
      const timeout = Math.min(20_000, 3 * mux.targetDuration * 1000);
      const r = await mux.waitFor(msn, part, timeout, gone);
      if (gone.aborted) return reply;
      if (r === 'closed') return fail(reply.header('retry-after', '2'), 503, 'the stream stopped');
      // on timeout the current playlist is returned; the client asks again
      if (!(await maySee(auth.userId, id))) return fail(reply, 403, 'you may not see this camera');
    }
    const skip = q._HLS_skip === 'YES' || q._HLS_skip === 'v2';
    return reply
      .header('content-type', 'application/vnd.apple.mpegurl')
      .header('cache-control', 'no-cache')
      .send(mux.playlist({ skip }));
  };

  app.get<{ Params: LiveParams; Querystring: Record<string, string> }>('/live/:id/:stream/:token/index.m3u8', {
    config: { public: true },
    schema: { hide: true, params: liveParams },
  }, (request, reply) => servePlaylist(request, reply, (s) => s.muxer));

  // the keyframe-only rendition (1 frame per GOP) for small wall tiles: same signature, same checks
  app.get<{ Params: LiveParams; Querystring: Record<string, string> }>('/live/:id/:stream/:token/keyframes.m3u8', {
    config: { public: true },
    schema: { hide: true, params: liveParams },
  }, (request, reply) => servePlaylist(request, reply, (s) => s.keyframes()));

  // the H.264 transcode for a browser that cannot play the stream's codec (H.265): same signature, same checks, the
  // node's transcode budget; a stream that is H.264 already is not transcoded
  app.get<{ Params: LiveParams; Querystring: Record<string, string> }>('/live/:id/:stream/:token/transcode.m3u8', {
    config: { public: true },
    schema: { hide: true, params: liveParams },
  }, (request, reply) => servePlaylist(request, reply, async (s) => {
    const gone = clientGone(reply);
    // the source's codec and GOP are known once its first keyframe is in
    if ((await s.muxer.waitUntil(() => !!s.muxer.trackInfo, settings.startWaitMs, gone)) !== 'ok') {
      if (gone.aborted) return reply;
      return fail(reply.header('retry-after', '2'), 503, `camera not streaming yet (${s.state}${s.reason ? `: ${s.reason}` : ''})`);
    }
    if (/^avc[13]\./.test(s.muxer.trackInfo?.codec ?? '')) {
      return reply.code(409).header('cache-control', 'no-store').send({ statusCode: 409, error: 'Conflict', reason: 'already_h264', zh: '该码流已是 H.264，无需转码', en: 'this stream is H.264 already: play it directly', message: '该码流已是 H.264，无需转码 / this stream is H.264 already: play it directly' });
    }
    try {
      return ingest.transcoder.rendition(s);
    } catch (e) {
      if (!(e instanceof TranscodeBudgetError)) throw e;
      return reply.code(503).header('retry-after', '30').header('cache-control', 'no-store')
        .send({ statusCode: 503, error: 'Service Unavailable', reason: e.reason, limit: e.limit, zh: e.zh, en: e.en, message: e.message });
    }
  }));

  app.get<{ Params: LiveParams }>('/live/:id/:stream/:token/master.m3u8', {
    config: { public: true },
    schema: { hide: true, params: liveParams },
  }, async (request, reply) => {
    const auth = authorize(request, reply);
    if (!auth) return reply;
    if (!(await maySee(auth.userId, request.params.id))) return fail(reply, 403, 'you may not see this camera');
    if (await elsewhere(request, reply)) return reply;
    const session = mediaSession(request, auth.userId, reply);
    if (!session) return reply;
    const mux = session.muxer;
    // the codec is known once the first init segment is in (the first keyframe)
    const gone = clientGone(reply);
    if ((await mux.waitUntil(() => !!mux.trackInfo, settings.startWaitMs, gone)) !== 'ok') {
      if (gone.aborted) return reply;
      return fail(reply.header('retry-after', '2'), 503, `camera not streaming yet (${session.state}${session.reason ? `: ${session.reason}` : ''})`);
    }
    const t = mux.trackInfo!;
    const kbps = session.stats.bitrateKbps;
    const attrs = [`BANDWIDTH=${Math.max(64_000, Math.round((kbps ?? 2000) * 1000 * 1.2))}`];
    if (t.codec && /^(avc1|avc3|hvc1|hev1)\.[0-9A-Za-z.]+$/.test(t.codec)) attrs.push(`CODECS="${t.codec}"`);
    if (t.width && t.height) attrs.push(`RESOLUTION=${t.width}x${t.height}`);
    return reply
      .header('content-type', 'application/vnd.apple.mpegurl')
      .header('cache-control', 'no-cache')
      .send(`#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:${attrs.join(',')}\nindex.m3u8\n`);
  });

  app.get<{ Params: LiveParams }>('/live/:id/:stream/:token/:file', {
    config: { public: true },
    schema: { hide: true, params: { ...liveParams, required: ['id', 'stream', 'token', 'file'] } },
  }, async (request, reply) => {
    const auth = authorize(request, reply);
    if (!auth) return reply;
    const file = request.params.file!;
    if (!(await maySee(auth.userId, request.params.id))) return fail(reply, 403, 'you may not see this camera');
    if (await elsewhere(request, reply)) return reply;
    const session = manager.get(request.params.id, request.params.stream as StreamKind);
    if (!session) return fail(reply, 404, 'stream not running');
    mediaSession(request, auth.userId, reply);
    const keyframes = file.startsWith(KEYFRAME_PREFIX);
    const transcoded = file.startsWith(TRANSCODE_PREFIX);
    let mux = keyframes ? session.keyframes() : session.muxer;
    if (transcoded) {
      const t = ingest.transcoder.get(session);
      if (!t) return fail(reply, 404, 'no transcode running for this stream (ask for transcode.m3u8)');
      t.lastUsed = Date.now();
      mux = t.muxer;
    }
    const name = keyframes ? file.slice(KEYFRAME_PREFIX.length) : transcoded ? file.slice(TRANSCODE_PREFIX.length) : file;
    let body: Buffer | Buffer[] | undefined;
    let m: RegExpExecArray | null;
    if ((m = /^init(\d{1,6})\.mp4$/.exec(name))) body = mux.getInit(Number(m[1]));
    else if ((m = /^part(\d{1,15})\.m4s$/.exec(name))) {
      // a preload-hinted part blocks until it is written (RFC 8216bis), whichever segment it falls into
      const seq = Number(m[1]);
      const part = mux.getPartBySeq(seq) ?? (await mux.waitForPart(seq, Math.min(20_000, 3 * mux.targetDuration * 1000), clientGone(reply)));
      body = part?.data;
    } else if ((m = /^seg(\d{1,15})\.m4s$/.exec(name))) body = mux.getSegment(Number(m[1]))?.parts.map((p) => p.data);
    else return fail(reply, 404, 'no such file');
    if (reply.sent || reply.raw.destroyed) return reply;
    // a blocked part request may have waited seconds: access could have gone meanwhile
    if (!(await maySee(auth.userId, request.params.id))) return fail(reply, 403, 'you may not see this camera');
    if (!body) return fail(reply, 404, 'not available (outside the live window)');
    const data = Array.isArray(body) ? Buffer.concat(body) : body;
    return reply
      .header('content-type', file.endsWith('.mp4') ? 'video/mp4' : 'video/iso.segment')
      .header('cache-control', 'private, max-age=60')
      .send(data);
  });
}
