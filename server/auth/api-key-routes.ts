import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { notFound } from '../http/errors.js';
import { commonErrors, listOf, uuidParam } from '../http/schemas.js';
import { deriveKey, seal } from '../secrets.js';
import { CALLBACK_KEY_PURPOSE } from '../outbox/outbox.js';
import { API_KEY_SCOPES, newApiKey } from './api-keys.js';

const keyItem = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, keyPrefix: { type: 'string' }, scopes: { type: 'array', items: { type: 'string' } },
    callbackUrl: { type: ['string', 'null'] }, createdAt: { type: 'string' }, lastUsedAt: { type: ['string', 'null'] },
    revokedAt: { type: ['string', 'null'] },
  },
} as const;
const COLUMNS = `id, name, key_prefix AS "keyPrefix", scopes, callback_url AS "callbackUrl", created_at AS "createdAt",
  last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`;

/**
 * API keys for machine callers (admin only). The key — and the callback secret that signs status feedback to
 * callbackUrl — are shown once in the reply to POST; the database keeps a SHA-256 of the key and the secret sealed.
 */
export async function apiKeyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const callbackKey = deriveKey(ctx.secretKey, CALLBACK_KEY_PURPOSE);

  app.post<{ Body: { name: string; scopes: string[]; callbackUrl?: string } }>('/api/api-keys', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['api-keys'],
      body: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 },
          scopes: { type: 'array', items: { type: 'string', enum: [...API_KEY_SCOPES] }, minItems: 1, uniqueItems: true },
          callbackUrl: { type: 'string', maxLength: 500, pattern: '^https?://[^\\s]+$' },
        },
        required: ['name', 'scopes'],
        additionalProperties: false,
      },
      response: {
        201: { ...keyItem, properties: { ...keyItem.properties, key: { type: 'string' }, callbackSecret: { type: ['string', 'null'] } } },
        ...commonErrors,
      },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const { name, scopes, callbackUrl } = request.body;
    const k = newApiKey();
    // The secret signs our feedback to callbackUrl and, for a city key, the city's requests to us (HMAC, like the outbound webhook).
    const callbackSecret = callbackUrl || scopes.includes('city') ? randomBytes(24).toString('base64url') : null;
    const row = await ctx.db.tx(async (q) => {
      const res = await q.query<Record<string, unknown>>(
        `INSERT INTO api_keys (name, key_prefix, key_hash, scopes, callback_url, callback_secret_enc, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [name, k.prefix, k.hash, scopes, callbackUrl ?? null, callbackSecret ? seal(callbackKey, callbackSecret) : null, user.id]);
      await audit(q, { user, action: 'api_key.create', targetType: 'api_key', targetId: String(res.rows[0].id), detail: { name, scopes, callbackUrl: callbackUrl ?? null }, ip: request.ip });
      return res.rows[0];
    });
    return reply.code(201).send({ ...row, key: k.key, callbackSecret });
  });

  app.get('/api/api-keys', {
    config: { roles: ['admin'] },
    schema: { tags: ['api-keys'], response: { 200: listOf(keyItem), ...commonErrors } },
  }, async () => {
    const res = await ctx.db.query(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at DESC`);
    return { items: res.rows, total: res.rows.length };
  });

  app.delete<{ Params: { id: string } }>('/api/api-keys/:id', {
    config: { roles: ['admin'] },
    schema: { tags: ['api-keys'], description: 'Revokes the key: it stops working at once. Feedback for its incidents is still delivered.', params: uuidParam, response: { 204: { type: 'null' }, ...commonErrors } },
  }, async (request, reply) => {
    const user = currentUser(request);
    await ctx.db.tx(async (q) => {
      const res = await q.query<{ name: string }>(
        'UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, $2) WHERE id = $1 RETURNING name',
        [request.params.id, user.id]);
      if (!res.rows[0]) throw notFound('API key');
      await audit(q, { user, action: 'api_key.revoke', targetType: 'api_key', targetId: request.params.id, detail: { name: res.rows[0].name }, ip: request.ip });
    });
    return reply.code(204).send();
  });
}
