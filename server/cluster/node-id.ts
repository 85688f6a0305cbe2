import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/** Unique per process start: a restarted node is a new node, and its old leases simply expire. */
export function newNodeId(): string {
  return `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
