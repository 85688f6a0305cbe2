import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

const startedAt = Date.now();

export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/api/health', {
    config: { public: true },
    schema: {
      tags: ['system'],
      response: {
        200: {
          type: 'object',
          properties: {
            status: { type: 'string' }, uptimeSeconds: { type: 'integer' }, role: { type: 'string' },
            database: { type: 'object', properties: { kind: { type: 'string' }, ok: { type: 'boolean' } } },
          },
        },
        503: {
          type: 'object',
          properties: { status: { type: 'string' }, database: { type: 'object', properties: { kind: { type: 'string' }, ok: { type: 'boolean' } } } },
        },
      },
    },
  }, async (_request, reply) => {
    const ok = await ctx.db.ping();
    const body = { status: ok ? 'ok' : 'degraded', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), role: ctx.config.role, database: { kind: ctx.db.kind, ok } };
    return reply.code(ok ? 200 : 503).send(body);
  });
}
