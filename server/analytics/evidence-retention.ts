/**
 * Evidence retention: the snapshots and clips of rejected and expired candidates are removed after N days, so a
 * busy city's evidence volume does not fill with false alarms. Confirmed events' evidence belongs to their case and
 * is kept; pending events are never touched. The event rows stay (per-rule precision counts them) with
 * `evidence_purged_at` set, and the evidence routes say the files were removed by the retention policy.
 *
 * Runs on the nodes that write evidence (role all / analytics). Several of them sharing one evidence volume split
 * the work with FOR UPDATE SKIP LOCKED; a file already gone counts as removed.
 */
import { rm, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import { claimPurgeableEvidence, markEvidencePurged } from '../review/events-repo.js';

export interface EvidenceRetentionOptions {
  db: Db;
  evidenceDir: string;
  /** 0 = keep forever (the sweeper does not start) */
  days: number;
  logger: Logger;
  /** between sweeps (default 1 h); the first one runs a minute after start */
  everyMs?: number;
  firstAfterMs?: number;
  /** events per transaction */
  batch?: number;
}

export interface SweepResult {
  events: number;
  files: number;
  bytes: number;
}


export class EvidenceRetention {
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: EvidenceRetentionOptions) {
    this.log = o.logger.child({ module: 'analytics.retention' });
  }

  start(): void {
    if (this.o.days <= 0) {
      this.log.info('evidence of rejected events is kept forever (evidenceRetentionDays = 0)');
      return;
    }
    const every = this.o.everyMs ?? 3_600_000;
    const tick = (delay: number) => {
      this.timer = setTimeout(() => {
        this.running = this.sweep()
          .catch((err) => this.log.warn({ err }, 'evidence retention sweep failed; trying again later'))
          .finally(() => { if (!this.stopped) tick(every); });
      }, delay);
      this.timer.unref();
    };
    tick(this.o.firstAfterMs ?? 60_000);
    this.log.info({ days: this.o.days }, 'evidence retention started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Removes what is due now, batch by batch, until nothing is left (or the node stops). */
  async sweep(): Promise<SweepResult> {
    const total: SweepResult = { events: 0, files: 0, bytes: 0 };
    const batch = this.o.batch ?? 200;
    for (;;) {
      const r = await this.o.db.tx(async (q) => {
        const rows = await claimPurgeableEvidence(q, this.o.days, batch);
        const done: SweepResult = { events: rows.length, files: 0, bytes: 0 };
        for (const row of rows) {
          for (const rel of [row.evidence_jpeg, row.evidence_frame, row.evidence_clip]) {
            const removed = rel ? await this.remove(rel) : null;
            if (removed !== null) {
              done.files++;
              done.bytes += removed;
            }
          }
        }
        // the files go before the paths: a crash in between leaves paths to missing files (404), never orphaned files
        if (rows.length) await markEvidencePurged(q, rows.map((x) => x.id));
        return done;
      });
      total.events += r.events;
      total.files += r.files;
      total.bytes += r.bytes;
      if (r.events < batch || this.stopped) break;
    }
    if (total.events) this.log.info({ ...total, days: this.o.days }, 'evidence of old rejected events removed');
    return total;
  }

  /** Bytes freed, or null when the file was not there (or outside the evidence directory). */
  private async remove(relative: string): Promise<number | null> {
    const root = resolve(this.o.evidenceDir);
    const file = resolve(root, relative);
    if (!file.startsWith(root + sep)) return null;
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return null;
    await rm(file, { force: true });
    return st.size;
  }
}
