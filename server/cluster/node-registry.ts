import type { Db } from '../db/db.js';

export interface NodeInfo {
  id: string;
  role: 'all' | 'api' | 'ingest' | 'analytics';
  address: string | null;
  capacity: number;
  version: string;
}

/** Nodes silent this long are forgotten: the cluster page shows a dead node as offline for a day, not forever. */
export const FORGET_NODES_AFTER = '1 day';
const PRUNE_EVERY_MS = 3600_000;

/**
 * Keeps this node's row in cluster_nodes fresh so operators (GET /api/cluster/nodes) see who is alive and which
 * cameras each node really pulls (`pulling`, from its running sessions, on every heartbeat); forgets nodes gone a day.
 */
export class NodeRegistry {
  private timer?: NodeJS.Timeout;
  private lastPrune = 0;

  constructor(
    private readonly db: Db,
    readonly node: NodeInfo,
    private readonly intervalMs = 5000,
    /** cameras this node pulls now (ingest sessions) */
    private readonly pulling: () => string[] = () => [],
  ) {}

  async start(): Promise<void> {
    await this.db.query(
      `INSERT INTO cluster_nodes (id, role, address, capacity, version) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL`,
      [this.node.id, this.node.role, this.node.address, this.node.capacity, this.node.version]);
    await this.prune();
    this.timer = setInterval(() => { void this.beat().catch(() => {}); }, this.intervalMs);
    this.timer.unref();
  }

  /** One heartbeat: alive now, pulling these cameras (and, once an hour, forget the nodes gone for a day). */
  async beat(): Promise<void> {
    const ids = [...new Set(this.pulling())];
    await this.db.query('UPDATE cluster_nodes SET heartbeat_at = now(), pulling = $2::uuid[] WHERE id = $1', [this.node.id, ids]);
    if (performance.now() - this.lastPrune > PRUNE_EVERY_MS) await this.prune();
  }

  async prune(): Promise<number> {
    this.lastPrune = performance.now();
    const r = await this.db.query(`DELETE FROM cluster_nodes WHERE heartbeat_at < now() - interval '${FORGET_NODES_AFTER}' AND id <> $1`, [this.node.id]);
    return r.rowCount ?? 0;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.db.query(`UPDATE cluster_nodes SET stopped_at = now(), pulling = '{}' WHERE id = $1`, [this.node.id]).catch(() => {});
  }
}
