import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { commonErrors, listOf } from '../http/schemas.js';
import { currentUser } from '../auth/guard.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { FORGET_NODES_AFTER } from './node-registry.js';

const nodeReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, role: { type: 'string' }, address: { type: ['string', 'null'] }, capacity: { type: 'integer' },
    version: { type: ['string', 'null'] }, startedAt: { type: 'string' }, heartbeatAt: { type: 'string' },
    alive: { type: 'boolean' }, leasedCameras: { type: 'object', properties: { ingest: { type: 'integer' }, analytics: { type: 'integer' } } },
    pulledCount: { type: 'integer', description: 'cameras the node pulls now (its running sessions, reported with each heartbeat); 0 for a node that is down' },
    pulledCameras: { type: 'array', description: 'the pulled cameras this user may see, by name', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } },
  },
} as const;

/** GET /api/cluster/nodes: live nodes and those that stopped within a day (then forgotten), with the cameras each pulls. */
export async function clusterRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/api/cluster/nodes', {
    config: { roles: ['admin', 'technician'] },
    schema: { tags: ['cluster'], response: { 200: listOf(nodeReply), ...commonErrors } },
  }, async (request) => {
    const res = await ctx.db.query<{ alive: boolean; pulledCount: number; pulledCameras: Array<{ id: string; name: string }> | null }>(
      `WITH nodes AS (
         SELECT n.*, (n.stopped_at IS NULL AND n.heartbeat_at > now() - interval '20 seconds') AS alive FROM cluster_nodes n
          WHERE n.heartbeat_at > now() - interval '${FORGET_NODES_AFTER}')
       SELECT n.id, n.role, n.address, n.capacity, n.version, n.started_at AS "startedAt", n.heartbeat_at AS "heartbeatAt", n.alive,
              json_build_object(
                'ingest', (SELECT count(*)::int FROM camera_leases l WHERE l.node_id = n.id AND l.kind = 'ingest' AND l.expires_at > now()),
                'analytics', (SELECT count(*)::int FROM camera_leases l WHERE l.node_id = n.id AND l.kind = 'analytics' AND l.expires_at > now())
              ) AS "leasedCameras",
              CASE WHEN n.alive THEN (SELECT count(*)::int FROM cameras c WHERE c.id = ANY(n.pulling)) ELSE 0 END AS "pulledCount",
              CASE WHEN n.alive THEN (SELECT json_agg(json_build_object('id', c.id, 'name', c.name) ORDER BY c.name) FROM cameras c
                                        WHERE c.id = ANY(n.pulling) AND ${visibilityCondition(currentUser(request))}) END AS "pulledCameras"
         FROM nodes n
        ORDER BY n.alive DESC, n.role, n.id`);
    const items = res.rows.map((r) => ({ ...r, pulledCameras: r.pulledCameras ?? [] }));
    return { items, total: items.length };
  });

  // This node only: what it holds and pulls right now (operators, the multi-process tests, the soak).
  app.get('/api/cluster/self', {
    config: { roles: ['admin', 'technician'] },
    schema: {
      tags: ['cluster'],
      response: {
        200: {
          type: 'object',
          properties: {
            id: { type: 'string' }, role: { type: 'string' }, address: { type: 'string' }, bridged: { type: 'boolean' },
            leased: { type: 'array', items: { type: 'string' } },
            sessions: { type: 'array', items: { type: 'object', properties: { cameraId: { type: 'string' }, stream: { type: 'string' }, state: { type: 'string' } } } },
            rssBytes: { type: 'integer' }, cpuMicros: { type: 'integer' },
          },
        },
        ...commonErrors,
      },
    },
  }, async () => {
    const c = ctx.cluster;
    const cpu = process.cpuUsage();
    return {
      id: c?.nodeId ?? 'local', role: ctx.config.role, address: c?.address ?? '', bridged: c?.bridged ?? false,
      leased: c?.ingest?.cameras() ?? [], sessions: c?.sessions() ?? [],
      rssBytes: process.memoryUsage.rss(), cpuMicros: cpu.user + cpu.system,
    };
  });
}
