/**
 * StreetEye as a lower platform (级联): the node registers to the city's upper platform and offers it the cameras
 * the police share (sharing = 'shared', a 20-digit national ID: the channel ID the upper sees). Restricted cameras
 * are never in the catalog and an INVITE for one is refused (404), checked again at every INVITE. The media is the
 * session the node pulls anyway (one pull however many watch, upper included): the session's fMP4 back to access
 * units (gb28181/fmp4-units.ts) → PS (muxPsFrame) → RTP to the upper (gb28181/cascade-client.ts).
 *
 * Config (all GB28181_UPPER_*; cascading is off without GB28181_UPPER_ID), validated strictly at start:
 *   GB28181_UPPER_ID (20 digits), GB28181_UPPER_HOST (IPv4), GB28181_UPPER_PORT (1–65535, default 5060),
 *   GB28181_UPPER_PASSWORD (6–64), GB28181_UPPER_TRANSPORT (udp|tcp), GB28181_UPPER_REALM (10–20 digits, default the
 *   ID's first 10), GB28181_UPPER_LOCAL_ID (20 digits, default GB28181_SERVER_ID; never the upper's own),
 *   GB28181_UPPER_LOCAL_PORT (our SIP port toward the upper, 0 = ephemeral), GB28181_UPPER_EXPIRES_S (60–86400, 3600), GB28181_UPPER_KEEPALIVE_S (5–3600, 60), GB28181_UPPER_STREAM (main|sub, main).
 */
import { isIPv4 } from 'node:net';
import type { AppContext } from '../context.js';
import { ConfigError, envNumber } from '../config.js';
import type { SessionManager } from '../../ingest/session-manager.js';
import type { Part } from '../../ingest/llhls-muxer.js';
import { GbCascadeClient, type CascadeChannel, type CascadeMedia } from '../../gb28181/cascade-client.js';
import { fragmentUnits, readTrackConfig, type TrackConfig } from '../../gb28181/fmp4-units.js';
import type { AccessUnit } from '../../gb28181/ps.js';

export interface CascadeSettings {
  upperId: string;
  upperRealm: string;
  upperHost: string;
  upperPort: number;
  upperPassword: string;
  upperTransport: 'udp' | 'tcp';
  localId: string;
  /** our SIP port toward the upper (0: an ephemeral one, named in Contact) */
  localPort: number;
  expiresS: number;
  keepaliveS: number;
  stream: 'main' | 'sub';
}

/** null when cascading is not configured (no GB28181_UPPER_ID); throws ConfigError on any bad value. */
export function cascadeSettingsFromEnv(env: NodeJS.ProcessEnv, serverId: string): CascadeSettings | null {
  const upperId = env.GB28181_UPPER_ID?.trim();
  if (!upperId) return null;
  if (!/^\d{20}$/.test(upperId)) throw new ConfigError(`GB28181_UPPER_ID must be 20 digits, got "${upperId.slice(0, 30)}"`);
  const upperHost = env.GB28181_UPPER_HOST?.trim() ?? '';
  if (!isIPv4(upperHost)) throw new ConfigError('GB28181_UPPER_HOST must be the upper platform\'s IPv4 address');
  const upperPassword = env.GB28181_UPPER_PASSWORD ?? '';
  if (upperPassword.length < 6 || upperPassword.length > 64) throw new ConfigError('GB28181_UPPER_PASSWORD must be 6 to 64 characters');
  const transport = (env.GB28181_UPPER_TRANSPORT?.trim() || 'udp').toLowerCase();
  if (transport !== 'udp' && transport !== 'tcp') throw new ConfigError('GB28181_UPPER_TRANSPORT must be udp or tcp');
  const upperRealm = env.GB28181_UPPER_REALM?.trim() || upperId.slice(0, 10);
  if (!/^\d{10,20}$/.test(upperRealm)) throw new ConfigError('GB28181_UPPER_REALM must be 10 to 20 digits');
  const localId = env.GB28181_UPPER_LOCAL_ID?.trim() || serverId;
  if (!/^\d{20}$/.test(localId)) throw new ConfigError('GB28181_UPPER_LOCAL_ID must be 20 digits');
  if (localId === upperId) throw new ConfigError('GB28181_UPPER_LOCAL_ID must differ from GB28181_UPPER_ID');
  const stream = (env.GB28181_UPPER_STREAM?.trim() || 'main') as 'main' | 'sub';
  if (stream !== 'main' && stream !== 'sub') throw new ConfigError('GB28181_UPPER_STREAM must be main or sub');
  return {
    upperId, upperRealm, upperHost, upperPassword, localId, stream, upperTransport: transport,
    upperPort: envNumber(env, 'GB28181_UPPER_PORT', 5060, 1, 65535),
    localPort: envNumber(env, 'GB28181_UPPER_LOCAL_PORT', 0, 0, 65535),
    expiresS: envNumber(env, 'GB28181_UPPER_EXPIRES_S', 3600, 60, 86400),
    keepaliveS: envNumber(env, 'GB28181_UPPER_KEEPALIVE_S', 60, 5, 3600),
  };
}

