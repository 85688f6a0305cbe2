import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/db.js';
import type { Role } from './roles.js';
import { HttpError } from '../http/errors.js';
import { resolveSession, SESSION_COOKIE } from './sessions.js';
import { verifyApiKey, type ApiKeyPrincipal } from './api-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The machine caller of a route with config.apiKeyScope, when it came with `Authorization: Bearer KEY`. */
    apiKey: ApiKeyPrincipal | null;
  }
  interface FastifyContextConfig {
    /** Machine-to-machine route: a Bearer API key with this scope is accepted (the route is config.public for the cookie guard). */
    apiKeyScope?: string;
    /** On an apiKeyScope route: the signed-in roles that may also use it (the 110 desk page). */
    sessionRoles?: readonly Role[];
  }
}

/**
 * Authentication for routes that machines call. The session guard (auth/guard.ts) lets config.public routes
 * through untouched; on routes of this plugin that declare apiKeyScope this hook then demands either a valid,
 * unrevoked API key with that scope, or a session whose role is in sessionRoles. Other routes are unaffected.
 */
export function installApiKeyAuth(app: FastifyInstance, q: Queryable): void {
  app.decorateRequest('apiKey', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const config = request.routeOptions.config as { apiKeyScope?: string; sessionRoles?: readonly Role[] };
    if (!config.apiKeyScope) return;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw new HttpError(401, 'API 密钥格式应为 Send the API key as "Authorization: Bearer <key>"');
      const key = await verifyApiKey(q, m[1]);
      if (!key) throw new HttpError(401, 'API 密钥无效或已吊销 The API key is unknown or has been revoked');
      if (!key.scopes.includes(config.apiKeyScope)) throw new HttpError(403, `API 密钥没有“${config.apiKeyScope}”权限 The API key lacks the "${config.apiKeyScope}" scope`);
      request.apiKey = key;
      return;
    }
    const token = request.cookies[SESSION_COOKIE];
    const user = token ? await resolveSession(q, token) : null;
    if (!user) throw new HttpError(401, '请提供 API 密钥或先登录 Send an API key (Authorization: Bearer <key>) or sign in');
    if (!config.sessionRoles?.includes(user.role)) {
      throw new HttpError(403, config.sessionRoles?.length ? `当前角色无权操作 Your role (${user.role}) may not do this` : '此接口只接受 API 密钥 This route takes an API key, not a session');
    }
    request.user = user;
  });
}
