/**
 * ONVIF events against the real `onvif` npm client: the event service in GetServices/GetCapabilities on
 * every camera, event properties, pull-point subscriptions (Initialized state first, Changed on setAlarm,
 * long polls woken at once), renew, unsubscribe, expiry, faults, auth, the client's own event loop, faults
 * of the camera (offline) during a poll, the control API, and stop() answering a pending poll.
 * The client always asks for a 60 s poll: every wait here is ended by the simulator, never by that Timeout.
 */
import { parse as parseUrl } from 'node:url';
import type { Cam } from 'onvif';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimCameraInfo, type Simulator } from './index.js';
import { call, onvifConnect, testCacheDir } from './test-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Far below the client's 60 s poll: "answered at once" without betting on the machine's speed. */
const PROMPT_MS = 10_000;

let sim: Simulator;
let stopped = false;
let domeInfo: SimCameraInfo;
let fixedInfo: SimCameraInfo;
let cam: Cam;

beforeAll(async () => {
  sim = await startSimulator({
    cameras: 2, // cam001 is a PTZ dome (default ptzEvery 4), cam002 a fixed camera: both have events
    dataDir: testCacheDir,
    mainSize: { width: 320, height: 180 },
    subSize: { width: 160, height: 90 },
    labelledCameras: 0, // the shared encode ptz.test.ts uses too
    controlPort: 0,
    discoveryMulticast: false,
    logger: pino({ level: 'silent' }),
  });
  [domeInfo, fixedInfo] = sim.cameras();
  cam = await connected(domeInfo);
});

afterAll(async () => {
  if (!stopped) await sim?.stop();
});

const eventUrl = (c: SimCameraInfo) => c.onvifUrl.replace(/device_service$/, 'event_service');

/** GetSystemDateAndTime (WS-Security timestamps), GetServices, profiles; then GetCapabilities, as a server does. */
async function connected(info: SimCameraInfo): Promise<Cam> {
  const c = await onvifConnect(info);
  expect(c.err).toBeUndefined();
  await call((cb) => c.cam.getCapabilities(cb as never));
  return c.cam;
}

interface SimpleItem {
  $: { Name: string; Value: unknown };
}
/** One NotificationMessage as the client hands it over (xml2js without namespaces, then linerase). */
interface Notification {
  topic: { _: string; $: { Dialect: string } };
  message: { message: { $: { UtcTime: Date; PropertyOperation: string }; source: { simpleItem: SimpleItem }; data: { simpleItem: SimpleItem } } };
}
interface PullReply {
  currentTime: Date;
  terminationTime: Date;
  /** Absent for no message, an object for one, an array for several (linerase unwraps single-element arrays). */
  notificationMessage?: Notification | Notification[];
}
interface Subscription {
  subscriptionReference: { address: { href: string } };
  currentTime: Date;
  terminationTime: Date;
}

const subscribe = (c = cam) => call<Subscription>((cb) => c.createPullPointSubscription(cb as never));
const pull = (c = cam) => call<PullReply>((cb) => c.pullMessages({ messageLimit: 10 }, cb as never));
const list = (r: PullReply) => (r.notificationMessage === undefined ? [] : Array.isArray(r.notificationMessage) ? r.notificationMessage : [r.notificationMessage]);
/** [topic, PropertyOperation, State] of each message, plus checks every message must pass. */
const summary = (r: PullReply) =>
  list(r).map((n) => {
    expect(n.topic.$.Dialect).toBe('http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet');
    expect(n.message.message.source.simpleItem.$).toEqual({ Name: 'Source', Value: 'vs_1' });
    expect(n.message.message.data.simpleItem.$.Name).toBe('State');
    expect(n.message.message.$.UtcTime).toBeInstanceOf(Date);
    return [n.topic._, n.message.message.$.PropertyOperation, n.message.message.data.simpleItem.$.Value];
  });
const MOTION = 'tns1:VideoSource/MotionAlarm';
const TAMPER = 'tns1:VideoSource/GlobalSceneChange/ImagingService';

/** A pull that is pending at the camera: started, given time to arrive, and checked to be still unanswered. */
async function pendingPull(c = cam): Promise<{ reply: Promise<PullReply>; answered: () => boolean }> {
  let done = false;
  const reply = pull(c);
  reply.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(300);
  expect(done).toBe(false);
  return { reply, answered: () => done };
}

