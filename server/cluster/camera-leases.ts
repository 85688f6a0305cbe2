import { EventEmitter } from 'node:events';
import type { Db } from '../db/db.js';
import { DEFAULT_LEASE_TTL_S, leaseTiming } from './lease-timing.js';

export type LeaseKind = 'ingest' | 'analytics';

/** How long after a silent peer's stale moment (database clock) the early beat runs: clock-rate and scheduling slack. */
const PEER_STALE_SLACK_MS = 25;

export interface CameraLeasesOptions {
  db: Db;
  nodeId: string;
  kind: LeaseKind;
  /** How many cameras this node takes at most. */
  capacity: number;
  /** Lease lifetime in the database. */
  ttlMs?: number;
  /** Renew/claim period (default: lease-timing.ts); well under ttlMs so missed beats do not lose the lease. */
  intervalMs?: number;
  /** Only cameras this filter admits are claimed (e.g. analytics: cameras with enabled rules). SQL over alias c. */
  eligibleSql?: string;
  /**
   * Spread the cameras over the live nodes of this role in proportion to their capacities: a node claims up to its
   * share, and hands back what it holds beyond it (a few per beat, stopping their sessions before the row goes), so a
   * node that joins late gets work. Absent: claim up to capacity and never hand back (analytics nodes: moving a camera
   * would split the stays it is tracking into two candidates).
   */
  balance?: { role: string; maxMovesPerBeat?: number };
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

/**
 * Claims cameras for this node through lease rows (FOR UPDATE SKIP LOCKED, so nodes claiming at the
 * same time never take the same camera), renews them, and fences itself: a lease counts as held only
 * until (start of the last successful renewal + ttl − margin) by this process's own monotonic clock,
 * so a node cut off from the database stops streaming before anyone else may take its cameras over.
 *
 * Events: 'acquired' (cameraId, epoch), 'lost' (cameraId, reason).
 */
export class CameraLeases extends EventEmitter {
  private readonly held = new Map<string, number>();
  /** cameras being handed back: no longer held (never pulled again here), their rows kept until the sessions stopped */
  private readonly releasing = new Set<string>();
  /** handed-back cameras whose sessions have stopped: their rows go at the next beat */
  private readonly stopped = new Set<string>();
  /** Which held cameras to hand back first (the ingest plugin puts cameras nobody watches first). */
  releaseOrder: (cameraIds: string[]) => string[] = (ids) => ids;
  /** Stops this node's sessions of a camera; awaited before its lease row goes, so no camera is ever pulled twice. */
  stopCamera: (cameraId: string) => Promise<void> = async () => {};
  /** when (performance.now()) the first live peer of this role will have been silent for a TTL; set by share() */
  private nextPeerStaleAt?: number;
  private validUntil = 0;
  private timer?: NodeJS.Timeout;
  private fence?: NodeJS.Timeout;
  private running = false;
  private readonly ttlMs: number;
  private readonly intervalMs: number;
  private readonly marginMs: number;

  constructor(private readonly o: CameraLeasesOptions) {
    super();
    const timing = leaseTiming(o.ttlMs ?? DEFAULT_LEASE_TTL_S * 1000, o.intervalMs);
    this.ttlMs = timing.ttlMs;
    this.intervalMs = timing.intervalMs;
    this.marginMs = timing.marginMs;
  }

  /** True while this node may work on the camera (fencing check before every (re)connect). */
  holds(cameraId: string): boolean {
    return this.held.has(cameraId) && performance.now() < this.validUntil;
  }

  cameras(): string[] {
    return [...this.held.keys()];
  }

  async start(): Promise<void> {
    this.running = true;
    await this.beat();
  }

  async stop(release = true): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearTimeout(this.fence);
    const ids = [...this.held.keys(), ...this.releasing];
    for (const id of ids) this.lose(id, 'node stopping');
    this.releasing.clear();
    this.stopped.clear();
    if (release && ids.length) {
      // A clean stop hands the cameras over at once instead of after expiry.
      await this.o.db.query('DELETE FROM camera_leases WHERE node_id = $1 AND kind = $2', [this.o.nodeId, this.o.kind]).catch(() => {});
    }
  }

