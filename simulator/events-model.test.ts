/**
 * Alarm state, subscriptions and the event service's SOAP without a network: termination times, the
 * bounded queue, Initialized/Changed, lazy expiry, the long poll's wake-ups (with real but short timers),
 * and the exact notification format and faults.
 */
import { describe, expect, it } from 'vitest';
import { eventBody, notificationMessage } from './event-service.js';
import {
  CameraEvents,
  DEFAULT_TERMINATION_MS,
  MAX_QUEUE,
  MAX_SUBSCRIPTIONS,
  MAX_TERMINATION_MS,
  Subscription,
  terminationTime,
  type EventMessage,
} from './events.js';
import { handleEventSoap, type OnvifCameraView, type SoapReply } from './onvif-service.js';
import { parseDateTimeMs } from './soap-xml.js';

const T0 = Date.parse('2026-11-25T10:00:00.000Z');
const F = 'wsnt:UnacceptableInitialTerminationTimeFault';

describe('termination times', () => {
  it('takes an xs:duration from now or an xs:dateTime, defaults to 60 s and caps at 1 h', () => {
    expect(terminationTime('PT2M', T0, F)).toBe(T0 + 120_000);
    expect(terminationTime(' PT0.5S ', T0, F)).toBe(T0 + 500);
    expect(terminationTime(undefined, T0, F)).toBe(T0 + DEFAULT_TERMINATION_MS);
    expect(terminationTime('', T0, F)).toBe(T0 + DEFAULT_TERMINATION_MS);
    expect(terminationTime('2026-11-25T10:05:00Z', T0, F)).toBe(T0 + 300_000);
    expect(terminationTime('2026-11-25T11:05:00+01:00', T0, F)).toBe(T0 + 300_000);
    expect(terminationTime('2026-11-25T10:05:00', T0, F)).toBe(T0 + 300_000); // no zone = UTC
    expect(terminationTime('P1D', T0, F)).toBe(T0 + MAX_TERMINATION_MS);
  });

  it('refuses malformed and past times with the operation’s fault', () => {
    for (const bad of ['soon', 'PT', '-PT5S', 'P1Y', '2026-11-25', 'PT0S', '2026-11-25T09:59:59Z']) {
      expect(() => terminationTime(bad, T0, F), bad).toThrow(expect.objectContaining({ subcode: F }));
    }
    expect(parseDateTimeMs('2026-11-25T10:00:00.250Z')).toBe(T0 + 250);
    expect(parseDateTimeMs('yesterday')).toBeUndefined();
  });
});

describe('a subscription queue', () => {
  it('keeps the newest MAX_QUEUE messages and hands them out oldest first', () => {
    const s = new Subscription(1, T0 + 60_000);
    for (let i = 0; i < MAX_QUEUE + 50; i++) s.push({ kind: 'motion', state: i % 2 === 0, at: T0 + i, op: 'Changed' });
    expect(s.queued).toBe(MAX_QUEUE);
    expect(s.dropped).toBe(50);
    expect(s.take(3).map((m) => m.at)).toEqual([T0 + 50, T0 + 51, T0 + 52]);
    expect(s.queued).toBe(MAX_QUEUE - 3);
  });
});