/** A SOAP request the client cannot make (it hard-codes PT2M and PT1M), with its WS-Security header. */
async function raw(url: string, body: string, c = cam): Promise<{ status: number; xml: string }> {
  const priv = c as unknown as { _envelopeHeader(): string; _envelopeFooter(): string };
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, body: priv._envelopeHeader() + body + priv._envelopeFooter() });
  return { status: r.status, xml: await r.text() };
}
const address = (xml: string) => /<wsa:Address>([^<]+)<\/wsa:Address>/.exec(xml)![1];
/** Point the client at a subscription it did not create (or one it forgot on Unsubscribe). */
const useSubscription = (c: Cam, addr: string) => (c.events.subscription = { subscriptionReference: { address: parseUrl(addr) } });

describe('the event service', () => {
  it('is advertised by every camera (GetServices and GetCapabilities) with its topics and capabilities', async () => {
    for (const info of [domeInfo, fixedInfo]) {
      const c = info === domeInfo ? cam : await connected(info);
      expect(c.uri?.events?.href).toBe(eventUrl(info));
      expect(c.services?.find((s) => s.namespace === 'http://www.onvif.org/ver10/events/wsdl')?.XAddr).toBe(eventUrl(info));
      const caps = await call<{ events?: { XAddr: string; WSPullPointSupport: boolean; WSSubscriptionPolicySupport: boolean; WSPausableSubscriptionManagerInterfaceSupport: boolean } }>((cb) =>
        c.getCapabilities(cb as never),
      );
      expect(caps.events).toEqual({ XAddr: eventUrl(info), WSSubscriptionPolicySupport: false, WSPullPointSupport: true, WSPausableSubscriptionManagerInterfaceSupport: false });
    }
    const props = await call<{ topicSet: { videoSource: Record<string, unknown> }; fixedTopicSet: boolean }>((cb) => cam.getEventProperties(cb as never));
    expect(props.fixedTopicSet).toBe(true);
    const description = {
      $: { IsProperty: true },
      source: { simpleItemDescription: { $: { Name: 'Source', Type: 'tt:ReferenceToken' } } },
      data: { simpleItemDescription: { $: { Name: 'State', Type: 'xs:boolean' } } },
    };
    expect(props.topicSet.videoSource).toEqual({
      motionAlarm: { $: { 'wstop:topic': true }, messageDescription: description },
      globalSceneChange: { imagingService: { $: { 'wstop:topic': true }, messageDescription: description } },
    });
    const svc = await call<Record<string, unknown>>((cb) => (cam as unknown as { getEventServiceCapabilities(cb: unknown): void }).getEventServiceCapabilities(cb));
    expect(svc).toMatchObject({ WSPullPointSupport: true, WSSubscriptionPolicySupport: false, MaxPullPoints: 64 });
  });

  it('subscribes and first delivers the present state of both alarms (Initialized)', async () => {
    const before = sim.alarms(domeInfo.id);
    const s = await subscribe();
    expect(s.subscriptionReference.address.href).toMatch(new RegExp(`^${eventUrl(domeInfo).replace(/event_service$/, 'pullpoint/')}\\d+$`));
    expect(s.terminationTime.getTime() - s.currentTime.getTime()).toBe(120_000); // the client's PT2M
    expect(sim.alarms(domeInfo.id)).toEqual({ ...before, subscriptions: before.subscriptions + 1 });
    const first = await pull();
    expect(Array.isArray(first.notificationMessage)).toBe(true); // several messages: an array
    expect(summary(first)).toEqual([
      [MOTION, 'Initialized', false],
      [TAMPER, 'Initialized', false],
    ]);
    expect(first.terminationTime).toEqual(s.terminationTime);
    expect(sim.alarms(domeInfo.id).pulls).toBe(before.pulls + 1);
  });

  it('answers a pending PullMessages at once when tamper is raised (one message: an object)', async () => {
    const { reply } = await pendingPull();
    const t0 = Date.now();
    sim.setAlarm(domeInfo.id, 'tamper', true);
    const r = await reply;
    expect(Date.now() - t0).toBeLessThan(PROMPT_MS);
    expect(Array.isArray(r.notificationMessage)).toBe(false);
    expect(summary(r)).toEqual([[TAMPER, 'Changed', true]]);
    expect(sim.alarms(domeInfo.id)).toMatchObject({ motion: false, tamper: true });
  });

  it('does the same for motion, and a repeated state makes no duplicate', async () => {
    const { reply } = await pendingPull();
    const t0 = Date.now();
    sim.setAlarm(domeInfo.id, 'motion', true);
    sim.setAlarm(domeInfo.id, 'motion', true);
    expect(summary(await reply)).toEqual([[MOTION, 'Changed', true]]);
    expect(Date.now() - t0).toBeLessThan(PROMPT_MS);
    // Changes made while nobody polls wait in the queue, in order, and come in one reply.
    sim.setAlarm(domeInfo.id, 'motion', true);
    sim.setAlarm(domeInfo.id, 'motion', false);
    sim.setAlarm(domeInfo.id, 'tamper', false);
    sim.setAlarm(domeInfo.id, 'tamper', false);
    expect(summary(await pull())).toEqual([
      [MOTION, 'Changed', false],
      [TAMPER, 'Changed', false],
    ]);
  });

  it('answers no messages when nothing happened (a second poll on the subscription ends the first)', async () => {
    const { reply } = await pendingPull();
    const addr = cam.events.subscription.subscriptionReference.address.href as string;
    const now = await raw(addr, '<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT0S</Timeout><MessageLimit>10</MessageLimit></PullMessages>');
    expect(now.status).toBe(200);
    expect(now.xml).not.toContain('NotificationMessage');
    const r = await reply; // replaced: answered empty at once
    expect(r.notificationMessage).toBeUndefined();
    expect(r.currentTime).toBeInstanceOf(Date);
    expect(r.terminationTime).toBeInstanceOf(Date);
  });

  it('renews (the client asks for PT2M; an absolute time works too) and re-sends the state on SetSynchronizationPoint', async () => {
    const renewed = await call<{ terminationTime: Date; currentTime: Date }>((cb) => cam.renew({}, cb as never));
    expect(renewed.terminationTime.getTime() - renewed.currentTime.getTime()).toBe(120_000);
    const addr = cam.events.subscription.subscriptionReference.address.href as string;
    const until = new Date(Date.now() + 300_000).toISOString();
    const r = await raw(addr, `<Renew xmlns="http://docs.oasis-open.org/wsn/b-2"><TerminationTime>${until}</TerminationTime></Renew>`);
    expect(r.status).toBe(200);
    expect(r.xml).toContain(`<wsnt:TerminationTime>${until}</wsnt:TerminationTime>`);
    sim.setAlarm(domeInfo.id, 'tamper', true);
    expect(summary(await pull())).toEqual([[TAMPER, 'Changed', true]]);
    expect((await raw(addr, '<SetSynchronizationPoint xmlns="http://www.onvif.org/ver10/events/wsdl"/>')).status).toBe(200);
    expect(summary(await pull())).toEqual([
      [MOTION, 'Initialized', false],
      [TAMPER, 'Initialized', true],
    ]);
    sim.setAlarm(domeInfo.id, 'tamper', false);
    expect(summary(await pull())).toEqual([[TAMPER, 'Changed', false]]);
  });

  it('unsubscribes: the pending poll ends with ResourceUnknownFault at once, and so does the next one', async () => {
    const addr = cam.events.subscription.subscriptionReference.address.href as string;
    const other = await connected(domeInfo);
    useSubscription(other, addr);
    const { reply } = await pendingPull(other);
    const live = sim.alarms(domeInfo.id).subscriptions;
    const t0 = Date.now();
    await call((cb) => cam.unsubscribe(cb as never));
    await expect(reply).rejects.toThrow(/ResourceUnknownFault/);
    expect(Date.now() - t0).toBeLessThan(PROMPT_MS);
    expect(sim.alarms(domeInfo.id).subscriptions).toBe(live - 1);
    useSubscription(cam, addr); // the client forgets the subscription on Unsubscribe; pull at it anyway
    await expect(pull()).rejects.toThrow(/ResourceUnknownFault/);
    await expect(call((cb) => cam.renew({}, cb as never))).rejects.toThrow(/ResourceUnknownFault/);
    const r = await raw(addr, '<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT1S</Timeout><MessageLimit>1</MessageLimit></PullMessages>');
    expect(r.status).toBe(400);
    expect(r.xml).toMatch(/<s:Value>s:Sender<\/s:Value><s:Subcode><s:Value>wsrf-rw:ResourceUnknownFault<\/s:Value>/);
  });

  it('expires a subscription that is not renewed (a poll ends at the termination time, then faults)', async () => {
    const created = await raw(
      eventUrl(domeInfo),
      '<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"><InitialTerminationTime>PT1S</InitialTerminationTime></CreatePullPointSubscription>',
    );
    expect(created.status).toBe(200);
    const addr = address(created.xml);
    useSubscription(cam, addr);
    expect(list(await pull())).toHaveLength(2); // the Initialized pair, at once
    const t0 = Date.now();
    const r = await pull(); // asks for 60 s; the subscription has < 1 s left
    expect(r.notificationMessage).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(PROMPT_MS);
    await sleep(50);
    await expect(pull()).rejects.toThrow(/ResourceUnknownFault/);
    // Default lifetime 60 s without InitialTerminationTime; refused when in the past.
    const plain = await raw(eventUrl(domeInfo), '<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"/>');
    const cur = Date.parse(/<wsnt:CurrentTime>([^<]+)</.exec(plain.xml)![1]);
    expect(Date.parse(/<wsnt:TerminationTime>([^<]+)</.exec(plain.xml)![1]) - cur).toBe(60_000);
    await raw(address(plain.xml), '<Unsubscribe xmlns="http://docs.oasis-open.org/wsn/b-2"/>');
    const past = await raw(
      eventUrl(domeInfo),
      '<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"><InitialTerminationTime>2020-01-01T00:00:00Z</InitialTerminationTime></CreatePullPointSubscription>',
    );
    expect([past.status, /UnacceptableInitialTerminationTimeFault/.test(past.xml)]).toEqual([400, true]);
  });

  it('refuses wrong credentials on the event service and at a pull point', async () => {
    const s = await subscribe();
    const pulls = sim.alarms(domeInfo.id).pulls;
    const { err, cam: wrong } = await onvifConnect(domeInfo);
    expect(err).toBeUndefined();
    wrong.password = 'wrong';
    await expect(subscribe(wrong)).rejects.toThrow(/not Authorized/i);
    useSubscription(wrong, s.subscriptionReference.address.href);
    await expect(pull(wrong)).rejects.toThrow(/not Authorized/i);
    await expect(call((cb) => wrong.unsubscribe(cb as never))).rejects.toThrow(/not Authorized/i);
    expect(sim.alarms(domeInfo.id).pulls).toBe(pulls);
    expect(list(await pull())).toHaveLength(2); // the subscription is untouched: its Initialized pair is still there
    await call((cb) => cam.unsubscribe(cb as never));
  });

  it('feeds the client’s own event loop (cam.on("event")) on a fixed camera', async () => {
    const c = await connected(fixedInfo);
    const seen: Notification[] = [];
    c.on('event', (n: Notification) => seen.push(n));
    for (let i = 0; i < 300 && seen.length < 2; i++) await sleep(50);
    expect(summary({ notificationMessage: seen } as PullReply)).toEqual([
      [MOTION, 'Initialized', false],
      [TAMPER, 'Initialized', false],
    ]);
    await sleep(300); // the loop renews, then polls again
    sim.setAlarm(fixedInfo.id, 'motion', true);
    for (let i = 0; i < 300 && seen.length < 3; i++) await sleep(50);
    expect(summary({ notificationMessage: seen.slice(2) } as PullReply)).toEqual([[MOTION, 'Changed', true]]);
    expect(sim.alarms(fixedInfo.id)).toMatchObject({ motion: true, tamper: false, subscriptions: 1 });
    c.removeAllListeners('event'); // its last poll stays pending until stop() answers it
  });

  it('resets a pending poll when the camera goes offline, and serves the queued alarm after restore', async () => {
    const c = await connected(fixedInfo);
    await subscribe(c);
    await pull(c);
    const { reply } = await pendingPull(c);
    const t0 = Date.now();
    sim.fault(fixedInfo.id, { kind: 'offline' });
    await expect(reply).rejects.toThrow(/ECONNRESET|socket hang up/);
    expect(Date.now() - t0).toBeLessThan(PROMPT_MS);
    sim.setAlarm(fixedInfo.id, 'tamper', true); // while offline: kept for the subscription
    sim.restore(fixedInfo.id);
    expect(summary(await pull(c))).toEqual([[TAMPER, 'Changed', true]]);
    await call((cb) => c.unsubscribe(cb as never));
  });

  it('leaves a pending poll unanswered when the camera stalls; the alarm waits in the queue', async () => {
    const c = await connected(fixedInfo); // raw() signs with this camera's credentials
    const created = await raw(eventUrl(fixedInfo), '<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"/>', c);
    const addr = address(created.xml);
    await raw(addr, '<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT0S</Timeout><MessageLimit>10</MessageLimit></PullMessages>', c);
    const gone = new AbortController();
    let answered = false;
    const priv = c as unknown as { _envelopeHeader(): string; _envelopeFooter(): string };
    const pending = fetch(addr, {
      method: 'POST',
      signal: gone.signal,
      body: priv._envelopeHeader() + '<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT1M</Timeout><MessageLimit>10</MessageLimit></PullMessages>' + priv._envelopeFooter(),
    }).then(
      () => (answered = true),
      () => undefined,
    );
    await sleep(300);
    sim.fault(fixedInfo.id, { kind: 'stall' });
    const next = !sim.alarms(fixedInfo.id).motion;
    sim.setAlarm(fixedInfo.id, 'motion', next);
    await sleep(500);
    expect(answered).toBe(false);
    gone.abort();
    await pending;
    sim.restore(fixedInfo.id);
    const r = await raw(addr, '<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT0S</Timeout><MessageLimit>10</MessageLimit></PullMessages>', c);
    expect(r.xml).toMatch(new RegExp(`MotionAlarm</wsnt:Topic><wsnt:Message><tt:Message UtcTime="[^"]+" PropertyOperation="Changed">.*Name="State" Value="${next}"`));
    await raw(addr, '<Unsubscribe xmlns="http://docs.oasis-open.org/wsn/b-2"/>', c);
  });

  it('raises alarms only for known cameras and kinds', () => {
    expect(() => sim.setAlarm('cam999', 'motion', true)).toThrow(/unknown camera/);
    expect(() => sim.setAlarm(domeInfo.id, 'smoke' as never, true)).toThrow(/motion, tamper/);
    expect(() => sim.alarms('cam999')).toThrow(/unknown camera/);
  });
});

