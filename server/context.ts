import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import type { Db } from './db/db.js';
import type { Bus } from './bus.js';
import type { Cluster } from './cluster/cluster.js';

/**
 * What every subsystem and route plugin of a node shares. The subsystems themselves are built by server/node.ts
 * and handed to the routes as NodeContext (this plus NodeParts).
 */
export interface AppContext {
  config: Config;
  db: Db;
  logger: FastifyBaseLogger;
  /** Master key (see secrets.ts); use deriveKey(secretKey, purpose) for a purpose-bound key. */
  secretKey: Buffer;
  bus: Bus;
  /** This node's cluster membership (role, leases, bus bridge); set by createNode, absent in most tests (= role all). */
  cluster?: Cluster;
}
