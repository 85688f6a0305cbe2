import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { HttpError } from '../http/errors.js';
import { commonErrors } from '../http/schemas.js';
import { hashPassword, PASSWORD_RULE, verifyPassword } from './passwords.js';
import { ALL_ROLES } from './roles.js';
import { currentUser } from './guard.js';
import { hashToken, SESSION_COOKIE } from './sessions.js';

/**
 * Every user changes their own password (an admin resets others' on /api/users/:id). The current password is
 * asked again, so a session left open on a desk cannot take over the account; the user's other sessions end.
 */
export async function passwordRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post<{ Body: { currentPassword: string; newPassword: string } }>('/api/auth/password', {
    config: { roles: ALL_ROLES },
    schema: {
      tags: ['auth'],
      body: {
        type: 'object',
        properties: { currentPassword: { type: 'string', minLength: 1, maxLength: 200 }, newPassword: { type: 'string', ...PASSWORD_RULE } },
        required: ['currentPassword', 'newPassword'],
        additionalProperties: false,
      },
      response: { 204: { type: 'null' }, ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const { currentPassword, newPassword } = request.body;
    const row = (await ctx.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.id])).rows[0];
    if (!row || !(await verifyPassword(currentPassword, row.password_hash))) {
      await audit(ctx.db, { user, action: 'auth.password_change_failed', targetType: 'user', targetId: user.id, ip: request.ip });
      throw new HttpError(400, '当前密码不对 The current password is wrong', { currentPassword: '当前密码不对 is wrong' });
    }
    if (currentPassword === newPassword) {
      throw new HttpError(400, '新密码不能与当前密码相同 The new password must differ from the current one', { newPassword: '与当前密码相同 is the same as the current one' });
    }
    const hash = await hashPassword(newPassword);
    const token = request.cookies[SESSION_COOKIE];
    await ctx.db.tx(async (q) => {
      await q.query('UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1', [user.id, hash]);
      // other sessions of this user end; this one (the desk the user is at) stays
      await q.query(`UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND token_hash IS DISTINCT FROM $2`,
        [user.id, token ? hashToken(token) : null]);
      await audit(q, { user, action: 'auth.password_change', targetType: 'user', targetId: user.id, ip: request.ip });
    });
    return reply.code(204).send();
  });
}
