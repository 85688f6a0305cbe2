import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { HttpError } from '../http/errors.js';
import { errorReply } from '../http/schemas.js';
import { DUMMY_HASH, verifyPassword } from './passwords.js';
import { createSession, revokeSession, SESSION_COOKIE } from './sessions.js';
import { ALL_ROLES, type Role } from './roles.js';
import { currentUser } from './guard.js';

export const userReply = {
  type: 'object',
  properties: { id: { type: 'string' }, username: { type: 'string' }, role: { type: 'string' }, displayName: { type: ['string', 'null'] } },
  required: ['id', 'username', 'role'],
} as const;

export async function authRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Per address and username: a guessing run against one account is slowed without locking the whole desk out.
  // preHandler: the key needs the parsed body's username.
  await app.register(rateLimit, { global: false, hook: 'preHandler' });

  app.post<{ Body: { username: string; password: string } }>('/api/auth/login', {
    config: {
      public: true,
      rateLimit: {
        max: 10,
        timeWindow: '1 minute',
        keyGenerator: (req) => `${req.ip}|${String((req.body as { username?: unknown } | undefined)?.username ?? '').toLowerCase()}`,
        errorResponseBuilder: (_req, ctx2) => ({ statusCode: 429, error: 'Too Many Requests', message: `Too many login attempts; try again in ${Math.ceil(ctx2.ttl / 1000)} s` }),
      },
    },
    schema: {
      tags: ['auth'],
      body: {
        type: 'object',
        properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 200 } },
        required: ['username', 'password'],
        additionalProperties: false,
      },
      response: { 200: { type: 'object', properties: { user: userReply }, required: ['user'] }, 400: errorReply, 401: errorReply, 429: errorReply },
    },
  }, async (request, reply) => {
    const { username, password } = request.body;
    const found = await ctx.db.query<{ id: string; username: string; role: Role; display_name: string | null; password_hash: string; disabled: boolean }>(
      'SELECT id, username, role, display_name, password_hash, disabled FROM users WHERE lower(username) = lower($1)', [username]);
    const user = found.rows[0];
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
    if (!user || !ok || user.disabled) {
      await audit(ctx.db, { action: 'auth.login_failed', detail: { username: username.slice(0, 64) }, ip: request.ip });
      throw new HttpError(401, '用户名或密码错误 Wrong username or password');
    }
    const session = await ctx.db.tx(async (q) => {
      const s = await createSession(q, user.id, ctx.config.sessionTtlHours, { ip: request.ip, userAgent: request.headers['user-agent'] });
      await audit(q, { user, action: 'auth.login', ip: request.ip });
      return s;
    });
    reply.setCookie(SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      path: '/',
      expires: session.expiresAt,
    });
    return { user: { id: user.id, username: user.username, role: user.role, displayName: user.display_name } };
  });

  app.post('/api/auth/logout', {
    config: { roles: ALL_ROLES },
    schema: { tags: ['auth'], response: { 204: { type: 'null' }, 401: errorReply } },
  }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await revokeSession(ctx.db, token);
    await audit(ctx.db, { user: currentUser(request), action: 'auth.logout', ip: request.ip });
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  app.get('/api/auth/me', {
    config: { roles: ALL_ROLES },
    schema: { tags: ['auth'], response: { 200: userReply, 401: errorReply } },
  }, async (request) => {
    const me = currentUser(request);
    const row = await ctx.db.query<{ display_name: string | null }>('SELECT display_name FROM users WHERE id = $1', [me.id]);
    return { ...me, displayName: row.rows[0]?.display_name ?? null };
  });
}
