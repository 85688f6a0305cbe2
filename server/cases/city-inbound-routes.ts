import type { FastifyInstance, FastifyRequest } from 'fastify';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import { commonErrors, errorReply } from '../http/schemas.js';
import { deriveKey, open } from '../secrets.js';
import { CALLBACK_KEY_PURPOSE, SIGNATURE_HEADER, verifySignature } from '../outbox/outbox.js';
import { installApiKeyAuth } from '../auth/api-key-auth.js';
import { CASE_ACTIONS, transitionCase, type CaseAction } from './case-service.js';
import { announceStep, assertDepartment, type CaseRoutesContext } from './case-routes.js';

/**
 * Status updates from the city platform (城市运行管理服务平台): the other half of the outbound webhook.
 *
 *   POST /api/city/case-updates
 *   Authorization: Bearer <API key with the "city" scope>
 *   X-StreetEye-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the key's secret>
 *   {"updateId": "...", "caseNo": "SE...", "action": "dispatch" | "handle" | ..., "note"?, "department"?, "hours"?}
 *
 * The secret is the one shown once when the key was issued (the same scheme as our deliveries to the city).
 * updateId is the idempotency key: a replay answers 200 with the first result and changes nothing. The case
 * moves through the same transitions as in the console (case-service.ts), is audited, and is not echoed back
 * to the city platform.
 */
interface Body { updateId: string; caseNo: string; action: CaseAction; note?: string; department?: string; hours?: number }

declare module 'fastify' {
  interface FastifyRequest { rawBody?: string }
}

const reply200 = {
  type: 'object',
  properties: {
    updateId: { type: 'string' }, caseNo: { type: 'string' }, action: { type: 'string' }, status: { type: 'string' },
    duplicate: { type: 'boolean' }, receivedAt: { type: 'string' },
  },
} as const;

export async function cityInboundRoutes(app: FastifyInstance, ctx: CaseRoutesContext): Promise<void> {
  installApiKeyAuth(app, ctx.db);
  const secretKey = deriveKey(ctx.secretKey, CALLBACK_KEY_PURPOSE);
  // The signature covers the exact bytes: keep them (this plugin only).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request: FastifyRequest, body: string | Buffer, done) => {
    request.rawBody = String(body);
    try {
      done(null, JSON.parse(String(body)));
    } catch (err) {
      (err as { statusCode?: number }).statusCode = 400;
      done(err as Error, undefined);
    }
  });

  app.post<{ Body: Body }>('/api/city/case-updates', {
    config: { public: true, apiKeyScope: 'city' },
    bodyLimit: 64 * 1024,
    schema: {
      tags: ['cases'],
      description: 'The city platform moves a case (API key with scope city, HMAC-signed body, idempotent by updateId).',
      body: {
        type: 'object',
        properties: {
          updateId: { type: 'string', minLength: 1, maxLength: 100 },
          caseNo: { type: 'string', minLength: 1, maxLength: 40 },
          action: { type: 'string', enum: Object.keys(CASE_ACTIONS) },
          note: { type: 'string', maxLength: 2000 },
          department: { type: 'string', maxLength: 100 },
          hours: { type: 'number', exclusiveMinimum: 0, maximum: 10000 },
        },
        required: ['updateId', 'caseNo', 'action'],
        additionalProperties: false,
      },
      response: { 200: reply200, ...commonErrors, 413: errorReply },
    },
    // after the body is parsed, before it is validated or anything is written: the signature must match
    preValidation: async (request) => {
      const key = request.apiKey!;
      const row = (await ctx.db.query<{ secret: string | null }>('SELECT callback_secret_enc AS secret FROM api_keys WHERE id = $1', [key.id])).rows[0];
      if (!row?.secret) throw new HttpError(401, '此密钥没有签名密钥，请重新签发 This key has no signing secret: issue a new city key');
      const header = request.headers[SIGNATURE_HEADER];
      if (!verifySignature(open(secretKey, row.secret), request.rawBody ?? '', typeof header === 'string' ? header : undefined)) {
        await audit(ctx.db, { action: 'city.update_rejected', targetType: 'api_key', targetId: key.id, detail: { key: key.name, why: 'bad signature' }, ip: request.ip });
        throw new HttpError(401, `签名不对 The ${SIGNATURE_HEADER} header does not match the body (sha256=HMAC-SHA256 of the body with the key's secret)`);
      }
    },
  }, async (request) => {
    const key = request.apiKey!;
    const b = request.body;
    const outcome = await ctx.db.tx(async (q) => {
      const claimed = await q.query(
        `INSERT INTO city_updates (update_id, api_key_id, action) VALUES ($1, $2, $3) ON CONFLICT (update_id) DO NOTHING RETURNING update_id`,
        [b.updateId, key.id, b.action]);
      if (!claimed.rowCount) {
        const prev = (await q.query<{ result: Record<string, unknown> }>('SELECT result FROM city_updates WHERE update_id = $1', [b.updateId])).rows[0];
        return { duplicate: true as const, result: prev.result };
      }
      const found = (await q.query<{ id: string }>('SELECT id FROM cases WHERE case_no = $1', [b.caseNo])).rows[0];
      if (!found) throw notFound(`案卷 Case ${b.caseNo}`);
      if (b.department && CASE_ACTIONS[b.action].needs.includes('department')) await assertDepartment(q, b.department);
      const r = await transitionCase(q, {
        caseId: found.id, action: b.action, note: b.note, department: b.department, hours: b.hours,
        actor: { id: null, username: `city:${key.name}`, role: 'city' },
      });
      const result = { updateId: b.updateId, caseNo: b.caseNo, action: b.action, status: r.case.status, receivedAt: new Date().toISOString() };
      await q.query('UPDATE city_updates SET case_id = $2, result = $3 WHERE update_id = $1', [b.updateId, found.id, JSON.stringify(result)]);
      await audit(q, {
        user: null, action: `city.case.${b.action}`, targetType: 'case', targetId: found.id,
        detail: { caseNo: b.caseNo, updateId: b.updateId, key: key.name, apiKeyId: key.id, department: b.department ?? null }, ip: request.ip,
      });
      return { duplicate: false as const, result, notifications: r.notifications };
    });
    if (!outcome.duplicate) await announceStep(ctx, outcome.notifications);
    return { ...outcome.result, duplicate: outcome.duplicate };
  });
}
