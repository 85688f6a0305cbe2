/**
 * Alarm state and pull-point subscriptions of one simulated camera, independent of SOAP (event-service.ts
 * renders it). Two boolean properties, motion and tamper; every subscription has a bounded queue of
 * notifications and at most one pending PullMessages (a long poll).
 *
 * Nothing runs on its own: expiry is checked when a subscription is used or counted, and the only timers
 * are those of pending long polls (each ends at its Timeout, or earlier when a message arrives, the
 * subscription goes away or the simulator stops). An idle camera with live subscriptions costs nothing.
 */
import { parseDateTimeMs, parseDurationMs } from './soap-xml.js';

export type AlarmKind = 'motion' | 'tamper';
export const ALARM_KINDS: readonly AlarmKind[] = ['motion', 'tamper'];

/** What `sim.alarms(id)` and the control API's GET /cameras/:id/alarms return. */
export interface AlarmSnapshot {
  motion: boolean;
  tamper: boolean;
  /** Live (not expired, not unsubscribed) pull-point subscriptions. */
  subscriptions: number;
  /** PullMessages answered so far (with messages or empty); faults are not counted. */
  pulls: number;
}

export interface EventMessage {
  kind: AlarmKind;
  state: boolean;
  /** ms since the epoch (the message's UtcTime). */
  at: number;
  /** Initialized: the present state, sent to a new subscription (and on SetSynchronizationPoint); Changed: a change. */
  op: 'Initialized' | 'Changed';
}

/** Per subscription; the oldest messages are dropped beyond it (a client that stopped pulling cannot grow memory). */
export const MAX_QUEUE = 100;
/** CreatePullPointSubscription without InitialTerminationTime. */
export const DEFAULT_TERMINATION_MS = 60_000;
/** Longer requested lifetimes are granted this long (the reply says so; WS-BaseNotification lets the producer choose). */
export const MAX_TERMINATION_MS = 3_600_000;
/** Per camera: a client that leaks subscriptions meets a fault instead of growing the simulator. */
export const MAX_SUBSCRIPTIONS = 64;
/** PullMessages Timeout above this is refused (PullMessagesFaultResponse carries it). */
export const MAX_PULL_TIMEOUT_MS = 300_000;
/** MessageLimit above this is served as this (a limit is only an upper bound, so no fault). */
export const MAX_MESSAGE_LIMIT = MAX_QUEUE;

/**
 * A request the event service refuses: `subcode` is the SOAP fault subcode (a QName the envelope declares),
 * `detailXml` optional s:Detail content.
 */
export class EventError extends Error {
  constructor(
    readonly subcode: string,
    message: string,
    readonly receiver = false,
    readonly detailXml?: string,
  ) {
    super(message);
  }
}

export const resourceUnknown = (id: number | string) => new EventError('wsrf-rw:ResourceUnknownFault', `no subscription ${id} (expired or unsubscribed): subscribe again`);

/**
 * Absolute termination time for CreatePullPointSubscription (InitialTerminationTime) or Renew (TerminationTime):
 * an xs:duration from now or an xs:dateTime; missing = the default; beyond the maximum = the maximum.
 * Throws `faultCode` (the WS-BaseNotification fault of the operation) for a malformed or past time.
 */
export function terminationTime(text: string | undefined, now: number, faultCode: string): number {
  if (text === undefined || text.trim() === '') return now + DEFAULT_TERMINATION_MS;
  const t = text.trim();
  const d = t.startsWith('P') ? parseDurationMs(t) : undefined;
  const at = d !== undefined ? now + d : parseDateTimeMs(t);
  if (at === undefined) throw new EventError(faultCode, `termination time ${JSON.stringify(t)} is neither an xs:duration nor an xs:dateTime`);
  if (at <= now) throw new EventError(faultCode, `termination time ${t} is not in the future`);
  return Math.min(at, now + MAX_TERMINATION_MS);
}

/** Why a pending PullMessages ended. */
export type WakeReason =
  | 'messages' // something is queued: answer with it
  | 'timeout' // its Timeout (or the subscription's termination time) passed: answer, maybe empty
  | 'replaced' // a newer PullMessages on the same subscription took over: answer this one empty
  | 'shutdown' // the simulator stops: answer at once, never make a client wait for its Timeout
  | 'unsubscribed' // the subscription is gone: fault
  | 'reset' // offline fault: reset the connection, as the camera's other connections are
  | 'hang' // stall fault: never answer, like every other request to a stalled camera
  | 'aborted'; // the client closed the connection: nothing to answer

interface Waiter {
  finish(reason: WakeReason): void;
}

export class Subscription {
  private queue: EventMessage[] = [];
  waiter?: Waiter;
  /** Messages dropped because the queue was full. */
  dropped = 0;

