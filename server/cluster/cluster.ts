/**
 * This node's place in the cluster: its row in cluster_nodes (heartbeat), its camera leases (ingest and
 * analytics roles), the LISTEN/NOTIFY bus bridge (PostgreSQL only) and where other nodes' cameras live.
 * See README.md beside this file for the roles and the decisions.
 *
 *   server/node.ts creates it first (ctx.cluster) and stops it last, once the sessions are down.
 */
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Db } from '../db/db.js';
import type { Bus } from '../bus.js';
import { CameraLeases, type LeaseKind } from './camera-leases.js';
import { NodeRegistry } from './node-registry.js';
import { PgBusBridge } from './bus-bridge.js';
import { newNodeId } from './node-id.js';
import { leaseTiming } from './lease-timing.js';

export interface ClusterLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  child?(b: object): ClusterLog;
}

export interface ClusterOptions {
  config: Config;
  db: Db;
  bus: Bus;
  logger: ClusterLog;
  version?: string;
  nodeId?: string;
}

/** Cameras with at least one enabled analytics rule (what an analytics node claims). */
export const ANALYTICS_ELIGIBLE_SQL = 'EXISTS (SELECT 1 FROM rules r WHERE r.camera_id = c.id AND r.enabled)';
/**
 * What an ingest node claims: every camera, except cameras with rules while an analytics node is alive (those are
 * pulled where they are analysed). A dead analytics node's cameras fall back to ingest nodes (live video keeps working).
 */
export const INGEST_ELIGIBLE_SQL = `NOT (${ANALYTICS_ELIGIBLE_SQL} AND EXISTS (SELECT 1 FROM cluster_nodes n
  WHERE n.role = 'analytics' AND n.stopped_at IS NULL AND n.heartbeat_at > now() - interval '30 seconds'))`;

export class Cluster {
  readonly nodeId: string;
  readonly role: Config['role'];
  readonly address: string;
  /**
   * Pull leases (kind 'ingest': one row per camera cluster-wide, so one pull per camera): role ingest claims any camera,
   * role analytics the cameras with enabled rules (it pulls and decodes them itself: co-located, no second pull).
   * Undefined on role all (one node pulls every camera) and api (pulls none).
   */
  readonly ingest?: CameraLeases;
  private readonly registry: NodeRegistry;
  private readonly bridge?: PgBusBridge;
  private readonly locCache = new Map<string, { at: number; address: string | null }>();
  private readonly log: ClusterLog;

  constructor(private readonly o: ClusterOptions) {
    const { config } = o;
    this.nodeId = o.nodeId ?? newNodeId();
    this.role = config.role;
    this.address = config.nodeAddress ?? `http://${hostname()}:${config.port}`;
    this.log = o.logger.child?.({ module: 'cluster' }) ?? o.logger;
    const lease = (kind: LeaseKind, capacity: number, eligibleSql: string, balance?: { role: string }) => new CameraLeases({
      db: o.db, nodeId: this.nodeId, kind, capacity, ttlMs: config.leaseTtlMs, eligibleSql, balance, logger: this.log,
    });
    // ingest nodes spread the fleet by capacity; analytics nodes keep their cameras (open stays live there)
    if (config.role === 'ingest') this.ingest = lease('ingest', config.ingestCapacity, INGEST_ELIGIBLE_SQL, { role: 'ingest' });
    if (config.role === 'analytics') this.ingest = lease('ingest', config.analyticsCapacity, ANALYTICS_ELIGIBLE_SQL);
    const capacity = config.role === 'ingest' ? config.ingestCapacity : config.role === 'analytics' ? config.analyticsCapacity : 0;
    this.registry = new NodeRegistry(o.db, { id: this.nodeId, role: config.role, address: this.address, capacity, version: o.version ?? '0.1.0' },
      leaseTiming(config.leaseTtlMs).heartbeatMs, () => this.sessions().map((x) => x.cameraId));
    if (config.databaseUrl && o.db.kind === 'postgres') this.bridge = new PgBusBridge(config.databaseUrl, o.bus, this.nodeId, this.log);
  }

  /** Cross-process events on? (PostgreSQL; on PGlite everything runs in one process and the local bus suffices.) */
  get bridged(): boolean {
    return this.bridge !== undefined;
  }

  /**
   * May this node pull the camera? Role all: always (single node). Roles ingest and analytics: only while they hold
   * its pull lease (fencing). Role api never pulls.
   */
  streams(cameraId: string): boolean {
    if (this.role === 'all') return true;
    return this.ingest?.holds(cameraId) ?? false;
  }

  /** Base URL of the ingest node that holds the camera now (null: nobody yet). Cached briefly. */
  async locate(cameraId: string): Promise<string | null> {
    if (this.streams(cameraId)) return this.address;
    const hit = this.locCache.get(cameraId);
    if (hit && performance.now() - hit.at < 1000) return hit.address; // monotonic: a clock stepped back must not pin the cache
    const res = await this.o.db.query<{ address: string | null }>(
      `SELECT n.address FROM camera_leases l JOIN cluster_nodes n ON n.id = l.node_id
        WHERE l.camera_id = $1 AND l.kind = 'ingest' AND l.expires_at > now() AND n.stopped_at IS NULL`, [cameraId]);
    const address = res.rows[0]?.address ?? null;
    if (this.locCache.size > 10_000) this.locCache.clear();
    this.locCache.set(cameraId, { at: performance.now(), address });
    return address;
  }

  /** This node's pull sessions (set by ingest; status endpoint and tests). */
  sessions: () => Array<{ cameraId: string; stream: string; state: string }> = () => [];

  async start(): Promise<void> {
    await this.registry.start();
    await this.bridge?.start();
    await this.ingest?.start();
    this.log.info({ node: this.nodeId, role: this.role, address: this.address, bridged: this.bridged,
      cameras: this.ingest?.cameras().length ?? (this.role === 'all' ? 'all' : 0) }, 'cluster node started');
  }

  async stop(): Promise<void> {
    await this.ingest?.stop();
    await this.bridge?.stop();
    await this.registry.stop();
  }
}
