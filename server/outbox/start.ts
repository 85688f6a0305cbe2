import type { AppContext } from '../context.js';
import { deriveKey } from '../secrets.js';
import { CALLBACK_KEY_PURPOSE } from './outbox.js';
import { OutboxWorker } from './worker.js';

/**
 * Starts this node's outbox worker (API nodes and the all-in-one process) and stops it on shutdown. Several
 * nodes may run one each: FOR UPDATE SKIP LOCKED keeps them off each other's rows.
 */
export function startOutboxWorker(ctx: AppContext): OutboxWorker | null {
  if (ctx.config.role !== 'all' && ctx.config.role !== 'api') return null;
  const { cityWebhookUrl, cityWebhookSecret } = ctx.config;
  const worker = new OutboxWorker({
    db: ctx.db,
    logger: ctx.logger,
    city: cityWebhookUrl && cityWebhookSecret ? { url: cityWebhookUrl, secret: cityWebhookSecret } : undefined,
    callbackKey: deriveKey(ctx.secretKey, CALLBACK_KEY_PURPOSE),
  });
  worker.start();
  ctx.onShutdown.push(() => worker.stop());
  return worker;
}
