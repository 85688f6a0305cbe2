import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, errorReply, listOf, paging, uuidParam } from '../http/schemas.js';
import { currentUser } from '../auth/guard.js';
import { ALL_ROLES, INVENTORY_EDITORS, seesRestrictedCameras } from '../auth/roles.js';
import { validateCameraInput, type CameraInput } from './camera-model.js';
import type { CameraFilters, CameraRepo } from './camera-repo.js';
import { camerasToCsv } from './camera-csv.js';
import { IMPORT_MAX_BYTES, importCamerasCsv } from './camera-import.js';
import { publishCameraChange } from '../bus.js';

const nullableString = { type: ['string', 'null'] } as const;

export const cameraReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, nationalId: nullableString, name: { type: 'string' }, owner: nullableString,
    sharing: { type: 'string' }, lat: { type: ['number', 'null'] }, lng: { type: ['number', 'null'] }, address: nullableString,
    district: nullableString, street: nullableString, community: nullableString, gridCode: nullableString,
    tags: { type: 'array', items: { type: 'string' } }, rtspMain: nullableString, rtspSub: nullableString, onvifUrl: nullableString,
    mediaEngine: { type: 'string' }, hasCredentials: { type: 'boolean' }, status: { type: 'string' }, statusReason: nullableString,
    statusChangedAt: nullableString, lastSeenAt: nullableString, createdAt: { type: 'string' }, updatedAt: { type: 'string' },
  },
} as const;

/** Types only; meaning (URL schemes, code formats, ranges) is checked by validateCameraInput, shared with CSV import. */
const cameraBody = {
  type: 'object',
  properties: {
    nationalId: nullableString, name: { type: 'string' }, owner: nullableString, sharing: { type: 'string', enum: ['shared', 'restricted'] },
    lat: { type: ['number', 'null'] }, lng: { type: ['number', 'null'] }, address: nullableString, district: nullableString,
    street: nullableString, community: nullableString, gridCode: nullableString, tags: { type: 'array', items: { type: 'string' }, maxItems: 50 },
    rtspMain: nullableString, rtspSub: nullableString, onvifUrl: nullableString, username: nullableString, password: nullableString,
    mediaEngine: { type: 'string' },
  },
  additionalProperties: false,
} as const;

const listQuery = {
  type: 'object',
  properties: {
    q: { type: 'string', maxLength: 100 }, status: { type: 'string', maxLength: 32 }, district: { type: 'string', maxLength: 50 },
    street: { type: 'string', maxLength: 50 }, grid: { type: 'string', maxLength: 15 }, owner: { type: 'string', maxLength: 100 },
    tag: { type: 'string', maxLength: 32 }, sharing: { type: 'string', enum: ['shared', 'restricted'] },
    sort: { type: 'string', enum: ['name', 'district', 'status', 'updatedAt'] }, ...paging,
  },
  additionalProperties: false,
} as const;

function rejectInvalid(errors: Record<string, string>): void {
  const entries = Object.entries(errors);
  if (entries.length) throw new HttpError(400, 'Invalid camera: ' + entries.map(([f, m]) => `${f} ${m}`).join('; '), errors);
}

