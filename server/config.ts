import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCameraNetworks, type Cidr } from './camera-network/policy.js';
import { DEFAULT_LEASE_TTL_S } from './cluster/lease-timing.js';

export interface Config {
  port: number;
  host: string;
  /** HTTPS + HTTP/2 listener for large video walls (0 = off). */
  tlsPort: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  dataDir: string;
  databaseUrl?: string;
  secret?: string;
  adminPassword?: string;
  simCameras: number;
  simSource?: string;
  /** Fixed ports for the demo fleet: the inventory keeps their URLs across restarts. */
  simRtspPort: number;
  simHttpPort: number;
  sessionTtlHours: number;
  logLevel: string;
  role: 'all' | 'api' | 'ingest' | 'analytics';
  /** Outbound hand-off of filed cases to the city platform (HMAC-signed with cityWebhookSecret). */
  cityWebhookUrl?: string;
  cityWebhookSecret?: string;
  /** Map tile URL template for the wall's map view ({z}/{x}/{y}); unset = offline map (districts, grids, camera points). */
  mapTileUrl?: string;
  /** Default live budget of the video wall: tiles beyond it show snapshots (a console setting may lower or raise it). */
  wallLiveBudget: number;
  /** Base URL other nodes and browsers use to reach this node (STREETEYE_NODE_ADDRESS; default http://<hostname>:<PORT>). */
  nodeAddress?: string;
  /** Cameras an ingest/analytics node claims at most (INGEST_CAPACITY, else INGEST_MAX_SESSIONS, else 200 / ANALYTICS_CAPACITY 50). */
  ingestCapacity: number;
  analyticsCapacity: number;
  /** Camera lease lifetime (LEASE_TTL_S): a dead node's cameras move after this. */
  leaseTtlMs: number;
  /** Keep every leased camera's sub stream on without viewers (INGEST_ALWAYS_ON=1; ingest nodes). */
  ingestAlwaysOn: boolean;
  /** H.264 transcodes (for browsers that cannot play H.265) a node runs at once (TRANSCODE_MAX_SESSIONS, default 4; 0: none). */
  transcodeMaxSessions: number;
  /** Subscribe to the cameras' own ONVIF alarms (tamper, video loss, motion) where cameras are pulled (CAMERA_ALARMS, default on). */
  cameraAlarms: boolean;
  /** Address ranges cameras may be reached at (CAMERA_NETWORKS; default the private IPv4 ranges). */
  cameraNetworks: Cidr[];
}

