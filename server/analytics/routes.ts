/**
 * The analytics engine of this node, as the API shows it: GET /api/analytics/status (models, warm-up, frame taps).
 * Rules are in server/rules/, the classification in server/classification/, candidate events, evidence and
 * precision in server/review/.
 *
 *   await app.register(analyticsRoutes, node);
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import type { AnalyticsService } from './service.js';
import { commonErrors } from '../http/schemas.js';

export async function analyticsRoutes(app: FastifyInstance, ctx: AppContext & { analytics: AnalyticsService }): Promise<void> {
  // ---- status ------------------------------------------------------------------------------------------------
  app.get('/api/analytics/status', {
    config: { roles: ['admin', 'technician', 'reviewer'] },
    schema: { tags: ['analytics'], response: { 200: { type: 'object', additionalProperties: true }, ...commonErrors } },
  }, async () => ctx.analytics.status());
}
