import pg from 'pg';
import { BUS_TOPICS, type Bus, type BusMessage } from '../bus.js';

const CHANNEL = 'streeteye_bus';
// NOTIFY payloads are limited to 8000 bytes; larger messages carry a pointer instead (none do today).
const MAX_PAYLOAD = 7900;

type Envelope = BusMessage & { origin: string };

/**
 * Carries bus messages between processes through PostgreSQL LISTEN/NOTIFY, so every console sees
 * every node's events. Messages a node receives from others are re-emitted locally only, never
 * forwarded again. The listening connection reconnects with backoff.
 */
export class PgBusBridge {
  private client?: pg.Client;
  private unsubscribe?: () => void;
  private stopped = false;
  private retryMs = 500;
  private readonly pool: pg.Pool;

  constructor(
    private readonly connectionString: string,
    private readonly bus: Bus,
    private readonly nodeId: string,
    private readonly logger: { warn(o: object, m: string): void; info(o: object, m: string): void },
  ) {
    this.pool = new pg.Pool({ connectionString, max: 2 });
    this.pool.on('error', () => {});
  }

  async start(): Promise<void> {
    this.unsubscribe = this.bus.subscribe((msg) => {
      if (msg.origin) return;
      const text = JSON.stringify({ ...msg, origin: this.nodeId } satisfies Envelope);
      if (Buffer.byteLength(text) > MAX_PAYLOAD) {
        this.logger.warn({ topic: msg.topic, bytes: Buffer.byteLength(text) }, 'bus message too large for NOTIFY; delivered locally only');
        return;
      }
      this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, text]).catch((err) => this.logger.warn({ err: err.message }, 'bus notify failed'));
    });
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (n) => {
      if (!n.payload) return;
      try {
        const env = JSON.parse(n.payload) as Envelope;
        if (env.origin === this.nodeId) return;
        // a topic this node's version does not declare has no subscriber that could read it
        if (!BUS_TOPICS.has(env.topic)) return;
        this.bus.deliver(env);
      } catch {
        /* not ours */
      }
    });
    const retry = () => {
      client.removeAllListeners('error');
      client.removeAllListeners('end');
      if (this.stopped) return;
      const wait = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
      setTimeout(() => void this.connect(), wait).unref();
    };
    client.on('error', (err) => { this.logger.warn({ err: err.message }, 'bus listener lost its connection'); client.end().catch(() => {}); });
    client.on('end', retry);
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.client = client;
      this.retryMs = 500;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'bus listener cannot connect; retrying');
      client.end().catch(() => {});
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.client?.end().catch(() => {});
    await this.pool.end().catch(() => {});
  }
}