  constructor(
    readonly id: number,
    public terminationAt: number,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  push(m: EventMessage): void {
    this.queue.push(m);
    if (this.queue.length > MAX_QUEUE) {
      this.queue.shift();
      this.dropped++;
    }
  }

  /** The oldest `limit` messages, removed from the queue. */
  take(limit: number): EventMessage[] {
    return this.queue.splice(0, Math.max(0, limit));
  }

  end(reason: WakeReason): void {
    this.waiter?.finish(reason);
  }
}

export class CameraEvents {
  private readonly state: Record<AlarmKind, boolean> = { motion: false, tamper: false };
  private readonly subs = new Map<number, Subscription>();
  private nextId = 1;
  private closed = false;
  pulls = 0;

  alarm(kind: AlarmKind): boolean {
    return this.state[kind];
  }

  /** A new subscription, primed with the present state of both properties (ONVIF: "Initialized"). */
  subscribe(terminationAt: number, now = Date.now()): Subscription {
    this.prune(now);
    if (this.subs.size >= MAX_SUBSCRIPTIONS)
      throw new EventError('wsnt:SubscribeCreationFailedFault', `too many subscriptions (${MAX_SUBSCRIPTIONS}); unsubscribe or let some expire`, true);
    const sub = new Subscription(this.nextId++, terminationAt);
    this.subs.set(sub.id, sub);
    this.synchronize(sub, now);
    return sub;
  }

  /** The live subscription `id`; throws ResourceUnknownFault when it never existed, expired or was unsubscribed. */
  get(id: number, now = Date.now()): Subscription {
    const sub = this.subs.get(id);
    if (sub && sub.terminationAt <= now) this.drop(sub);
    else if (sub) return sub;
    throw resourceUnknown(id);
  }

  unsubscribe(id: number, now = Date.now()): void {
    this.drop(this.get(id, now));
  }

  /** SetSynchronizationPoint: queue the present state again, as Initialized messages. */
  synchronize(sub: Subscription, now = Date.now()): void {
    for (const kind of ALARM_KINDS) sub.push({ kind, state: this.state[kind], at: now, op: 'Initialized' });
    sub.end('messages');
  }

  /** Change an alarm; a change queues a Changed message on every live subscription and wakes its poll. Returns whether it changed. */
  set(kind: AlarmKind, active: boolean, now = Date.now()): boolean {
    if (this.state[kind] === active) return false;
    this.state[kind] = active;
    this.prune(now);
    for (const sub of this.subs.values()) {
      sub.push({ kind, state: active, at: now, op: 'Changed' });
      sub.end('messages');
    }
    return true;
  }

  /**
   * Long poll: resolves when `sub` has a message, at `deadline` (capped at the subscription's termination
   * time, so an expiring subscription never holds a connection), or when something ends the poll. A second
   * poll on the same subscription ends the first one ('replaced'): a client that gave up on a poll must not
   * have its messages answered into a dead connection.
   */
  wait(sub: Subscription, deadline: number, signal?: AbortSignal, now = Date.now()): Promise<WakeReason> {
    sub.end('replaced');
    if (this.closed) return Promise.resolve('shutdown');
    if (this.subs.get(sub.id) !== sub) return Promise.resolve('unsubscribed');
    if (sub.queued > 0) return Promise.resolve('messages');
    const until = Math.min(deadline, sub.terminationAt);
    if (until <= now || signal?.aborted) return Promise.resolve(signal?.aborted ? 'aborted' : 'timeout');
    return new Promise<WakeReason>((resolve) => {
      const onAbort = () => waiter.finish('aborted');
      const timer = setTimeout(() => waiter.finish('timeout'), until - now);
      const waiter: Waiter = {
        finish: (reason) => {
          if (sub.waiter !== waiter) return;
          sub.waiter = undefined;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(reason);
        },
      };
      sub.waiter = waiter;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** End every pending poll (offline → 'reset', stall → 'hang'); subscriptions stay. */
  endPolls(reason: 'reset' | 'hang'): void {
    for (const sub of this.subs.values()) sub.end(reason);
  }

  /** Simulator stopping: pending and later polls are answered at once. */
  shutdown(): void {
    this.closed = true;
    for (const sub of this.subs.values()) sub.end('shutdown');
  }

  snapshot(now = Date.now()): AlarmSnapshot {
    this.prune(now);
    return { motion: this.state.motion, tamper: this.state.tamper, subscriptions: this.subs.size, pulls: this.pulls };
  }

  private drop(sub: Subscription): void {
    this.subs.delete(sub.id);
    sub.end('unsubscribed');
  }

  /** Lazy expiry: runs whenever subscriptions are counted or fanned out to. */
  private prune(now: number): void {
    for (const sub of this.subs.values()) if (sub.terminationAt <= now) this.drop(sub);
  }
}