  /**
   * The next beat: one interval on, or sooner, just after the moment a silent peer stops counting (its heartbeat older
   * than the TTL, on the database's clock). Every renewal is also a heartbeat, so by then every lease of that peer has
   * expired too (expires_at = its last renewal + TTL ≤ its last heartbeat + TTL): a survivor claims a dead node's
   * cameras at their expiry, not up to one interval after it. A live peer renews every interval, so its stale moment
   * stays more than an interval ahead and the schedule is the plain one.
   */
  private schedule(): void {
    if (!this.running) return;
    const stale = this.nextPeerStaleAt === undefined ? undefined : this.nextPeerStaleAt - performance.now() + PEER_STALE_SLACK_MS;
    this.nextPeerStaleAt = undefined;
    // (only a node with room can take a dead peer's cameras)
    const room = this.held.size + this.releasing.size < this.o.capacity;
    const wait = room && stale !== undefined && stale < this.intervalMs ? Math.max(PEER_STALE_SLACK_MS, stale) : this.intervalMs;
    this.timer = setTimeout(() => void this.beat(), wait);
    this.timer.unref();
  }

  private lose(cameraId: string, reason: string): void {
    if (this.held.delete(cameraId)) this.emit('lost', cameraId, reason);
  }

  /**
   * This node's fair part of the cameras in its scope: total × capacity / capacity of the live nodes of its role
   * (itself included), never above its capacity. The shares add up to at least the total while the nodes have room.
   */
  private async share(ttl: string): Promise<number> {
    const r = (await this.o.db.query<{ total: number; peers: number; next_stale_ms: number | null }>(
      `SELECT (SELECT count(*)::int FROM cameras c WHERE ${this.o.eligibleSql ?? 'TRUE'}) AS total,
              coalesce(sum(n.capacity), 0)::int AS peers,
              (extract(epoch FROM min(n.heartbeat_at) + $3::interval - now()) * 1000)::float8 AS next_stale_ms
         FROM cluster_nodes n
        WHERE n.role = $1 AND n.id <> $2 AND n.stopped_at IS NULL AND n.heartbeat_at > now() - $3::interval`,
      [this.o.balance!.role, this.o.nodeId, ttl])).rows[0];
    this.nextPeerStaleAt = r.next_stale_ms == null ? undefined : performance.now() + r.next_stale_ms;
    const all = this.o.capacity + r.peers;
    return all > 0 ? Math.min(this.o.capacity, Math.ceil((r.total * this.o.capacity) / all)) : 0;
  }

  /**
   * Gives one camera back: at once no longer held (fencing refuses reconnects), its sessions stopped, and only then
   * its row deleted, so the node that claims it next never pulls it while this one still does. Meanwhile the beats
   * keep renewing the row (nobody else may claim it yet).
   */
  private handBack(cameraId: string): void {
    this.releasing.add(cameraId);
    this.lose(cameraId, 'handed to a less loaded node (balancing)');
    void Promise.race([this.stopCamera(cameraId), new Promise((r) => setTimeout(r, 10_000).unref())])
      .catch((err) => this.o.logger.warn({ camera: cameraId, err: (err as Error).message }, 'stopping a handed-back camera failed'))
      .finally(() => this.stopped.add(cameraId));
  }

  /** Deletes the rows of handed-back cameras whose sessions have stopped (start of each beat; retried until done). */
  private async deleteHandedBack(): Promise<void> {
    if (!this.stopped.size) return;
    const ids = [...this.stopped];
    await this.o.db.query('DELETE FROM camera_leases WHERE node_id = $1 AND kind = $2 AND camera_id = ANY($3::uuid[])', [this.o.nodeId, this.o.kind, ids]);
    for (const id of ids) {
      this.stopped.delete(id);
      this.releasing.delete(id);
    }
  }

  /**
   * A renewal that hangs (network cut) never reaches the catch below: this timer drops every camera
   * when the guarantee runs out, whatever the database call is doing.
   */
  private armFence(): void {
    clearTimeout(this.fence);
    this.fence = setTimeout(() => {
      if (performance.now() < this.validUntil) return this.armFence();
      for (const id of [...this.held.keys()]) this.lose(id, 'lease not renewed in time: stopping (fencing)');
    }, Math.max(0, this.validUntil - performance.now()) + 5);
    this.fence.unref();
  }

