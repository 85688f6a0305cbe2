import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { installApiKeyAuth } from '../auth/api-key-auth.js';
import { incidentRoutes } from './incident-routes.js';

/**
 * The 110 desk: incident intake and feedback. API keys (shared with the city platform) are in auth/, the category
 * map in classification/. API-key auth applies inside this plugin only.
 */
export async function desk110Routes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  installApiKeyAuth(app, ctx.db);
  await app.register(incidentRoutes, ctx);
}
