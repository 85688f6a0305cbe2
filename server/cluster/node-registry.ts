import type { Db } from '../db/db.js';

export interface NodeInfo {
  id: string;
  role: 'all' | 'api' | 'ingest' | 'analytics';
  address: string | null;
  capacity: number;
  version: string;
}

/** Keeps this node's row in cluster_nodes fresh so operators (GET /api/cluster/nodes) see who is alive. */
export class NodeRegistry {
  private timer?: NodeJS.Timeout;

  constructor(private readonly db: Db, readonly node: NodeInfo, private readonly intervalMs = 5000) {}

  async start(): Promise<void> {
    await this.db.query(
      `INSERT INTO cluster_nodes (id, role, address, capacity, version) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL`,
      [this.node.id, this.node.role, this.node.address, this.node.capacity, this.node.version]);
    this.timer = setInterval(() => {
      void this.db.query('UPDATE cluster_nodes SET heartbeat_at = now() WHERE id = $1', [this.node.id]).catch(() => {});
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.db.query('UPDATE cluster_nodes SET stopped_at = now() WHERE id = $1', [this.node.id]).catch(() => {});
  }
}
