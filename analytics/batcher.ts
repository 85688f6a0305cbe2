import type { Logger } from 'pino';
import type { Detector } from './detector.js';
import type { Detection } from './types.js';

export interface BatcherOptions {
  /** Most images per session.run; capped by the model's own batch axis (1 for both shipped models). */
  maxBatch: number;
  /** How long the first queued image waits for company, ms. 0 = whatever arrived in the same tick. */
  maxWaitMs: number;
}

interface Job {
  input: Float32Array;
  resolve: (d: Detection[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Funnels the crops of all cameras into one detector, one run at a time (concurrent runs on 2 cores only
 * fight over the same threads), in batches of up to maxBatch when the model's batch axis allows it.
 * While a run is in flight, other cameras keep preprocessing (sharp works on libuv threads).
 */
export class InferenceBatcher {
  private queue: Job[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly stats = { runs: 0, images: 0 };
  private readonly log: Logger;

  constructor(
    private readonly detector: Detector,
    private readonly opts: BatcherOptions,
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'analytics.batcher', model: detector.manifest.id });
  }

  get effectiveBatch(): number {
    return Math.max(1, Math.min(this.opts.maxBatch, this.detector.maxBatch));
  }

  submit(input: Float32Array): Promise<Detection[]> {
    if (this.stopped) return Promise.reject(new Error('batcher stopped'));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    if (this.queue.length >= this.effectiveBatch || this.opts.maxWaitMs <= 0) {
      setImmediate(() => void this.flush());
      this.running = true;
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = true;
      void this.flush();
    }, this.opts.maxWaitMs);
  }

  private async flush(): Promise<void> {
    const jobs = this.queue.splice(0, this.effectiveBatch);
    if (jobs.length) {
      try {
        const results = await this.detector.detect(jobs.map((j) => j.input));
        jobs.forEach((j, i) => j.resolve(results[i]));
        this.stats.runs++;
        this.stats.images += jobs.length;
      } catch (err) {
        this.log.error({ err }, 'inference failed');
        for (const j of jobs) j.reject(err);
      }
    }
    this.running = false;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queue.length) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const j of this.queue.splice(0)) j.reject(new Error('batcher stopped'));
  }
}