describe('camera events', () => {
  it('primes a new subscription with the present state (Initialized), then queues changes (Changed) once', () => {
    const ev = new CameraEvents();
    expect(ev.set('tamper', true, T0)).toBe(true);
    const s = ev.subscribe(T0 + 60_000, T0);
    expect(s.take(10)).toEqual([
      { kind: 'motion', state: false, at: T0, op: 'Initialized' },
      { kind: 'tamper', state: true, at: T0, op: 'Initialized' },
    ]);
    expect(ev.set('motion', true, T0 + 1)).toBe(true);
    expect(ev.set('motion', true, T0 + 2)).toBe(false); // same state: nothing
    expect(s.take(10)).toEqual([{ kind: 'motion', state: true, at: T0 + 1, op: 'Changed' }]);
    ev.synchronize(s, T0 + 3);
    expect(s.take(10).map((m) => [m.kind, m.state, m.op])).toEqual([
      ['motion', true, 'Initialized'],
      ['tamper', true, 'Initialized'],
    ]);
    expect(ev.snapshot(T0)).toEqual({ motion: true, tamper: true, subscriptions: 1, pulls: 0 });
  });

  it('expires subscriptions lazily at their termination time, and forgets unsubscribed ones', () => {
    const ev = new CameraEvents();
    const a = ev.subscribe(T0 + 1000, T0);
    const b = ev.subscribe(T0 + 5000, T0);
    expect(ev.get(a.id, T0 + 999)).toBe(a);
    expect(() => ev.get(a.id, T0 + 1000)).toThrow(expect.objectContaining({ subcode: 'wsrf-rw:ResourceUnknownFault' }));
    expect(ev.snapshot(T0 + 1000).subscriptions).toBe(1);
    ev.unsubscribe(b.id, T0 + 1000);
    expect(() => ev.get(b.id, T0 + 1000)).toThrow(/no subscription/);
    expect(() => ev.unsubscribe(b.id, T0 + 1000)).toThrow(/no subscription/);
    expect(() => ev.get(99, T0)).toThrow(/no subscription 99/);
    // Changes reach live subscriptions only.
    const c = ev.subscribe(T0 + 60_000, T0);
    c.take(10);
    ev.set('motion', true, T0 + 2000);
    expect(c.queued).toBe(1);
  });

  it('refuses more than MAX_SUBSCRIPTIONS live subscriptions (expired ones free their slot)', () => {
    const ev = new CameraEvents();
    for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) ev.subscribe(T0 + 1000, T0);
    expect(() => ev.subscribe(T0 + 1000, T0)).toThrow(expect.objectContaining({ subcode: 'wsnt:SubscribeCreationFailedFault', receiver: true }));
    expect(ev.subscribe(T0 + 60_000, T0 + 1000).id).toBe(MAX_SUBSCRIPTIONS + 1);
  });

  it('answers a long poll at once when something is queued, else when a change arrives', async () => {
    const ev = new CameraEvents();
    const s = ev.subscribe(Date.now() + 60_000);
    expect(await ev.wait(s, Date.now() + 60_000)).toBe('messages'); // the Initialized pair
    s.take(10);
    const pending = ev.wait(s, Date.now() + 60_000);
    ev.set('tamper', true);
    expect(await pending).toBe('messages');
    expect(s.take(10).map((m) => [m.kind, m.state, m.op])).toEqual([['tamper', true, 'Changed']]);
  });

  it('ends a long poll at its deadline, at the subscription’s termination, or when replaced, unsubscribed, aborted, reset or stopped', async () => {
    const ev = new CameraEvents();
    const fresh = () => {
      const s = ev.subscribe(Date.now() + 60_000);
      s.take(10);
      return s;
    };
    const s = fresh();
    expect(await ev.wait(s, Date.now() + 20)).toBe('timeout');
    expect(await ev.wait(s, Date.now())).toBe('timeout'); // Timeout PT0S
    const short = ev.subscribe(Date.now() + 30);
    short.take(10);
    expect(await ev.wait(short, Date.now() + 60_000)).toBe('timeout'); // capped by its termination time

    const first = ev.wait(s, Date.now() + 60_000);
    const second = ev.wait(s, Date.now() + 60_000);
    expect(await first).toBe('replaced');
    ev.unsubscribe(s.id);
    expect(await second).toBe('unsubscribed');

    const t = fresh();
    const ac = new AbortController();
    const aborted = ev.wait(t, Date.now() + 60_000, ac.signal);
    ac.abort();
    expect(await aborted).toBe('aborted');
    const reset = ev.wait(t, Date.now() + 60_000);
    ev.endPolls('reset');
    expect(await reset).toBe('reset');
    const stopped = ev.wait(t, Date.now() + 60_000);
    ev.shutdown();
    expect(await stopped).toBe('shutdown');
    expect(await ev.wait(t, Date.now() + 60_000)).toBe('shutdown'); // and any later poll is answered at once
  });
});

