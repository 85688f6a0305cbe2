/**
 * How often a node renews its camera leases, how early it fences itself, and how often it heartbeats, all derived
 * from the one setting LEASE_TTL_S. The reasoning, with the default TTL of 3 s:
 *
 *   takeover of a SIGKILLed node's cameras ≤ TTL (its rows expire; it renewed ≤ one interval before dying, so
 *   usually less) + one interval (the survivor's next claim) + the survivor's session start (RTSP connect and the
 *   first keyframe, ~1 s) → ≤ 3 + 0.5 + ~1 ≈ 4.5 s: the 5 s goal.
 *
 *   fencing: a lease counts as held until (the moment its renewal was sent + TTL − margin). The row's expiry in the
 *   database is now() + TTL, and the database's now() is no earlier than the send, so the node has stopped its pulls
 *   at least `margin` before anyone may claim them; the margin covers closing the pull (a socket; ffmpeg's TEARDOWN)
 *   and clock-rate differences (ppm). 500 ms at TTL 3 s.
 *
 *   stall tolerance: a node whose event loop is blocked cannot renew; it keeps its cameras through a stall of up to
 *   TTL − margin − interval − the renewal's round trip (≈ 2 s at the defaults, measured by `npm run bench:leases`),
 *   and fences itself (stops its pulls) beyond that, as it must: its rows may expire. Renewing more often than
 *   TTL/6 buys little tolerance and costs queries; renewing less often makes a takeover slower.
 *
 *   heartbeat (cluster_nodes): peers count a node as live (for balancing shares) while its heartbeat is younger than
 *   the TTL; one per second leaves two missed beats of slack at 3 s, and matches the leases' expiry so a dead node's
 *   share is freed when its rows expire.
 *
 * Monotonic clocks only (performance.now()): a wall-clock jump on a node changes none of this.
 */
export interface LeaseTiming {
  ttlMs: number;
  /** renew + claim period */
  intervalMs: number;
  /** how long before the database row's earliest expiry the node stops streaming */
  marginMs: number;
  /** cluster_nodes heartbeat period */
  heartbeatMs: number;
  /** the longest event-loop stall the node rides out without fencing (before the renewal's own round trip) */
  stallToleranceMs: number;
}

export const DEFAULT_LEASE_TTL_S = 3;

export function leaseTiming(ttlMs: number, intervalMs?: number): LeaseTiming {
  const interval = intervalMs ?? Math.round(Math.min(1000, Math.max(250, ttlMs / 6)));
  // (at most a third of the TTL: the short TTLs of unit tests keep a usable lease)
  const marginMs = Math.round(Math.min(2000, ttlMs / 3, Math.max(500, ttlMs / 6)));
  return {
    ttlMs,
    intervalMs: interval,
    marginMs,
    heartbeatMs: Math.round(Math.min(5000, Math.max(1000, ttlMs / 3))),
    stallToleranceMs: ttlMs - marginMs - interval,
  };
}
