/**
 * Ingest inside the node (the adapter between ingest/, which knows nothing of the server, and the server's
 * inventory, cluster, bus and access log):
 *   createIngest(ctx, cameras) → the node's IngestService, camera sources and credentials from the inventory,
 *     fencing by the cluster's leases, camera.state on the bus, camera.changed → running sessions reconnect or stop;
 *   liveRoutes(app, { ...ctx, cameras, ingest }) → the live/snapshot routes over that service.
 * node.ts creates one per node; both HTTP listeners register the routes over the same service.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import type { BusMessage } from '../bus.js';
import type { CameraRepo } from '../inventory/camera-repo.js';
import { ALL_ROLES, seesRestrictedCameras, type Role } from '../auth/roles.js';
import { deriveKey } from '../secrets.js';
import { audit } from '../audit.js';
import { endLiveViews, recordCameraAccess } from '../sharing/access-log.js';
import { IngestService, ingestSettingsFromEnv } from '../../ingest/service.js';
import { liveRoutes as ingestLiveRoutes, type LiveCamera } from '../../ingest/live-routes.js';
import { LiveAccessCache } from '../../ingest/live-access.js';
import { validateRtspUrl, type RtspSource } from '../../ingest/rtsp-url.js';
import { pinCameraUrl } from '../camera-network/connect.js';
import { SnapshotUriCache } from '../../ingest/onvif-snapshot.js';
import type { StreamKind } from '../../ingest/camera-session.js';
import type { CameraStateEvent } from '../../ingest/session-manager.js';
import type { GbService } from '../gb28181/service.js';

/** The node's ingest subsystem (node.ts entry 'ingest'): `service` is what routes, analytics and the cluster use. */
export interface NodeIngest {
  readonly name: 'ingest';
  readonly service: IngestService;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Wires ingest to the inventory, the cluster and the bus. Nothing is pulled until start(); stop() ends every session. */
/** What ingest needs of the GB/T 28181 subsystem: which cameras are GB channels, and their pushed source. */
export type GbChannels = Pick<GbService, 'repo' | 'pipeSource'>;

export function createIngest(ctx: AppContext, cameras: CameraRepo, gb?: GbChannels): NodeIngest {
  const log = ctx.logger.child({ module: 'ingest' });
  // camera health (status, history) is written by the fleet HealthRecorder from these bus messages
  const onState = (ev: CameraStateEvent): void => ctx.bus.publish('camera.state', ev, ev.cameraId);
  const fingerprints = new Map<string, string>();
  const resolveSource = async (cameraId: string, stream: StreamKind) => {
      // fencing: a node never pulls a camera it does not lease (checked at every (re)connect)
      if (ctx.cluster && !ctx.cluster.streams(cameraId)) throw new Error('camera is not leased by this node (fencing)');
      const cam = await cameras.getById(ctx.db, cameraId);
      if (!cam) throw new Error('camera no longer exists');
      // a GB/T 28181 channel: INVITEd by the SIP server, pushed into ffmpeg (one INVITE per channel, whatever the stream)
      if (!cam.rtspMain && !cam.rtspSub && gb) {
        const ch = await gb.repo.channelOfCamera(ctx.db, cameraId);
        if (ch) return gb.pipeSource(ch.deviceId, ch.channelId);
      }
      // a camera without a sub stream serves its main stream to tiles as well
      const url = (stream === 'sub' ? cam.rtspSub ?? cam.rtspMain : cam.rtspMain ?? cam.rtspSub) ?? null;
      if (!url) throw new Error(`camera has no ${stream} stream URL`);
      const creds = await cameras.credentials(ctx.db, cameraId);
      const src: RtspSource = { ...validateRtspUrl(url, { username: creds.username ?? undefined, password: creds.password ?? undefined }), engine: cam.mediaEngine };
      fingerprints.set(`${cameraId}/${stream}`, createHash('sha256').update(JSON.stringify(src)).digest('hex'));
      // CAMERA_NETWORKS: resolved and checked here, and ffmpeg is given the checked address (it cannot resolve elsewhere)
      return { ...src, url: await pinCameraUrl(src.url, src.url.startsWith('rtsps:') ? 322 : 554) };
  };
  const cluster = ctx.cluster;
  const admit = cluster ? (cameraId: string) => cluster.streams(cameraId) : undefined;
  const service = new IngestService({ logger: ctx.logger, settings: { ...ingestSettingsFromEnv(), transcodeMaxSessions: ctx.config.transcodeMaxSessions }, resolveSource, onState, admit });
  if (cluster) cluster.sessions = () => service.manager.list().map((e) => ({ cameraId: e.cameraId, stream: e.stream, state: e.state }));
  // HLS has no "disconnect": a live view ends when the user's last playlist/part request is viewerTtl old.
  service.manager.on('viewer.left', (v: { cameraId: string; viewer: string; lastSeen: Date }) => {
    if (!v.viewer.startsWith('u:')) return;
    endLiveViews(ctx.db, { cameraId: v.cameraId, userId: v.viewer.slice(2), endedAt: v.lastSeen })
      .catch((err) => log.warn({ err, camera: v.cameraId }, 'could not close the live view in the access log'));
  });
  // cluster (role ingest): a lost lease stops the camera's sessions at once, whoever watches; always-on nodes keep
  // every leased camera's sub stream up without viewers
  const leases = ctx.cluster?.ingest;
  if (leases) {
    // balancing hands back cameras nobody watches first, and only once their sessions have stopped
    const watched = (id: string) => service.manager.list().some((e) => e.cameraId === id && e.consumers.some((c) => c.startsWith('u:')));
    leases.releaseOrder = (ids) => [...ids.filter((id) => !watched(id)), ...ids.filter(watched)];
    leases.stopCamera = (id) => service.manager.whenStopped(id);
    leases.on('lost', (id: string, reason: string) => {
      if (!service.manager.get(id, 'main') && !service.manager.get(id, 'sub')) return;
      log.warn({ camera: id, reason }, 'camera lease lost: stopping its sessions');
      void service.manager.removeCamera(id);
    });
    if (ctx.config.ingestAlwaysOn) {
      const pin = (id: string) => { try { service.manager.pin(id, 'sub'); } catch (err) { log.warn({ camera: id, err: (err as Error).message }, 'cannot keep leased camera on'); } };
      leases.on('acquired', pin);
      for (const id of leases.cameras()) pin(id);
    }
  }
  // camera edits, imports and deletions (here or on another node, via the bus bridge) reach running sessions
  const onCameraChange = ({ payload: change }: BusMessage<'camera.changed'>): void => {
    for (const id of change.ids) {
      if (change.kind === 'deleted') {
        void service.manager.removeCamera(id);
        continue;
      }
      // reconnect only when the stream URL or the credentials really changed (a renamed camera keeps playing)
      for (const stream of ['main', 'sub'] as const) {
        const key = `${id}/${stream}`;
        const session = service.manager.get(id, stream);
        const before = fingerprints.get(key);
        if (!session || !before) continue;
        resolveSource(id, stream).then(
          () => {
            if (fingerprints.get(key) !== before) void session.restart('camera settings changed');
          },
          () => void service.manager.removeCamera(id),
        );
      }
    }
  };
  let unsubscribe: (() => void) | undefined;
  let selfCheck: Promise<void> = Promise.resolve();
  return {
    name: 'ingest',
    service,
    async start() {
      unsubscribe = ctx.bus.subscribe('camera.changed', onCameraChange);
      // the ffmpeg self-check runs in the background: a failure leaves the node up (the API works, live video says why not)
      selfCheck = service.start().catch((err) => log.error({ err }, 'ffmpeg self-check failed: live video will not work'));
    },
    async stop() {
      unsubscribe?.();
      await selfCheck;
      await service.stop();
    },
  };
}

/** GET /api/cameras/:id/live, /snapshot and the signed /live/… media, over the node's ingest. */
export async function liveRoutes(app: FastifyInstance, ctx: AppContext & { cameras: CameraRepo; ingest: IngestService; gb?: GbChannels }): Promise<void> {
  const { ingest } = ctx;
  const toLive = (c: { id: string; rtspMain: string | null; rtspSub: string | null }): LiveCamera => ({
    id: c.id,
    streams: [...(c.rtspSub ? (['sub'] as const) : []), ...(c.rtspMain ? (['main'] as const) : [])],
  });
  const snapshotUris = new SnapshotUriCache();
  const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
  // every playlist and media request re-checks access; revocations on the bus (any node) drop the cached answers
  const access = new LiveAccessCache(async (userId, cameraId) => {
    if (!isUuid(userId) || !isUuid(cameraId)) return false;
    const res = await ctx.db.query<{ role: Role; disabled: boolean; sharing: string }>(
      `SELECT u.role, u.disabled, c.sharing FROM users u, cameras c WHERE u.id = $1 AND c.id = $2`, [userId, cameraId]);
    const row = res.rows[0];
    if (!row || row.disabled) return false;
    return row.sharing === 'shared' || seesRestrictedCameras(row.role);
  });
  const unsubscribe = ctx.bus.subscribe((msg) => access.onMessage(msg));
  app.addHook('onClose', async () => unsubscribe());
  await app.register(ingestLiveRoutes, {
    ingest,
    roles: ALL_ROLES,
    urlKey: deriveKey(ctx.secretKey, 'live-url'),
    cluster: ctx.cluster,
    getVisibleCamera: async (user: { id: string; role: Role }, id: string) => {
      if (!isUuid(id)) return null;
      const cam = await ctx.cameras.getVisible(ctx.db, user, id);
      if (cam && !cam.rtspMain && !cam.rtspSub && ctx.gb && (await ctx.gb.repo.channelOfCamera(ctx.db, id))) return { id, streams: ['sub'] };
      return cam ? toLive(cam) : null;
    },
    userMaySee: (userId: string, cameraId: string) => access.maySee(userId, cameraId),
    snapshotSource: async (cameraId: string) => {
      const cam = await ctx.cameras.getById(ctx.db, cameraId);
      if (!cam?.onvifUrl) return null;
      const creds = await ctx.cameras.credentials(ctx.db, cameraId);
      try {
        const uri = await snapshotUris.get(cameraId, { onvifUrl: cam.onvifUrl, ...creds });
        return { uri, ...creds };
      } catch (err) {
        app.log.warn({ module: 'ingest', camera: cameraId, err: (err as Error).message }, 'ONVIF snapshot URI unavailable');
        return null;
      }
    },
    audit: async (e) => {
      await audit(ctx.db, { user: e.user, action: e.action, targetType: 'camera', targetId: e.cameraId, detail: e.detail, ip: e.ip });
      // who watched which camera when (GET /api/cameras/:id/viewers); a live view stays open-ended (endCameraAccess closes it)
      const kind = e.action === 'live.view' ? 'live' : e.action === 'snapshot.view' ? 'snapshot' : null;
      if (kind) await recordCameraAccess(ctx.db, { user: e.user, cameraId: e.cameraId, kind, startedAt: new Date(), endedAt: kind === 'snapshot' ? new Date() : null, ip: e.ip });
    },
  });
}
