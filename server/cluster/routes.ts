import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { commonErrors, listOf } from '../http/schemas.js';

const nodeReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, role: { type: 'string' }, address: { type: ['string', 'null'] }, capacity: { type: 'integer' },
    version: { type: ['string', 'null'] }, startedAt: { type: 'string' }, heartbeatAt: { type: 'string' },
    alive: { type: 'boolean' }, leasedCameras: { type: 'object', properties: { ingest: { type: 'integer' }, analytics: { type: 'integer' } } },
  },
} as const;

/** GET /api/cluster/nodes: every node that heartbeated in the last hour, with its leases. */
export async function clusterRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/api/cluster/nodes', {
    config: { roles: ['admin', 'technician'] },
    schema: { tags: ['cluster'], response: { 200: listOf(nodeReply), ...commonErrors } },
  }, async () => {
    const res = await ctx.db.query(
      `SELECT n.id, n.role, n.address, n.capacity, n.version, n.started_at AS "startedAt", n.heartbeat_at AS "heartbeatAt",
              (n.stopped_at IS NULL AND n.heartbeat_at > now() - interval '20 seconds') AS alive,
              json_build_object(
                'ingest', (SELECT count(*)::int FROM camera_leases l WHERE l.node_id = n.id AND l.kind = 'ingest' AND l.expires_at > now()),
                'analytics', (SELECT count(*)::int FROM camera_leases l WHERE l.node_id = n.id AND l.kind = 'analytics' AND l.expires_at > now())
              ) AS "leasedCameras"
         FROM cluster_nodes n
        WHERE n.heartbeat_at > now() - interval '1 hour'
        ORDER BY alive DESC, n.role, n.id`);
    return { items: res.rows, total: res.rowCount };
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
