import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, listOf, uuidParam } from '../http/schemas.js';

/**
 * Departments (处置部门) cases are dispatched to: data an admin edits. Every role that works cases reads them
 * (the dispatch form picks from them); a disabled department stays on the cases it had but takes no new ones.
 */
const item = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, contact: { type: ['string', 'null'] }, phone: { type: ['string', 'null'] },
    enabled: { type: 'boolean' }, openCases: { type: 'integer' }, createdAt: { type: 'string' }, updatedAt: { type: 'string' },
  },
} as const;
const COLUMNS = `d.id, d.name, d.contact, d.phone, d.enabled, d.created_at AS "createdAt", d.updated_at AS "updatedAt",
  (SELECT count(*)::int FROM cases c WHERE c.dispatched_to = d.name AND c.status NOT IN ('closed', 'void')) AS "openCases"`;
const NO_CONTROL = '^[^\\u0000-\\u001f\\u007f]*$';
const body = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100, pattern: NO_CONTROL },
    contact: { type: ['string', 'null'], maxLength: 100, pattern: NO_CONTROL },
    phone: { type: ['string', 'null'], maxLength: 40, pattern: '^[0-9+() -]*$' },
    enabled: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;
interface DeptBody { name?: string; contact?: string | null; phone?: string | null; enabled?: boolean }

function duplicate(err: unknown, name: string | undefined): never {
  if ((err as { code?: string }).code === '23505') {
    throw new HttpError(409, `已有名为“${name}”的部门 A department named "${name}" exists`, { name: '名称已被使用 is already used' });
  }
  throw err;
}

export async function departmentRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/api/departments', {
    config: { roles: ['admin', 'operator', 'reviewer'] },
    schema: { tags: ['cases'], response: { 200: listOf(item), ...commonErrors } },
  }, async () => {
    const res = await ctx.db.query(`SELECT ${COLUMNS} FROM departments d ORDER BY d.enabled DESC, d.name`);
    return { items: res.rows, total: res.rows.length };
  });

  app.post<{ Body: DeptBody & { name: string } }>('/api/departments', {
    config: { roles: ['admin'] },
    schema: { tags: ['cases'], body: { ...body, required: ['name'] }, response: { 201: item, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const b = request.body;
    const row = await ctx.db.tx(async (q) => {
      const ins = await q.query<{ id: string }>(
        'INSERT INTO departments (name, contact, phone, enabled) VALUES ($1, $2, $3, $4) RETURNING id',
        [b.name.trim(), b.contact?.trim() || null, b.phone?.trim() || null, b.enabled ?? true]).catch((e) => duplicate(e, b.name));
      await audit(q, { user, action: 'department.create', targetType: 'department', targetId: ins.rows[0].id, detail: { name: b.name }, ip: request.ip });
      return (await q.query(`SELECT ${COLUMNS} FROM departments d WHERE d.id = $1`, [ins.rows[0].id])).rows[0];
    });
    return reply.code(201).send(row);
  });

  app.patch<{ Params: { id: string }; Body: DeptBody }>('/api/departments/:id', {
    config: { roles: ['admin'] },
    schema: { tags: ['cases'], description: 'A rename applies to new dispatches; cases keep the name they were dispatched to.', params: uuidParam, body: { ...body, minProperties: 1 }, response: { 200: item, ...commonErrors } },
  }, async (request) => {
    const user = currentUser(request);
    const b = request.body;
    return ctx.db.tx(async (q) => {
      const sets: string[] = ['updated_at = now()'];
      const params: unknown[] = [request.params.id];
      const set = (col: string, v: unknown) => { params.push(v); sets.push(`${col} = $${params.length}`); };
      if (b.name !== undefined) set('name', b.name.trim());
      if (b.contact !== undefined) set('contact', b.contact?.trim() || null);
      if (b.phone !== undefined) set('phone', b.phone?.trim() || null);
      if (b.enabled !== undefined) set('enabled', b.enabled);
      const res = await q.query(`UPDATE departments SET ${sets.join(', ')} WHERE id = $1`, params).catch((e) => duplicate(e, b.name));
      if (!res.rowCount) throw notFound('Department');
      await audit(q, { user, action: 'department.update', targetType: 'department', targetId: request.params.id, detail: { ...b }, ip: request.ip });
      return (await q.query(`SELECT ${COLUMNS} FROM departments d WHERE d.id = $1`, [request.params.id])).rows[0];
    });
  });
}
