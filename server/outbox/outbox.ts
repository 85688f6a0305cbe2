import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/db.js';

/**
 * The transactional outbox: a hand-off to another system is a row written in the SAME transaction as the
 * change it reports, so it commits or rolls back with it. The OutboxWorker (worker.ts) delivers it later,
 * signed and retried, across restarts.
 */
export type OutboxDestination = { kind: 'city' } | { kind: 'api_key'; apiKeyId: string };

export async function enqueue(q: Queryable, destination: OutboxDestination, topic: string, payload: unknown): Promise<number> {
  const res = await q.query<{ id: number }>(
    `INSERT INTO outbox (topic, payload, destination, api_key_id) VALUES ($1, $2, $3, $4) RETURNING id`,
    [topic, JSON.stringify(payload), destination.kind, destination.kind === 'api_key' ? destination.apiKeyId : null],
  );
  return res.rows[0].id;
}

export const SIGNATURE_HEADER = 'x-streeteye-signature';
export const DELIVERY_HEADER = 'x-streeteye-delivery';
export const TOPIC_HEADER = 'x-streeteye-topic';

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`: what receivers recompute to trust a delivery. */
export function sign(secret: string | Buffer, body: string | Buffer): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

/** For receivers (and tests): constant-time check of a signature header against the body. */
export function verifySignature(secret: string | Buffer, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(sign(secret, body));
  const got = Buffer.from(header);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/** Exponential backoff: base × 2^(attempt−1), capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}

/** Purpose of the derived key that seals API keys' callback secrets (deriveKey(secretKey, CALLBACK_KEY_PURPOSE)). */
export const CALLBACK_KEY_PURPOSE = 'api-key-callback';
