/**
 * Camera alarms over ONVIF events (pull-point subscriptions), with the defensive habits of client.ts: every SOAP
 * call settles once and is bounded, and nothing the package throws reaches the process.
 *
 * One OnvifEventStream per camera: subscribe, long-poll PullMessages (the package always asks the camera to wait up
 * to a minute), renew before the subscription ends, and on any failure subscribe again after a backoff. A new
 * subscription starts with the camera's present state (ONVIF "Initialized" messages), so a restart or a reconnect
 * never leaves an alarm open that the camera has cleared meanwhile.
 */
import { EventEmitter } from 'node:events';
import type { Cam as CamType } from 'onvif';
import { makeCam, onvifCall, type OnvifCallError, type OnvifTarget } from './client.js';

export type CameraAlarmKind = 'motion' | 'tamper' | 'video_loss' | 'other';

export interface OnvifAlarm {
  kind: CameraAlarmKind;
  /** the ONVIF topic, e.g. tns1:VideoSource/MotionAlarm */
  topic: string;
  /** the state the camera reports (null: an event without a boolean state) */
  active: boolean | null;
  at: Date;
  /** present state sent on subscribing (not a change) */
  initial: boolean;
}

/** Which of the alarms a command center cares about a topic is (vendors spell them differently). */
export function classifyTopic(topic: string): CameraAlarmKind {
  const t = topic.toLowerCase();
  if (/globalscenechange|tamper|tampering|scenechange|occlu|blind/.test(t)) return 'tamper';
  if (/signalloss|videoloss|video_loss/.test(t)) return 'video_loss';
  if (/motionalarm|motiondetect|cellmotion|\/motion/.test(t)) return 'motion';
  return 'other';
}

const asArray = <T>(v: T | T[] | undefined | null): T[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

type SimpleItem = { $?: { Name?: unknown; Value?: unknown } };
const STATE_NAMES = /^(state|ismotion|istamper|logicalstate|active|alarm)$/i;

/** NotificationMessages of a PullMessages reply as the package hands them over (xml2js + linerase). */
export function parseNotifications(reply: unknown, now = new Date()): OnvifAlarm[] {
  const out: OnvifAlarm[] = [];
  const messages = asArray((reply as { notificationMessage?: unknown } | null)?.notificationMessage);
  for (const m of messages as Array<{ topic?: { _?: unknown } | string; message?: { message?: { $?: Record<string, unknown>; data?: { simpleItem?: SimpleItem | SimpleItem[] } } } }>) {
    const topic = typeof m?.topic === 'string' ? m.topic : typeof m?.topic?._ === 'string' ? m.topic._ : null;
    if (!topic) continue;
    const body = m.message?.message;
    const attrs = body?.$ ?? {};
    const stateItem = asArray(body?.data?.simpleItem).find((s) => typeof s?.$?.Name === 'string' && STATE_NAMES.test(s.$.Name as string));
    const v = stateItem?.$?.Value;
    const active = v === true || v === 'true' || v === 1 || v === '1' ? true : v === false || v === 'false' || v === 0 || v === '0' ? false : null;
    const utc = attrs.UtcTime;
    const at = utc instanceof Date && Number.isFinite(utc.getTime()) ? utc : typeof utc === 'string' && Number.isFinite(Date.parse(utc)) ? new Date(utc) : now;
    out.push({ kind: classifyTopic(topic), topic: topic.trim(), active, at, initial: attrs.PropertyOperation === 'Initialized' });
  }
  return out;
}

export type EventStreamState = 'connecting' | 'subscribed' | 'retrying' | 'unsupported' | 'stopped';

export interface EventStreamOptions {
  target: OnvifTarget;
  /** backoff between failed attempts (ms); the last one repeats */
  backoffMs?: number[];
  log?: { warn(o: object, m: string): void; debug?(o: object, m: string): void };
}

/**
 * Events: 'alarm' (OnvifAlarm), 'state' (EventStreamState, reason | null).
 * The package's pull waits up to 60 s at the camera: stop() does not wait for it; its answer is dropped.
 */
export class OnvifEventStream extends EventEmitter {
  state: EventStreamState = 'connecting';
  reason: string | null = null;
  private stopped = false;
  private cam: CamType | null = null;
  private wake: (() => void) | null = null;
  private readonly backoff: number[];

  constructor(private readonly o: EventStreamOptions) {
    super();
    this.backoff = o.backoffMs ?? [2000, 5000, 10_000, 30_000, 60_000];
  }

  start(): void {
    void this.run();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    const cam = this.cam;
    this.setState('stopped', null);
    // best effort: free the camera's subscription slot now instead of at its termination time
    if (cam?.events?.subscription) await this.call(cam, 2000, (cb) => cam.unsubscribe(cb)).catch(() => {});
  }

  private setState(state: EventStreamState, reason: string | null): void {
    if (this.state === state && this.reason === reason) return;
    this.state = state;
    this.reason = reason;
    this.emit('state', state, reason);
  }

  private call<T>(cam: CamType, timeoutMs: number, invoke: (cb: (err: Error | null, data?: T) => void) => void): Promise<T> {
    return onvifCall<T>(cam, timeoutMs, this.where(), invoke);
  }

  private where(): string {
    try {
      return new URL(this.o.target.xaddr).host;
    } catch {
      return this.o.target.xaddr;
    }
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref();
      this.wake = () => { clearTimeout(t); resolve(); };
    });
    this.wake = null;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.session(() => { failures = 0; });
      } catch (err) {
        if (this.stopped) return;
        const e = err as OnvifCallError;
        if (this.state === 'unsupported') return;
        this.setState('retrying', e.message ?? String(err));
        this.o.log?.warn({ err: e.message }, 'camera events: subscription failed; subscribing again after a pause');
      }
      if (this.stopped) return;
      await this.sleep(this.backoff[Math.min(failures++, this.backoff.length - 1)]);
    }
  }

  /** One subscription from creation until it fails (throws) or the stream stops (returns). */
  private async session(onSubscribed: () => void): Promise<void> {
    const timeoutMs = this.o.target.callTimeoutMs ?? 4000;
    const { cam } = makeCam(this.o.target, timeoutMs);
    this.cam = cam;
    // WS-Security timestamps use the camera's clock, learnt here
    await this.call(cam, timeoutMs, (cb) => cam.getSystemDateAndTime(cb));
    await this.call(cam, timeoutMs, (cb) => cam.getCapabilities(cb));
    if (!cam.uri?.events) {
      this.setState('unsupported', 'the camera has no ONVIF event service');
      throw new Error('unsupported');
    }
    await this.call(cam, timeoutMs, (cb) => cam.createPullPointSubscription(cb));
    if (this.stopped) return;
    this.setState('subscribed', null);
    onSubscribed();
    // the package subscribes and renews for 2 minutes and a pull may wait a minute: renewing once 30 s have passed
    // since the last renewal lands every renewal within 90 s, well inside the subscription
    let renewAt = Date.now() + 30_000;
    while (!this.stopped) {
      // the package asks the camera to hold the pull up to 60 s and gives the socket 80 s
      const reply = await this.call<unknown>(cam, 85_000, (cb) => cam.pullMessages({ messageLimit: 50 }, cb));
      if (this.stopped) return;
      for (const alarm of parseNotifications(reply)) this.emit('alarm', alarm);
      if (Date.now() >= renewAt) {
        await this.call(cam, timeoutMs, (cb) => cam.renew({}, cb));
        renewAt = Date.now() + 30_000;
      }
    }
  }
}