describe('event service SOAP', () => {
  it('writes the standard ONVIF notification', () => {
    const m: EventMessage = { kind: 'motion', state: true, at: T0, op: 'Changed' };
    expect(notificationMessage(m)).toBe(
      '<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:VideoSource/MotionAlarm</wsnt:Topic>' +
        '<wsnt:Message><tt:Message UtcTime="2026-11-25T10:00:00.000Z" PropertyOperation="Changed"><tt:Source><tt:SimpleItem Name="Source" Value="vs_1"/></tt:Source>' +
        '<tt:Data><tt:SimpleItem Name="State" Value="true"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>',
    );
    expect(notificationMessage({ kind: 'tamper', state: false, at: T0, op: 'Initialized' })).toContain(
      '>tns1:VideoSource/GlobalSceneChange/ImagingService</wsnt:Topic><wsnt:Message><tt:Message UtcTime="2026-11-25T10:00:00.000Z" PropertyOperation="Initialized">',
    );
  });

  const pw = `<s:Header><Security><UsernameToken><Username>admin</Username><Password>pw</Password></UsernameToken></Security></s:Header>`;
  const req = (inner: string) => `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">${pw}<s:Body>${inner}</s:Body></s:Envelope>`;
  const view = () => {
    const state = new CameraEvents();
    return { creds: { username: 'admin', password: 'pw' }, authRefuse: false, events: { state, url: 'http://x/event_service', pullPointBase: 'http://x/pullpoint' } } as unknown as OnvifCameraView;
  };
  const ok = (r: unknown) => r as SoapReply;

  it('subscribes, pulls, renews and unsubscribes at the pull-point address', async () => {
    const v = view();
    const created = ok(await handleEventSoap(req('<CreatePullPointSubscription><InitialTerminationTime>PT10S</InitialTerminationTime></CreatePullPointSubscription>'), v));
    expect(created.status).toBe(200);
    expect(created.body).toContain('<tev:SubscriptionReference><wsa:Address>http://x/pullpoint/1</wsa:Address></tev:SubscriptionReference>');
    expect(created.body).toContain('<wsa:Action>http://www.onvif.org/ver10/events/wsdl/EventPortType/CreatePullPointSubscriptionResponse</wsa:Action>');
    const pulled = ok(await handleEventSoap(req('<PullMessages><Timeout>PT0S</Timeout><MessageLimit>1</MessageLimit></PullMessages>'), v, 1));
    expect(pulled.body.match(/<wsnt:NotificationMessage>/g)).toHaveLength(1); // MessageLimit 1 of the 2 Initialized
    expect(pulled.body).toContain('tns1:VideoSource/MotionAlarm');
    expect(ok(await handleEventSoap(req('<PullMessages><Timeout>PT0S</Timeout><MessageLimit>9</MessageLimit></PullMessages>'), v, 1)).body).toContain('GlobalSceneChange');
    const empty = ok(await handleEventSoap(req('<PullMessages><Timeout>PT0S</Timeout><MessageLimit>9</MessageLimit></PullMessages>'), v, 1));
    expect(empty.body).not.toContain('NotificationMessage');
    expect(empty.body).toMatch(/<tev:PullMessagesResponse><tev:CurrentTime>[^<]+<\/tev:CurrentTime><tev:TerminationTime>[^<]+<\/tev:TerminationTime><\/tev:PullMessagesResponse>/);
    expect(v.events!.state.pulls).toBe(3);
    const renewed = ok(await handleEventSoap(req('<Renew xmlns="http://docs.oasis-open.org/wsn/b-2"><TerminationTime>PT5M</TerminationTime></Renew>'), v, 1));
    expect(renewed.body).toMatch(/<wsnt:RenewResponse><wsnt:TerminationTime>[^<]+<\/wsnt:TerminationTime><wsnt:CurrentTime>/);
    expect(ok(await handleEventSoap(req('<Unsubscribe xmlns="http://docs.oasis-open.org/wsn/b-2"/>'), v, 1)).body).toContain('<wsnt:UnsubscribeResponse/>');
    const gone = ok(await handleEventSoap(req('<PullMessages><Timeout>PT0S</Timeout><MessageLimit>9</MessageLimit></PullMessages>'), v, 1));
    expect(gone.status).toBe(400);
    expect(gone.body).toMatch(/<s:Value>s:Sender<\/s:Value><s:Subcode><s:Value>wsrf-rw:ResourceUnknownFault<\/s:Value>/);
  });

  it('refuses bad requests with faults: credentials, pull limits, termination times, operations at the wrong address', async () => {
    const v = view();
    const noAuth = ok(await handleEventSoap(req('<CreatePullPointSubscription/>').replace('<Password>pw<', '<Password>no<'), v));
    expect([noAuth.status, noAuth.body.includes('ter:NotAuthorized')]).toEqual([400, true]);
    ok(await handleEventSoap(req('<CreatePullPointSubscription/>'), v));
    const long = ok(await handleEventSoap(req('<PullMessages><Timeout>PT1H</Timeout><MessageLimit>9</MessageLimit></PullMessages>'), v, 1));
    expect(long.status).toBe(400);
    expect(long.body).toContain('ter:InvalidArgVal');
    expect(long.body).toContain('<s:Detail><tev:PullMessagesFaultResponse><tev:MaxTimeout>PT300S</tev:MaxTimeout><tev:MaxMessageLimit>100</tev:MaxMessageLimit>');
    expect(ok(await handleEventSoap(req('<PullMessages><Timeout>PT1S</Timeout><MessageLimit>0</MessageLimit></PullMessages>'), v, 1)).body).toContain('MessageLimit');
    const past = ok(await handleEventSoap(req('<CreatePullPointSubscription><InitialTerminationTime>2001-01-01T00:00:00Z</InitialTerminationTime></CreatePullPointSubscription>'), v));
    expect(past.body).toContain('wsnt:UnacceptableInitialTerminationTimeFault');
    expect(ok(await handleEventSoap(req('<Renew><TerminationTime>never</TerminationTime></Renew>'), v, 1)).body).toContain('wsnt:UnacceptableTerminationTimeFault');
    // PullMessages belongs to a pull point; subscribing belongs to the event service.
    expect(ok(await handleEventSoap(req('<PullMessages><Timeout>PT0S</Timeout><MessageLimit>1</MessageLimit></PullMessages>'), v)).body).toContain('ter:ActionNotSupported');
    expect(ok(await handleEventSoap(req('<CreatePullPointSubscription/>'), v, 1)).body).toContain('ter:ActionNotSupported');
    expect(v.events!.state.snapshot().subscriptions).toBe(1);
    // Expected directly from eventBody too: the subscription number comes from the path.
    await expect(eventBody('Renew', req('<Renew/>'), { state: v.events!.state, pullPointBase: 'http://x/pullpoint' }, 7)).rejects.toThrow(/no subscription 7/);
  });
});
