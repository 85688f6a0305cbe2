/**
 * ONVIF event service (ver10, tev) with WS-BaseNotification pull points, as SOAP templates over CameraEvents
 * (events.ts): GetServiceCapabilities, GetEventProperties and CreatePullPointSubscription at the event
 * service; PullMessages (a long poll), Renew, Unsubscribe and SetSynchronizationPoint at each subscription's
 * own address. Auth, the envelope and faults are onvif-service.ts's job (handleEventSoap); this turns one
 * request into one response body, or throws EventError for a fault.
 */
import {
  MAX_MESSAGE_LIMIT,
  MAX_PULL_TIMEOUT_MS,
  MAX_SUBSCRIPTIONS,
  EventError,
  resourceUnknown,
  terminationTime,
  type AlarmKind,
  type CameraEvents,
  type EventMessage,
} from './events.js';
import { element, parseDurationMs, soapBody, xmlUnescape } from './soap-xml.js';

export const EVENTS_NAMESPACE = 'http://www.onvif.org/ver10/events/wsdl';
/** Operations of the event service address. */
export const EVENT_SERVICE_ACTIONS = new Set(['GetServiceCapabilities', 'GetEventProperties', 'CreatePullPointSubscription']);
/** Operations of a pull-point address (the subscription is the address, like the `onvif` client expects). */
export const PULL_POINT_ACTIONS = new Set(['PullMessages', 'Renew', 'Unsubscribe', 'SetSynchronizationPoint']);

export const TOPICS: Readonly<Record<AlarmKind, string>> = {
  motion: 'tns1:VideoSource/MotionAlarm',
  tamper: 'tns1:VideoSource/GlobalSceneChange/ImagingService',
};
/** The one video source (GetVideoSources, profiles' SourceToken). */
export const VIDEO_SOURCE_TOKEN = 'vs_1';
const CONCRETE_SET = 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet';

/** WS-Addressing Action of each reply (real cameras send it; strict WS-A clients check it). */
const WSA = {
  GetServiceCapabilities: `${EVENTS_NAMESPACE}/EventPortType/GetServiceCapabilitiesResponse`,
  GetEventProperties: `${EVENTS_NAMESPACE}/EventPortType/GetEventPropertiesResponse`,
  CreatePullPointSubscription: `${EVENTS_NAMESPACE}/EventPortType/CreatePullPointSubscriptionResponse`,
  PullMessages: `${EVENTS_NAMESPACE}/PullPointSubscription/PullMessagesResponse`,
  SetSynchronizationPoint: `${EVENTS_NAMESPACE}/PullPointSubscription/SetSynchronizationPointResponse`,
  Renew: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewResponse',
  Unsubscribe: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeResponse',
} as const;

/** tev:Capabilities (GetServiceCapabilities, and GetServices with IncludeCapability). */
export function eventServiceCapabilities(): string {
  return (
    `<tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" ` +
    `MaxNotificationProducers="0" MaxPullPoints="${MAX_SUBSCRIPTIONS}" PersistentNotificationStorage="false"/>`
  );
}

/** Both topics are properties with the same shape: which video source, and a boolean state. */
const DESCRIPTION =
  `<tt:MessageDescription IsProperty="true"><tt:Source><tt:SimpleItemDescription Name="Source" Type="tt:ReferenceToken"/></tt:Source>` +
  `<tt:Data><tt:SimpleItemDescription Name="State" Type="xs:boolean"/></tt:Data></tt:MessageDescription>`;

