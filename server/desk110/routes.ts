import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { installApiKeyAuth } from './api-key-auth.js';
import { apiKeyRoutes } from './api-key-routes.js';
import { incidentRoutes } from './incident-routes.js';

/** The 110 desk: API keys, incident intake and feedback (the category map is in classification/). API-key auth applies inside this plugin only. */
export async function desk110Routes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  installApiKeyAuth(app, ctx.db);
  await app.register(apiKeyRoutes, ctx);
  await app.register(incidentRoutes, ctx);
}