/** channels offered at most (the upper's catalog query is answered from this list) */
const MAX_CHANNELS = 10_000;

/** The shared cameras, as the upper's channels. */
export async function sharedChannels(db: AppContext['db']): Promise<Array<CascadeChannel & { cameraId: string }>> {
  const rows = (await db.query<{ id: string; national_id: string; name: string; address: string | null; lat: number | null; lng: number | null; status: string | null; district: string | null }>(
    `SELECT id, national_id, name, address, lat, lng, status, district FROM cameras
      WHERE sharing = 'shared' AND national_id ~ '^[0-9]{20}$' ORDER BY national_id LIMIT ${MAX_CHANNELS}`)).rows;
  return rows.map((r) => ({
    cameraId: r.id, id: r.national_id, name: r.name, address: r.address, lat: r.lat === null ? null : Number(r.lat), lng: r.lng === null ? null : Number(r.lng),
    civilCode: r.national_id.slice(0, 6), online: r.status !== 'offline', ptzType: 3,
  }));
}

/** A session's LL-HLS parts as access units, from the next keyframe on; a new init (another size) is followed. */
export function sessionMedia(manager: SessionManager, cameraId: string, stream: 'main' | 'sub', consumer: string): CascadeMedia {
  const lease = manager.acquire(cameraId, stream, consumer);
  const muxer = lease.session.muxer;
  let cb: ((au: AccessUnit) => void) | undefined;
  let cfg: TrackConfig | undefined;
  let initId = -1;
  const onPart = (p: Part) => {
    if (!cb) return;
    if (muxer.currentInitId !== initId) {
      const init = muxer.getInit(muxer.currentInitId);
      cfg = init ? readTrackConfig(init) : undefined;
      initId = muxer.currentInitId;
    }
    if (!cfg) return;
    for (const au of fragmentUnits(p.data, cfg)) cb(au);
  };
  muxer.on('part', onPart);
  return {
    onUnit: (f) => { cb = f; },
    close: () => { muxer.off('part', onPart); lease.release(); },
  };
}

export class GbCascade {
  readonly client: GbCascadeClient;
  private seq = 0;

  constructor(ctx: AppContext, readonly settings: CascadeSettings, o: { manager: SessionManager; advertiseHost: string; bindHost: string; name?: string }) {
    const log = ctx.logger.child({ module: 'gb28181.cascade' });
    const s = settings;
    this.client = new GbCascadeClient({
      localId: s.localId,
      upper: { id: s.upperId, realm: s.upperRealm, host: s.upperHost, port: s.upperPort, transport: s.upperTransport, password: s.upperPassword },
      advertiseHost: o.advertiseHost,
      bindHost: o.bindHost,
      bindPort: s.localPort,
      expiresS: s.expiresS,
      keepaliveS: s.keepaliveS,
      name: o.name ?? 'StreetEye',
      log,
      catalog: () => sharedChannels(ctx.db),
      openMedia: async (channelId) => {
        // sharing is checked again now: a camera the police restricted since the catalog answer is not sent
        const cam = (await ctx.db.query<{ id: string }>(`SELECT id FROM cameras WHERE national_id = $1 AND sharing = 'shared'`, [channelId])).rows[0];
        if (!cam) return undefined;
        try {
          return sessionMedia(o.manager, cam.id, s.stream, `gb-cascade:${++this.seq}`);
        } catch (err) {
          log.warn({ channel: channelId, err: (err as Error).message }, 'GB28181 cascade: no session for the upper\'s INVITE');
          return undefined;
        }
      },
    });
  }

  start(): Promise<void> {
    return this.client.start();
  }

  stop(): Promise<void> {
    return this.client.stop();
  }

  status(): { upperId: string; registered: boolean; lastError: string | null; streams: number; counters: Record<string, number> } {
    return { upperId: this.settings.upperId, registered: this.client.registered, lastError: this.client.lastError, streams: this.client.streamCount, counters: this.client.counters };
  }
}
