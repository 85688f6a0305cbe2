import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, listOf, paging, uuidParam } from '../http/schemas.js';
import { hashPassword, PASSWORD_RULE } from '../auth/passwords.js';
import { revokeUserSessions } from '../auth/sessions.js';
import { ROLES, type Role } from '../auth/roles.js';
import { currentUser } from '../auth/guard.js';
import { NO_CONTROL_CHARS_PATTERN } from '../http/text-rules.js';
import { USER_ACCESS_TOPIC, type UserAccessPayload } from '../../ingest/live-access.js';

const userItem = {
  type: 'object',
  properties: {
    id: { type: 'string' }, username: { type: 'string' }, displayName: { type: ['string', 'null'] }, role: { type: 'string' },
    disabled: { type: 'boolean' }, createdAt: { type: 'string' }, lastLoginAt: { type: ['string', 'null'] },
  },
} as const;

const USER_COLUMNS = `u.id, u.username, u.display_name AS "displayName", u.role, u.disabled, u.created_at AS "createdAt",
  (SELECT max(created_at) FROM sessions s WHERE s.user_id = u.id) AS "lastLoginAt"`;

const admins: Role[] = ['admin'];

interface UserRow { id: string; username: string; role: Role; disabled: boolean }

async function assertNotLastAdmin(ctx: AppContext, userId: string): Promise<void> {
  const res = await ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND NOT disabled AND id <> $1`, [userId]);
  if (res.rows[0].n === 0) throw new HttpError(409, 'This is the last active admin; make another admin first');
}

export async function userRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { q?: string; role?: Role; limit: number; offset: number } }>('/api/users', {
    config: { roles: admins },
    schema: {
      tags: ['users'],
      querystring: { type: 'object', properties: { q: { type: 'string', maxLength: 64 }, role: { type: 'string', enum: [...ROLES] }, ...paging }, additionalProperties: false },
      response: { 200: listOf(userItem), ...commonErrors },
    },
  }, async (request) => {
    const { q, role, limit, offset } = request.query;
    const where: string[] = [];
    const params: unknown[] = [];
    if (q) { params.push(`%${q.toLowerCase()}%`); where.push(`(lower(u.username) LIKE $${params.length} OR lower(coalesce(u.display_name, '')) LIKE $${params.length})`); }
    if (role) { params.push(role); where.push(`u.role = $${params.length}`); }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users u ${clause}`, params);
    const items = await ctx.db.query(`SELECT ${USER_COLUMNS} FROM users u ${clause} ORDER BY u.username LIMIT ${limit} OFFSET ${offset}`, params);
    return { items: items.rows, total: total.rows[0].n };
  });

  app.post<{ Body: { username: string; password: string; role: Role; displayName?: string } }>('/api/users', {
    config: { roles: admins },
    schema: {
      tags: ['users'],
      body: {
        type: 'object',
        properties: {
          username: { type: 'string', pattern: '^[A-Za-z0-9_.@-]{2,64}$' },
          password: { type: 'string', ...PASSWORD_RULE },
          role: { type: 'string', enum: [...ROLES] },
          displayName: { type: 'string', minLength: 1, maxLength: 100, pattern: NO_CONTROL_CHARS_PATTERN },
        },
        required: ['username', 'password', 'role'],
        additionalProperties: false,
      },
      response: { 201: userItem, ...commonErrors },
    },
  }, async (request, reply) => {
    const { username, password, role, displayName } = request.body;
    const hash = await hashPassword(password);
    const created = await ctx.db.tx(async (q) => {
      const clash = await q.query('SELECT 1 FROM users WHERE lower(username) = lower($1)', [username]);
      if (clash.rowCount) throw new HttpError(409, `Username ${username} is taken`, { username: 'is taken' });
      const res = await q.query<{ id: string }>(
        'INSERT INTO users (username, password_hash, role, display_name) VALUES ($1, $2, $3, $4) RETURNING id', [username, hash, role, displayName ?? null]);
      await audit(q, { user: currentUser(request), action: 'user.create', targetType: 'user', targetId: res.rows[0].id, detail: { username, role }, ip: request.ip });
      return (await q.query(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id = $1`, [res.rows[0].id])).rows[0];
    });
    return reply.code(201).send(created);
  });

  app.patch<{ Params: { id: string }; Body: { role?: Role; disabled?: boolean; password?: string; displayName?: string | null } }>('/api/users/:id', {
    config: { roles: admins },
    schema: {
      tags: ['users'],
      params: uuidParam,
      body: {
        type: 'object',
        properties: {
          role: { type: 'string', enum: [...ROLES] },
          disabled: { type: 'boolean' },
          password: { type: 'string', ...PASSWORD_RULE },
          displayName: { type: ['string', 'null'], maxLength: 100, pattern: NO_CONTROL_CHARS_PATTERN },
        },
        additionalProperties: false,
        minProperties: 1,
      },
      response: { 200: userItem, ...commonErrors },
    },
  }, async (request) => {
    const { id } = request.params;
    const body = request.body;
    const me = currentUser(request);
    const existing = (await ctx.db.query<UserRow>('SELECT id, username, role, disabled FROM users WHERE id = $1', [id])).rows[0];
    if (!existing) throw notFound('User');
    const losingAdmin = existing.role === 'admin' && ((body.role && body.role !== 'admin') || body.disabled === true);
    if (losingAdmin) await assertNotLastAdmin(ctx, id);
    if (id === me.id && body.disabled) throw new HttpError(409, 'You cannot disable your own account');
    const hash = body.password ? await hashPassword(body.password) : undefined;
    const updated = await ctx.db.tx(async (q) => {
      const sets: string[] = ['updated_at = now()'];
      const params: unknown[] = [id];
      const set = (col: string, v: unknown) => { params.push(v); sets.push(`${col} = $${params.length}`); };
      if (body.role) set('role', body.role);
      if (body.disabled !== undefined) set('disabled', body.disabled);
      if (hash) set('password_hash', hash);
      if (body.displayName !== undefined) set('display_name', body.displayName);
      await q.query(`UPDATE users SET ${sets.join(', ')} WHERE id = $1`, params);
      // A disabled account, a new role or a reset password ends the user's open sessions.
      if (body.disabled || body.role || hash) await revokeUserSessions(q, id);
      const changes = { ...body, password: body.password ? '(changed)' : undefined };
      await audit(q, { user: me, action: 'user.update', targetType: 'user', targetId: id, detail: { username: existing.username, ...changes }, ip: request.ip });
      return (await q.query(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id = $1`, [id])).rows[0];
    });
    // live media under the user's signed URLs is refused at once, on every node (ingest/live-access.ts)
    if (body.disabled || body.role) ctx.bus.publish(USER_ACCESS_TOPIC, { userId: id } satisfies UserAccessPayload);
    return updated;
  });
}
