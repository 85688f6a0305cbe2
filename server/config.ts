import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

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
}

export class ConfigError extends Error {}

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
  return {
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
  };
}
