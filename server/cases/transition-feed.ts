/**
 * Case transitions as a durable feed: the cases announce each step, followers (the 110 desk) act on it after the
 * case has committed, without the case service knowing who follows.
 *
 * The record of a transition is its case_history row, written in the case's own transaction, so nothing is lost
 * when the process dies between the commit and a follower's work. Each follower keeps a cursor (consumer_cursors:
 * the last history id it has handled) and, in one transaction, handles the rows after it and moves the cursor: a
 * row is handled once, whatever the crashes, however many nodes run the follower (they take turns on the cursor
 * row's lock).
 *
 * When it runs: at start (catching up after a restart), on every `case.updated` on the bus (this node's steps and,
 * through the bus bridge, other nodes'), and every pollMs in case a wake-up was missed. Routes that move a case
 * await settled() after publishing, so their reply shows what the followers did, as when the 110 desk was updated
 * inside the case's transaction.
 */
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/db.js';
import type { BusMessage } from '../bus.js';
import type { CaseAction, CaseSource, CaseStatus } from './case-types.js';

/** One step of one case, as its history row recorded it. */
export interface CaseTransition {
  /** case_history.id: the feed's position */
  historyId: number;
  caseId: string;
  caseNo: string;
  source: CaseSource;
  action: CaseAction;
  fromStatus: CaseStatus;
  toStatus: CaseStatus;
  note: string | null;
  /** the department in charge after this step (dispatch sets it, rework may change it, send_back clears it) */
  department: string | null;
  actor: { id: string | null; username: string };
  at: Date;
}

export interface TransitionFollower {
  /** its cursor in consumer_cursors */
  readonly name: string;
  /** only these steps reach handle() (the others still move the cursor) */
  readonly only?: { source?: CaseSource; actions?: CaseAction[] };
  /** Acts on steps, in history order, inside the feed's transaction. Returns what to publish once committed. */
  handle(q: Queryable, steps: CaseTransition[]): Promise<BusMessage[]>;
}

const BATCH = 200;

export class CaseTransitionFeed {
  private readonly followers: TransitionFollower[] = [];
  private readonly log: AppContext['logger'];
  private running?: Promise<void>;
  private again = false;
  private stopped = true;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(private readonly ctx: Pick<AppContext, 'db' | 'bus' | 'logger'>, private readonly pollMs = 30_000) {
    this.log = ctx.logger.child({ module: 'cases.transitions' });
  }

  /** Adds a follower (before start). */
  follow(f: TransitionFollower): void {
    this.followers.push(f);
  }

  async start(): Promise<void> {
    this.stopped = false;
    for (const f of this.followers) {
      // a follower added later starts from now (migrations create the cursors of followers that replace older code)
      await this.ctx.db.query(
        `INSERT INTO consumer_cursors (consumer, position) SELECT $1, coalesce(max(id), 0) FROM case_history ON CONFLICT (consumer) DO NOTHING`, [f.name]);
    }
    this.unsubscribe = this.ctx.bus.subscribe('case.updated', () => void this.wake());
    this.timer = setInterval(() => void this.wake(), this.pollMs);
    this.timer.unref();
    await this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs the followers over what is new (one run at a time; a wake-up during a run runs once more after it). */
  wake(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          try {
            await this.runOnce();
          } catch (err) {
            // the steps stay in the history: the next wake-up or poll tries again
            this.log.error({ err }, 'case transition followers failed; will retry');
          }
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Resolves when the followers have handled every step committed before the last wake-up. */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async runOnce(): Promise<void> {
    if (!this.followers.length) return;
    // History ids come from a sequence: a transaction still open may hold a lower id than one already committed,
    // and a cursor moved past it would skip it for good. SHARE mode waits for the transactions writing history to
    // finish (and holds new ones back for this instant): every id up to the max read here is final.
    const horizon = await this.ctx.db.tx(async (q) => {
      await q.query('LOCK TABLE case_history IN SHARE MODE');
      return Number((await q.query<{ h: string }>('SELECT coalesce(max(id), 0) AS h FROM case_history')).rows[0].h);
    });
    for (const f of this.followers) await this.catchUp(f, horizon);
  }

  private async catchUp(f: TransitionFollower, horizon: number): Promise<void> {
    for (;;) {
      const r = await this.ctx.db.tx(async (q) => {
        const cur = await q.query<{ position: string }>('SELECT position FROM consumer_cursors WHERE consumer = $1 FOR UPDATE', [f.name]);
        const from = Number(cur.rows[0]?.position ?? horizon);
        if (from >= horizon) return { messages: [], more: false };
        const steps = await transitionsBetween(q, from, horizon, f.only);
        const messages = steps.length ? await f.handle(q, steps) : [];
        const more = steps.length === BATCH;
        await q.query('UPDATE consumer_cursors SET position = $2, updated_at = now() WHERE consumer = $1',
          [f.name, String(more ? steps[steps.length - 1].historyId : horizon)]);
        return { messages, more };
      });
      for (const m of r.messages) this.ctx.bus.publish(m.topic, m.payload, m.cameraId);
      if (!r.more) return;
    }
  }
}

/** The steps after history id `after` up to `upTo`, oldest first (at most BATCH). */
async function transitionsBetween(q: Queryable, after: number, upTo: number, only: TransitionFollower['only'] = {}): Promise<CaseTransition[]> {
  const params: unknown[] = [String(after), String(upTo)];
  const where = ['h.id > $1', 'h.id <= $2', `h.action <> 'file'`];
  if (only.source) where.push(`c.source = $${params.push(only.source)}`);
  if (only.actions) where.push(`h.action = ANY($${params.push(only.actions)}::text[])`);
  const rows = await q.query<Omit<CaseTransition, 'actor' | 'historyId'> & { historyId: string; actorId: string | null; actorName: string | null }>(
    `SELECT h.id AS "historyId", h.case_id AS "caseId", c.case_no AS "caseNo", c.source, h.action, h.from_status AS "fromStatus",
            h.to_status AS "toStatus", h.note, h.at, h.actor_id AS "actorId", h.actor_name AS "actorName",
            (SELECT CASE WHEN x.action = 'send_back' THEN NULL ELSE x.detail->>'department' END FROM case_history x
              WHERE x.case_id = h.case_id AND x.id <= h.id
                AND (x.action IN ('dispatch', 'send_back') OR (x.action = 'rework' AND x.detail->>'department' IS NOT NULL))
              ORDER BY x.id DESC LIMIT 1) AS department
       FROM case_history h JOIN cases c ON c.id = h.case_id
      WHERE ${where.join(' AND ')} ORDER BY h.id LIMIT ${BATCH}`, params);
  return rows.rows.map(({ actorId, actorName, historyId, ...r }) => ({
    ...r, historyId: Number(historyId), at: new Date(r.at), actor: { id: actorId, username: actorName ?? '' },
  }));
}
