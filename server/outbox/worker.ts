import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/db.js';
import { open } from '../secrets.js';
import { backoffMs, DELIVERY_HEADER, sign, SIGNATURE_HEADER, TOPIC_HEADER } from './outbox.js';

export interface OutboxWorkerOptions {
  db: Db;
  logger: FastifyBaseLogger;
  /** City platform webhook (CITY_WEBHOOK_URL / CITY_WEBHOOK_SECRET); unset: city rows wait until it is configured. */
  city?: { url: string; secret: string };
  /** Key that opens api_keys.callback_secret_enc (deriveKey(secretKey, 'api-key-callback')). */
  callbackKey: Buffer;
  pollMs?: number;
  batchSize?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** A claimed row is invisible to other workers this long (a worker that dies mid-delivery loses it after this). */
  leaseMs?: number;
}

interface Row {
  id: number;
  topic: string;
  payload: unknown;
  attempts: number;
  destination: 'city' | 'api_key';
  api_key_id: string | null;
  created_at: Date | string;
}

type Target = { url: string; secret: string } | { error: string };

/**
 * Delivers outbox rows: claims due rows with FOR UPDATE SKIP LOCKED (several workers or nodes never take
 * the same row), leases them by pushing next_attempt_at forward, commits, then POSTs each one. 2xx marks the
 * row delivered; anything else (status, timeout, refused connection) schedules a retry with exponential
 * backoff and records last_error. Nothing is held open across the HTTP call, so PGlite's single connection
 * is never blocked by a slow receiver. Delivery is at-least-once: receivers deduplicate by X-StreetEye-Delivery.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private readonly log: FastifyBaseLogger;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly leaseMs: number;

  constructor(private readonly o: OutboxWorkerOptions) {
    this.log = o.logger.child({ module: 'outbox' });
    this.pollMs = o.pollMs ?? 1000;
    this.batchSize = o.batchSize ?? 20;
    this.baseDelayMs = o.baseDelayMs ?? 5000;
    this.maxDelayMs = o.maxDelayMs ?? 3_600_000;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.leaseMs = o.leaseMs ?? Math.max(60_000, this.timeoutMs * 3);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits for the batch in flight. Rows not delivered stay in the table for the next worker. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Looks for due rows now instead of at the next poll (e.g. right after a commit that wrote one). */
  kick(): void {
    if (this.stopped || this.running) return;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.runOnce()
        .then((n) => n)
        .catch((err) => { this.log.error({ err }, 'outbox poll failed'); return 0; })
        .then((n) => { this.running = null; this.schedule(n >= this.batchSize ? 0 : this.pollMs); });
    }, ms);
    this.timer.unref?.();
  }

  /** One claim-and-deliver round; returns how many rows it tried. */
  async runOnce(): Promise<number> {
    const rows = await this.o.db.tx(async (q) => (await q.query<Row>(
      `WITH due AS (
         SELECT id FROM outbox
          WHERE delivered_at IS NULL AND next_attempt_at <= now()
          ORDER BY next_attempt_at, id
          LIMIT $1
          FOR UPDATE SKIP LOCKED)
       UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision)
         FROM due WHERE o.id = due.id
       RETURNING o.id, o.topic, o.payload, o.attempts, o.destination, o.api_key_id, o.created_at`,
      [this.batchSize, this.leaseMs / 1000])).rows);
    await Promise.all(rows.map((row) => this.deliver(row)));
    return rows.length;
  }

  private async target(row: Row): Promise<Target> {
    if (row.destination === 'city') {
      return this.o.city ?? { error: 'CITY_WEBHOOK_URL is not configured; the hand-off waits until it is' };
    }
    const res = await this.o.db.query<{ callback_url: string | null; callback_secret_enc: string | null }>(
      'SELECT callback_url, callback_secret_enc FROM api_keys WHERE id = $1', [row.api_key_id]);
    const key = res.rows[0];
    if (!key?.callback_url || !key.callback_secret_enc) return { error: 'the API key has no callback URL' };
    return { url: key.callback_url, secret: open(this.o.callbackKey, key.callback_secret_enc) };
  }

  private async deliver(row: Row): Promise<void> {
    let status: number | null = null;
    let error: string | null = null;
    try {
      const target = await this.target(row);
      if ('error' in target) {
        error = target.error;
      } else {
        const createdAt = row.created_at instanceof Date ? row.created_at.toISOString() : new Date(row.created_at).toISOString();
        const body = JSON.stringify({ deliveryId: String(row.id), topic: row.topic, createdAt, data: row.payload });
        const res = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: sign(target.secret, body),
            [DELIVERY_HEADER]: String(row.id),
            [TOPIC_HEADER]: row.topic,
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = res.status;
        await res.body?.cancel().catch(() => {});
        if (res.status < 200 || res.status >= 300) error = `receiver answered HTTP ${res.status}`;
      }
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${(err as Error & { cause?: { code?: string } }).cause?.code ?? err.message}` : String(err);
    }
    if (!error) {
      await this.o.db.query('UPDATE outbox SET delivered_at = now(), last_error = NULL, last_status = $2 WHERE id = $1', [row.id, status]);
      this.log.info({ delivery: row.id, topic: row.topic, attempts: row.attempts }, 'outbox row delivered');
      return;
    }
    const delay = backoffMs(row.attempts, this.baseDelayMs, this.maxDelayMs);
    await this.o.db.query(
      `UPDATE outbox SET last_error = $2, last_status = $3, next_attempt_at = now() + make_interval(secs => $4::double precision) WHERE id = $1`,
      [row.id, error.slice(0, 500), status, delay / 1000]);
    this.log.warn({ delivery: row.id, topic: row.topic, attempts: row.attempts, retryInMs: delay, error }, 'outbox delivery failed; will retry');
  }
}