export async function cameraRoutes(app: FastifyInstance, ctx: AppContext & { cameras: CameraRepo }): Promise<void> {
  const repo = ctx.cameras;

  app.get<{ Querystring: Omit<CameraFilters, 'ids'> }>('/api/cameras', {
    config: { roles: ALL_ROLES },
    schema: { tags: ['cameras'], querystring: listQuery, response: { 200: listOf(cameraReply), ...commonErrors } },
  }, async (request) => repo.list(ctx.db, currentUser(request), request.query));

  app.get('/api/cameras/facets', {
    config: { roles: ALL_ROLES },
    schema: {
      tags: ['cameras'],
      response: {
        200: {
          type: 'object',
          additionalProperties: { type: 'array', items: { type: 'object', properties: { value: { type: 'string' }, count: { type: 'integer' } } } },
        },
        ...commonErrors,
      },
    },
  }, async (request) => repo.facets(ctx.db, currentUser(request)));

  app.get('/api/cameras/export', {
    config: { roles: INVENTORY_EDITORS },
    schema: { tags: ['cameras'], querystring: { ...listQuery, properties: { ...listQuery.properties, limit: { type: 'integer', minimum: 1, maximum: 100000, default: 100000 } } }, response: { 200: { type: 'string' }, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const { items } = await repo.list(ctx.db, user, request.query as CameraFilters);
    await audit(ctx.db, { user, action: 'camera.export', targetType: 'camera', detail: { count: items.length, filters: request.query }, ip: request.ip });
    const stamp = new Date().toISOString().slice(0, 10);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="cameras-${stamp}.csv"`)
      .send(camerasToCsv(items));
  });

  app.get<{ Params: { id: string } }>('/api/cameras/:id', {
    config: { roles: ALL_ROLES },
    schema: { tags: ['cameras'], params: uuidParam, response: { 200: cameraReply, ...commonErrors } },
  }, async (request) => {
    const cam = await repo.getVisible(ctx.db, currentUser(request), request.params.id);
    if (!cam) throw notFound('Camera');
    return cam;
  });

  app.post<{ Body: CameraInput }>('/api/cameras', {
    config: { roles: INVENTORY_EDITORS },
    schema: { tags: ['cameras'], body: { ...cameraBody, required: ['name'] }, response: { 201: cameraReply, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const { value, errors } = validateCameraInput(request.body, true);
    rejectInvalid(errors);
    // A technician who registered a restricted camera could not see it afterwards: the police decide that.
    if (value.sharing === 'restricted' && !seesRestrictedCameras(user.role)) {
      throw new HttpError(403, 'Only police110 or admin may register a restricted camera', { sharing: 'only police110 or admin may set restricted' });
    }
    const cam = await ctx.db.tx(async (q) => {
      await assertUnique(q, value);
      const created = await repo.insert(q, value);
      await audit(q, { user, action: 'camera.create', targetType: 'camera', targetId: created.id, detail: { name: created.name }, ip: request.ip });
      return created;
    });
    publishCameraChange(ctx.bus, { kind: 'created', ids: [cam.id], sharing: cam.sharing });
    return reply.code(201).send(cam);
  });

  app.patch<{ Params: { id: string }; Body: CameraInput }>('/api/cameras/:id', {
    config: { roles: INVENTORY_EDITORS },
    schema: { tags: ['cameras'], params: uuidParam, body: { ...cameraBody, minProperties: 1 }, response: { 200: cameraReply, ...commonErrors } },
  }, async (request) => {
    const user = currentUser(request);
    const { value, errors } = validateCameraInput(request.body, false);
    rejectInvalid(errors);
    return ctx.db.tx(async (q) => {
      const current = await repo.getVisible(q, user, request.params.id);
      if (!current) throw notFound('Camera');
      if (value.sharing && value.sharing !== current.sharing && !seesRestrictedCameras(user.role)) {
        throw new HttpError(403, 'Only police110 or admin may change whether a camera is shared', { sharing: 'only police110 or admin may change this' });
      }
      await assertUnique(q, value, current.id);
      const updated = await repo.update(q, current.id, value);
      const changed = Object.keys(request.body).map((k) => (k === 'password' || k === 'username' ? 'credentials' : k));
      await audit(q, { user, action: 'camera.update', targetType: 'camera', targetId: current.id, detail: { name: current.name, changed: [...new Set(changed)] }, ip: request.ip });
      return updated!;
    }).then((updated) => {
      // Published after commit: subscribers (live push visibility, running sessions) read the new row.
      publishCameraChange(ctx.bus, { kind: 'updated', ids: [updated.id], sharing: updated.sharing });
      return updated;
    });
  });

  app.delete<{ Params: { id: string } }>('/api/cameras/:id', {
    config: { roles: INVENTORY_EDITORS },
    schema: { tags: ['cameras'], params: uuidParam, response: { 204: { type: 'null' }, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    await ctx.db.tx(async (q) => {
      const current = await repo.getVisible(q, user, request.params.id);
      if (!current) throw notFound('Camera');
      await repo.remove(q, current.id);
      await audit(q, { user, action: 'camera.delete', targetType: 'camera', targetId: current.id, detail: { name: current.name }, ip: request.ip });
    });
    publishCameraChange(ctx.bus, { kind: 'deleted', ids: [request.params.id] });
    return reply.code(204).send();
  });

  // CSV arrives as raw bytes: the encoding (UTF-8 or GBK) is detected, not trusted from headers. The bytes are held
  // (up to IMPORT_MAX_BYTES, 413 beyond); the rows are streamed from them (camera-import.ts).
  app.addContentTypeParser(['text/csv', 'application/csv', 'application/vnd.ms-excel'], { parseAs: 'buffer', bodyLimit: IMPORT_MAX_BYTES }, (_req, body, done) => done(null, body));

  const importReply = {
    type: 'object',
    properties: {
      created: { type: 'integer' }, updated: { type: 'integer' },
      errors: { type: 'array', items: { type: 'object', properties: { row: { type: 'integer' }, column: nullableString, message: { type: 'string' } } } },
    },
  } as const;
  app.post<{ Querystring: { partial: boolean }; Body: Buffer }>('/api/cameras/import', {
    config: { roles: INVENTORY_EDITORS },
    bodyLimit: IMPORT_MAX_BYTES,
    schema: {
      tags: ['cameras'],
      description: `CSV body (UTF-8 with or without BOM, or GBK), at most ${IMPORT_MAX_BYTES / 1024 / 1024} MB. Columns: see README. Upsert by national_id, else name.`,
      querystring: { type: 'object', properties: { partial: { type: 'boolean', default: false } }, additionalProperties: false },
      response: { 200: importReply, 422: { ...importReply, properties: { ...importReply.properties, statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } } }, 413: errorReply, 415: errorReply, ...commonErrors },
    },
  }, async (request, reply) => {
    if (!Buffer.isBuffer(request.body)) throw new HttpError(415, 'Send the CSV file as the body with Content-Type: text/csv');
    const { status, result, ids } = await importCamerasCsv(ctx.db, repo, currentUser(request), request.body, { partial: request.query.partial, ip: request.ip });
    // the ids, so that running sessions of cameras whose URLs or credentials changed reconnect (on every node)
    publishCameraChange(ctx.bus, { kind: 'created', ids: ids.created });
    publishCameraChange(ctx.bus, { kind: 'updated', ids: ids.updated });
    if (status === 422) {
      return reply.code(422).send({ statusCode: 422, error: 'Unprocessable Entity', message: `${result.errors.length} problem(s) in the file; nothing was imported`, ...result });
    }
    return result;
  });
}

async function assertUnique(q: import('../db/db.js').Queryable, value: CameraInput, selfId?: string): Promise<void> {
  const errors: Record<string, string> = {};
  if (value.name) {
    const r = await q.query('SELECT 1 FROM cameras WHERE name = $1 AND id IS DISTINCT FROM $2', [value.name, selfId ?? null]);
    if (r.rowCount) errors.name = 'is already used by another camera';
  }
  if (value.nationalId) {
    const r = await q.query('SELECT 1 FROM cameras WHERE national_id = $1 AND id IS DISTINCT FROM $2', [value.nationalId, selfId ?? null]);
    if (r.rowCount) errors.nationalId = 'is already used by another camera';
  }
  if (Object.keys(errors).length) throw new HttpError(409, 'Camera clashes with another: ' + Object.entries(errors).map(([f, m]) => `${f} ${m}`).join('; '), errors);
}
