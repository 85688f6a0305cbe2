/**
 * What "online" means in StreetEye (在线率 = online cameras / all cameras the viewer may see).
 *
 * A camera's `cameras.status` is written from two sources:
 *  - ingest sessions (bus topic `camera.state`, via the HealthRecorder): live, reconnecting, offline,
 *    auth_failed, error. A camera with any live stream is `live`.
 *  - the HealthChecker, for cameras nobody is watching: every FLEET_CHECK_INTERVAL_S (default 300 s) it
 *    probes each camera at low rate (ONVIF GetSystemDateAndTime, or RTSP OPTIONS for cameras without ONVIF)
 *    and writes `reachable`, `offline` or `auth_failed`. When a watched camera's sessions all stop cleanly
 *    after being live, the camera becomes `reachable` too.
 *
 * Online = status `live` or `reachable`. A camera nobody watches is therefore not "offline": it is online
 * when its last probe got an answer. `unknown` (never seen, never probed) counts towards the total but not
 * as online, so new cameras show up as a gap until their first probe.
 */
export const SESSION_STATES = ['idle', 'connecting', 'live', 'reconnecting', 'offline', 'auth_failed', 'error'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const ONLINE_STATUSES = ['live', 'reachable'] as const;
/** The SQL condition "camera is online" on a cameras row aliased `alias`: the one definition of Fleet and KPI. */
export const onlineCondition = (alias: string): string => `${alias}.status IN (${ONLINE_STATUSES.map((s) => `'${s}'`).join(', ')})`;
/** Statuses that count as "down" for flapping; idle / connecting / unknown are neither up nor down. */
export const DOWN_STATUSES = ['offline', 'reconnecting', 'auth_failed', 'error'] as const;

export const STREAMS = ['main', 'sub'] as const;
export type Stream = (typeof STREAMS)[number];

export function isOnline(status: string): boolean {
  return (ONLINE_STATUSES as readonly string[]).includes(status);
}

/** Most telling first: a camera whose password was changed is more urgent than a camera that reconnects. */
const SEVERITY: SessionState[] = ['auth_failed', 'error', 'offline', 'reconnecting'];

/**
 * The camera-level status from the states of its streams (main, sub). null = nothing to say (all streams
 * idle or connecting): keep what is known.
 */
export function deriveCameraStatus(
  streams: Array<{ state: SessionState; reason: string | null }>,
  previous: string | null,
): { status: string; reason: string | null } | null {
  if (streams.some((s) => s.state === 'live')) return { status: 'live', reason: null };
  for (const sev of SEVERITY) {
    const s = streams.find((x) => x.state === sev);
    if (s) return { status: s.state, reason: s.reason };
  }
  if (streams.length && streams.every((s) => s.state === 'idle') && previous === 'live') {
    return { status: 'reachable', reason: 'stream stopped (no viewers); reachable when last watched' };
  }
  return null;
}