export { ConfigError, envNumber } from '../lib/env.js';
import { ConfigError, envNumber } from '../lib/env.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Reads and validates configuration from the environment; throws ConfigError with a message a person can act on. */
/** Command-line flags override the environment: `npm start -- --role ingest` = STREETEYE_ROLE=ingest. */
export function envWithArgs(env: NodeJS.ProcessEnv, argv: string[]): NodeJS.ProcessEnv {
  const out = { ...env };
  const flags: Record<string, string> = { '--role': 'STREETEYE_ROLE', '--port': 'PORT', '--data-dir': 'DATA_DIR' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const name = flags[flag];
    if (!name) throw new ConfigError(`unknown option ${flag}; known: ${Object.keys(flags).join(', ')}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    out[name] = value;
  }
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql:// (leave it unset for the embedded database)');
  }
  const secret = env.STREETEYE_SECRET || undefined;
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError('STREETEYE_SECRET must be at least 32 characters (or unset it to use a generated key file in DATA_DIR)');
  }
  const adminPassword = env.STREETEYE_ADMIN_PASSWORD || undefined;
  if (adminPassword !== undefined && adminPassword.length < 8) {
    throw new ConfigError('STREETEYE_ADMIN_PASSWORD must be at least 8 characters');
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const role = (env.STREETEYE_ROLE || 'all') as Config['role'];
  if (!['all', 'api', 'ingest', 'analytics'].includes(role)) throw new ConfigError(`STREETEYE_ROLE (--role) must be all, api, ingest or analytics, got "${role}"`);
  const tlsCertFile = env.TLS_CERT_FILE || undefined;
  const tlsKeyFile = env.TLS_KEY_FILE || undefined;
  if (Boolean(tlsCertFile) !== Boolean(tlsKeyFile)) throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  const simSource = env.STREETEYE_SIM_SOURCE || undefined;
  if (simSource && !existsSync(simSource)) throw new ConfigError(`STREETEYE_SIM_SOURCE: no such file: ${simSource}`);
  const cityWebhookUrl = env.CITY_WEBHOOK_URL?.trim() || undefined;
  const cityWebhookSecret = env.CITY_WEBHOOK_SECRET || undefined;
  if (cityWebhookUrl) {
    let ok = false;
    try { ok = ['http:', 'https:'].includes(new URL(cityWebhookUrl).protocol); } catch { ok = false; }
    if (!ok) throw new ConfigError('CITY_WEBHOOK_URL must be an http:// or https:// URL');
    if (!cityWebhookSecret) throw new ConfigError('CITY_WEBHOOK_SECRET must be set with CITY_WEBHOOK_URL (the deliveries are HMAC-signed with it)');
  }
  if (cityWebhookSecret !== undefined && cityWebhookSecret.length < 16) throw new ConfigError('CITY_WEBHOOK_SECRET must be at least 16 characters');
  const mapTileUrl = env.MAP_TILE_URL?.trim() || undefined;
  if (mapTileUrl) {
    let ok = false;
    try { ok = ['http:', 'https:'].includes(new URL(mapTileUrl.replace(/\{[zxys]\}/g, '0')).protocol); } catch { ok = false; }
    if (!ok || !['{z}', '{x}', '{y}'].every((k) => mapTileUrl.includes(k))) {
      throw new ConfigError('MAP_TILE_URL must be an http(s) URL template with {z}, {x} and {y}, e.g. https://tiles.example.gov.cn/{z}/{x}/{y}.png');
    }
  }
  if (databaseUrl && role !== 'all' && !secret) {
    throw new ConfigError(`STREETEYE_SECRET must be set on every node of a cluster (role ${role} with DATABASE_URL): all nodes share it to read camera credentials and to sign and check live URLs`);
  }
  const nodeAddress = env.STREETEYE_NODE_ADDRESS?.trim().replace(/\/+$/, '') || undefined;
  if (nodeAddress) {
    let ok = false;
    try { const u = new URL(nodeAddress); ok = ['http:', 'https:'].includes(u.protocol) && u.pathname === '/' && !u.search && !u.username; } catch { ok = false; }
    if (!ok) throw new ConfigError('STREETEYE_NODE_ADDRESS must be a base URL such as http://ingest-1.example:8080 (no path, no credentials)');
  }
  const maxSessions = intVar(env, 'INGEST_MAX_SESSIONS', 200, 1, 10_000);
  let cameraNetworks: Cidr[];
  try {
    cameraNetworks = parseCameraNetworks(env.CAMERA_NETWORKS);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return {
    cameraNetworks,
    port: intVar(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '0.0.0.0',
    tlsPort: intVar(env, 'TLS_PORT', 8443, 0, 65535),
    tlsCertFile,
    tlsKeyFile,
    dataDir: resolve(env.DATA_DIR || './data'),
    databaseUrl,
    secret,
    adminPassword,
    simCameras: intVar(env, 'STREETEYE_SIM_CAMERAS', 8, 0, 1000),
    simSource: simSource ? resolve(simSource) : undefined,
    simRtspPort: intVar(env, 'STREETEYE_SIM_RTSP_PORT', 8554, 0, 65535),
    simHttpPort: intVar(env, 'STREETEYE_SIM_HTTP_PORT', 8580, 0, 65535),
    sessionTtlHours: intVar(env, 'SESSION_TTL_HOURS', 12, 1, 24 * 30),
    logLevel,
    role,
    cityWebhookUrl,
    cityWebhookSecret,
    mapTileUrl,
    wallLiveBudget: intVar(env, 'WALL_LIVE_BUDGET', 16, 1, 64),
    nodeAddress,
    // a camera takes one session per stream it plays: by default a node claims as many cameras as it may run sessions
    ingestCapacity: intVar(env, 'INGEST_CAPACITY', maxSessions, 0, 10_000),
    analyticsCapacity: intVar(env, 'ANALYTICS_CAPACITY', 50, 0, 10_000),
    // 3 s: takeover within 5 s, a ~2 s event-loop stall ridden out (reasoning: server/cluster/lease-timing.ts)
    leaseTtlMs: intVar(env, 'LEASE_TTL_S', DEFAULT_LEASE_TTL_S, 2, 600) * 1000,
    ingestAlwaysOn: ['1', 'true', 'yes', 'on'].includes((env.INGEST_ALWAYS_ON ?? '').toLowerCase()),
    // each costs about a core's share (a 720p libx264 veryfast encode): README "Live video"
    transcodeMaxSessions: intVar(env, 'TRANSCODE_MAX_SESSIONS', 4, 0, 256),
    cameraAlarms: !['0', 'false', 'no', 'off'].includes((env.CAMERA_ALARMS ?? '').toLowerCase()),
  };
}
