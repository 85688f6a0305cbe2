import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import type { Db } from './db/db.js';
import type { Bus } from './bus.js';
import type { Cluster } from './cluster/cluster.js';

/**
 * What the composed server hands to every route plugin and subsystem. Subsystems (ingest,
 * analytics, ...) add their handle here when they are enabled on this node.
 */
export interface AppContext {
  config: Config;
  db: Db;
  logger: FastifyBaseLogger;
  /** Master key (see secrets.ts); use deriveKey(secretKey, purpose) for a purpose-bound key. */
  secretKey: Buffer;
  bus: Bus;
  /** Called on shutdown in reverse order of registration: stop children before the database closes. */
  onShutdown: Array<() => Promise<void>>;
  /** This node's cluster membership (role, leases, bus bridge); set by main.ts, absent in most tests (= role all). */
  cluster?: Cluster;
}