function eventProperties(): string {
  return (
    `<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>` +
    `<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>` +
    // Topic children are unqualified below the tns1 root, as in ONVIF Core's examples.
    `<wstop:TopicSet><tns1:VideoSource><MotionAlarm wstop:topic="true">${DESCRIPTION}</MotionAlarm>` +
    `<GlobalSceneChange><ImagingService wstop:topic="true">${DESCRIPTION}</ImagingService></GlobalSceneChange></tns1:VideoSource></wstop:TopicSet>` +
    `<wsnt:TopicExpressionDialect>${CONCRETE_SET}</wsnt:TopicExpressionDialect>` +
    `<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete</wsnt:TopicExpressionDialect>` +
    `<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>` +
    `<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>` +
    `</tev:GetEventPropertiesResponse>`
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

export function notificationMessage(m: EventMessage): string {
  return (
    `<wsnt:NotificationMessage><wsnt:Topic Dialect="${CONCRETE_SET}">${TOPICS[m.kind]}</wsnt:Topic><wsnt:Message>` +
    `<tt:Message UtcTime="${iso(m.at)}" PropertyOperation="${m.op}"><tt:Source><tt:SimpleItem Name="Source" Value="${VIDEO_SOURCE_TOKEN}"/></tt:Source>` +
    `<tt:Data><tt:SimpleItem Name="State" Value="${m.state}"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`
  );
}

const text = (body: string, name: string): string | undefined => {
  const e = element(body, name);
  return e === undefined ? undefined : xmlUnescape(e.inner).trim();
};

/** What PullMessages can serve, sent with its refusals (ONVIF: PullMessagesFaultResponse). */
const PULL_LIMITS = `<tev:PullMessagesFaultResponse><tev:MaxTimeout>PT${MAX_PULL_TIMEOUT_MS / 1000}S</tev:MaxTimeout><tev:MaxMessageLimit>${MAX_MESSAGE_LIMIT}</tev:MaxMessageLimit></tev:PullMessagesFaultResponse>`;
const pullFault = (message: string) => new EventError('ter:InvalidArgVal', message, false, PULL_LIMITS);

export interface EventServiceTarget {
  state: CameraEvents;
  /** Pull-point addresses are `${pullPointBase}/<n>`. */
  pullPointBase: string;
}

/** A reply body, or a connection to end without one (offline: reset; stall: never answer; client gone). */
export type EventOutcome = { body: string; wsaAction: string } | { drop: 'reset' | 'hang' | 'aborted' };

/**
 * Response body for one event operation. `pullPoint` is the subscription number from the request path
 * (undefined at the event service address). PullMessages waits (see CameraEvents.wait); `signal` aborts
 * that wait when the client goes away. Throws EventError for a fault.
 */
export async function eventBody(action: string, xml: string, ev: EventServiceTarget, pullPoint?: number, signal?: AbortSignal, now = Date.now()): Promise<EventOutcome> {
  const body = soapBody(xml);
  const reply = (b: string): EventOutcome => ({ body: b, wsaAction: WSA[action as keyof typeof WSA] });
  const sub = () => {
    if (pullPoint === undefined) throw resourceUnknown('(none: use the SubscriptionReference address)');
    return ev.state.get(pullPoint, now);
  };
  switch (action) {
    case 'GetServiceCapabilities':
      return reply(`<tev:GetServiceCapabilitiesResponse>${eventServiceCapabilities()}</tev:GetServiceCapabilitiesResponse>`);
    case 'GetEventProperties':
      return reply(eventProperties());
    case 'CreatePullPointSubscription': {
      // Filter is ignored: there are only two topics, and every subscription gets both.
      const at = terminationTime(text(body, 'InitialTerminationTime'), now, 'wsnt:UnacceptableInitialTerminationTimeFault');
      const s = ev.state.subscribe(at, now);
      return reply(
        `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>${ev.pullPointBase}/${s.id}</wsa:Address></tev:SubscriptionReference>` +
          `<wsnt:CurrentTime>${iso(now)}</wsnt:CurrentTime><wsnt:TerminationTime>${iso(s.terminationAt)}</wsnt:TerminationTime></tev:CreatePullPointSubscriptionResponse>`,
      );
    }
    case 'PullMessages': {
      const s = sub();
      const t = text(body, 'Timeout');
      const timeoutMs = t === undefined ? undefined : parseDurationMs(t);
      if (timeoutMs === undefined) throw pullFault(`Timeout ${JSON.stringify(t ?? null)} is not an xs:duration`);
      if (timeoutMs > MAX_PULL_TIMEOUT_MS) throw pullFault(`Timeout ${t} is above the maximum PT${MAX_PULL_TIMEOUT_MS / 1000}S`);
      const l = text(body, 'MessageLimit');
      const limit = l === undefined ? NaN : Number(l);
      if (!Number.isInteger(limit) || limit < 1) throw pullFault(`MessageLimit ${JSON.stringify(l ?? null)} is not a positive integer`);
      const why = await ev.state.wait(s, now + timeoutMs, signal, now);
      if (why === 'reset' || why === 'hang' || why === 'aborted') return { drop: why };
      if (why === 'unsubscribed') throw resourceUnknown(s.id);
      // messages, timeout, replaced, shutdown: answer with whatever is queued (often nothing for the last three).
      const messages = s.take(Math.min(limit, MAX_MESSAGE_LIMIT));
      ev.state.pulls++;
      return reply(
        `<tev:PullMessagesResponse><tev:CurrentTime>${iso(Date.now())}</tev:CurrentTime><tev:TerminationTime>${iso(s.terminationAt)}</tev:TerminationTime>` +
          messages.map(notificationMessage).join('') +
          `</tev:PullMessagesResponse>`,
      );
    }
    case 'Renew': {
      const s = sub();
      s.terminationAt = terminationTime(text(body, 'TerminationTime'), now, 'wsnt:UnacceptableTerminationTimeFault');
      return reply(`<wsnt:RenewResponse><wsnt:TerminationTime>${iso(s.terminationAt)}</wsnt:TerminationTime><wsnt:CurrentTime>${iso(now)}</wsnt:CurrentTime></wsnt:RenewResponse>`);
    }
    case 'Unsubscribe':
      ev.state.unsubscribe(sub().id, now); // its pending poll, if any, ends with ResourceUnknownFault
      return reply('<wsnt:UnsubscribeResponse/>');
    case 'SetSynchronizationPoint':
      ev.state.synchronize(sub(), now);
      return reply('<tev:SetSynchronizationPointResponse/>');
    default:
      throw new Error(`not an event action: ${action}`);
  }
}