describe('control API', () => {
  it('raises and clears alarms (POST /cameras/:id/alarm) and reports them (GET /cameras/:id/alarms)', async () => {
    const post = (id: string, body: unknown) => fetch(`${sim.controlUrl}/cameras/${id}/alarm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const s = await subscribe();
    await pull();
    const r = await post(domeInfo.id, { kind: 'motion', active: true });
    expect(r.status).toBe(204);
    expect(summary(await pull())).toEqual([[MOTION, 'Changed', true]]);
    const got = await fetch(`${sim.controlUrl}/cameras/${domeInfo.id}/alarms`);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(sim.alarms(domeInfo.id));
    expect(sim.alarms(domeInfo.id)).toMatchObject({ motion: true, tamper: false });
    expect((await post(domeInfo.id, { kind: 'motion', active: 'yes' })).status).toBe(400);
    expect((await post(domeInfo.id, { kind: 'smoke', active: true })).status).toBe(400);
    expect((await fetch(`${sim.controlUrl}/cameras/${domeInfo.id}/alarm`, { method: 'POST', body: 'not json' })).status).toBe(400);
    expect((await post('cam999', { kind: 'motion', active: true })).status).toBe(404);
    expect((await fetch(`${sim.controlUrl}/cameras/cam999/alarms`)).status).toBe(404);
    expect((await fetch(`${sim.controlUrl}/cameras/${domeInfo.id}/alarm`)).status).toBe(405);
    expect(s.subscriptionReference.address.href).toBe(cam.events.subscription.subscriptionReference.address.href);
  });
});

describe('stop()', () => {
  it('answers a pending PullMessages at once instead of holding the shutdown for its 60 s Timeout', async () => {
    const { reply } = await pendingPull();
    const t0 = Date.now();
    await sim.stop();
    stopped = true;
    const r = await reply;
    expect(Date.now() - t0).toBeLessThan(PROMPT_MS);
    expect(r.notificationMessage).toBeUndefined();
  });
});
