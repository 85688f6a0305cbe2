import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/db.js';
import { HttpError } from '../http/errors.js';
import { resolveSession, SESSION_COOKIE } from './sessions.js';
import type { Role, SessionUser } from './roles.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: SessionUser | null;
  }
  interface FastifyInstance {
    /** Every /api route with its config, as registered (the authorization matrix test walks it). */
    apiRoutes: Array<{ method: string; url: string; config: Record<string, unknown>; querystring?: unknown }>;
  }
  interface FastifyContextConfig {
    /** Reachable without a session (login, health, metrics, signed media). */
    public?: boolean;
    /** Roles allowed on this route; every non-public /api route must say. */
    roles?: readonly Role[];
  }
}

/** The signed-in user of a route that is guarded (never null there). */
export function currentUser(request: FastifyRequest): SessionUser {
  if (!request.user) throw new HttpError(401, '请先登录 Sign in first');
  return request.user;
}

/**
 * Every /api route must declare either config.public or config.roles: a route that forgets is a
 * startup error, not an open door.
 */
export function installGuard(app: FastifyInstance, q: Queryable): void {
  app.decorateRequest('user', null);
  const apiRoutes: FastifyInstance['apiRoutes'] = [];
  app.decorate('apiRoutes', apiRoutes);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const config = (route.config ?? {}) as { public?: boolean; roles?: readonly Role[] };
    for (const method of [route.method].flat()) apiRoutes.push({ method, url: route.url, config: config as Record<string, unknown>, querystring: (route.schema as { querystring?: unknown } | undefined)?.querystring });
    if (!config.public && !config.roles?.length) {
      throw new Error(`route ${route.method} ${route.url} declares neither config.public nor config.roles`);
    }
  });
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config as { public?: boolean; roles?: readonly Role[] };
    if (!request.routeOptions.url?.startsWith('/api/') || config.public) return;
    const token = request.cookies[SESSION_COOKIE];
    const user = token ? await resolveSession(q, token) : null;
    if (!user) throw new HttpError(401, '请先登录 Sign in first: this needs a session');
    if (config.roles && !config.roles.includes(user.role)) {
      throw new HttpError(403, `当前角色无权操作 Your role (${user.role}) may not do this`);
    }
    request.user = user;
  });
}