  /** One renew + claim round; exported for tests that step time by hand. */
  async beat(): Promise<void> {
    let sent = performance.now();
    try {
      const { nodeId, kind } = this.o;
      const ttl = `${this.ttlMs} milliseconds`;
      await this.deleteHandedBack();
      if (this.o.eligibleSql) {
        // cameras that left this node's scope (rules added/removed, an analytics node came or went) are handed back
        // now, before the renewal: the node they belong to claims them at its next beat instead of after expiry
        const released = await this.o.db.query<{ camera_id: string }>(
          `DELETE FROM camera_leases l WHERE l.node_id = $1 AND l.kind = $2
              AND NOT EXISTS (SELECT 1 FROM cameras c WHERE c.id = l.camera_id AND ${this.o.eligibleSql}) RETURNING camera_id`, [nodeId, kind]);
        for (const r of released.rows) this.lose(r.camera_id, 'camera no longer in this node\'s scope: handed back');
      }
      sent = performance.now();
      // the renewal is this node's heartbeat too (same statement, same now()): a node whose leases lapse is, at that
      // very moment or later, no longer a live peer in the others' shares (see schedule())
      const renewed = await this.o.db.query<{ camera_id: string; epoch: number }>(
        `WITH alive AS (UPDATE cluster_nodes SET heartbeat_at = now() WHERE id = $1 AND stopped_at IS NULL)
         UPDATE camera_leases SET expires_at = now() + $3::interval
          WHERE node_id = $1 AND kind = $2 AND expires_at > now() RETURNING camera_id, epoch`, [nodeId, kind, ttl]);
      // Valid from the moment the renewal was sent, not when it answered: the database's clock started then at the
      // latest. Extended now, before the claim queries: a slow claim on a loaded database must not fence a renewed node.
      this.validUntil = sent + this.ttlMs - this.marginMs;
      this.armFence();
      const still = new Set(renewed.rows.map((r) => r.camera_id));
      for (const id of [...this.held.keys()]) if (!still.has(id)) this.lose(id, 'lease expired or taken over');
      // Rows of ours that expired (e.g. after a pause) are gone for good: the epoch moves on at the next claim.
      const share = this.o.balance ? await this.share(ttl) : this.o.capacity;
      const keeping = renewed.rows.filter((r) => !this.releasing.has(r.camera_id));
      if (this.o.balance) {
        const excess = keeping.length - share;
        // a little slack on big shares (5 %) keeps a camera added or deleted from moving others around
        if (excess > Math.floor(share / 20)) {
          const moves = this.o.balance.maxMovesPerBeat ?? Math.max(1, Math.ceil(this.o.capacity / 50));
          const give = this.releaseOrder(keeping.map((r) => r.camera_id)).slice(0, Math.min(excess, moves));
          for (const id of give) this.handBack(id);
          this.o.logger.info({ kind, share, held: keeping.length - give.length, handedBack: give.length }, 'cameras handed back to balance the nodes');
        }
      }
      // rows being handed back still occupy this node until they are deleted
      const room = Math.min(this.o.capacity, share) - still.size;
      // (a heartbeat again: the claimed rows expire at this statement's now() + TTL, never after this node goes stale)
      const claimed = room > 0 ? await this.o.db.query<{ camera_id: string; epoch: number }>(
        `WITH alive AS (UPDATE cluster_nodes SET heartbeat_at = now() WHERE id = $1 AND stopped_at IS NULL),
         candidates AS (
           SELECT c.id FROM cameras c
            WHERE ${this.o.eligibleSql ?? 'TRUE'}
              AND NOT EXISTS (SELECT 1 FROM camera_leases l WHERE l.camera_id = c.id AND l.kind = $2 AND l.expires_at > now())
            ORDER BY c.id
            LIMIT $4
            FOR UPDATE OF c SKIP LOCKED)
         INSERT INTO camera_leases (camera_id, kind, node_id, epoch, expires_at)
         SELECT id, $2, $1, nextval('camera_lease_epoch'), now() + $3::interval FROM candidates
         ON CONFLICT (camera_id, kind) DO UPDATE
           SET node_id = EXCLUDED.node_id, epoch = EXCLUDED.epoch, acquired_at = now(), expires_at = EXCLUDED.expires_at
           WHERE camera_leases.expires_at <= now()
         RETURNING camera_id, epoch`, [nodeId, kind, ttl, room]) : { rows: [] };
      for (const r of renewed.rows) {
        if (this.releasing.has(r.camera_id)) continue;
        // held again after a local fence (e.g. the database restarted and came back before the row expired)
        const back = !this.held.has(r.camera_id);
        this.held.set(r.camera_id, r.epoch);
        if (back) this.emit('acquired', r.camera_id, r.epoch);
      }
      for (const r of claimed.rows) {
        this.held.set(r.camera_id, r.epoch);
        this.emit('acquired', r.camera_id, r.epoch);
      }
      if (claimed.rows.length) this.o.logger.info({ kind, claimed: claimed.rows.length, held: this.held.size }, 'cameras claimed');
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'lease renewal failed');
      if (performance.now() >= this.validUntil) for (const id of [...this.held.keys()]) this.lose(id, 'database unreachable: lease no longer guaranteed');
    } finally {
      this.schedule();
    }
  }
}
