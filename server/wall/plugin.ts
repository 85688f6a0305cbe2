/**
 * The video wall's server side (issue #5): camera tree, console config, camera groups and tours,
 * favourites, wall presets. Registered once per app in server/app.ts; no state of its own besides the
 * database (main.ts builds one app for HTTP/1.1 and one for HTTP/2 from the same context).
 * Alarm-to-wall needs nothing here: event.candidate and incident.created reach the console over /api/ws,
 * which already hides messages about restricted cameras from roles that may not see them.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { groupRoutes } from './groups.js';
import { presetRoutes } from './presets.js';
import { treeRoutes } from './tree.js';

export async function wallPlugin(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(treeRoutes, ctx);
  await app.register(groupRoutes, ctx);
  await app.register(presetRoutes, ctx);
}
