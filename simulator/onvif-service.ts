/**
 * ONVIF device and media (ver10) services as hand-written SOAP 1.2 templates: enough of Profile S for
 * discovery and stream set-up by real clients, plus the PTZ service (ptz-service.ts) on PTZ domes and the
 * event service (event-service.ts, advertised here) on every camera.
 * Requests are matched on the first element in the Body; everything but GetSystemDateAndTime needs a
 * WS-Security UsernameToken with a PasswordDigest.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { EVENT_SERVICE_ACTIONS, EVENTS_NAMESPACE, PULL_POINT_ACTIONS, eventBody, eventServiceCapabilities } from './event-service.js';
import { EventError, type CameraEvents } from './events.js';
import { PtzError, type PtzState } from './ptz.js';
import { PTZ_ACTIONS, PTZ_NAMESPACE, ptzBody, ptzConfiguration } from './ptz-service.js';
import type { Credentials } from './rtsp-auth.js';
import { tag, xmlEscape } from './soap-xml.js';

export { xmlEscape } from './soap-xml.js';

export interface OnvifCameraView {
  id: string;
  name: string;
  index: number;
  creds: Credentials;
  deviceUrl: string;
  mediaUrl: string;
  rtsp: { main: string; sub: string };
  snapshotUrl: string;
  main: { width: number; height: number };
  sub: { width: number; height: number };
  fps: number;
  gopFrames: number;
  authRefuse: boolean;
  /** PTZ domes only: the live PTZ state and the PTZ service URL. Absent = fixed camera (no PTZ anywhere). */
  ptz?: { state: PtzState; url: string };
  /** Every simulated camera has it (optional only so unit tests can build small views): alarm state and subscriptions,
   * the event service URL, and the base of pull-point addresses (`${pullPointBase}/<n>`). */
  events?: { state: CameraEvents; url: string; pullPointBase: string };
}

export interface SoapReply {
  status: number;
  body: string;
}

const NS =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" ' +
  'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema" ' +
  'xmlns:ter="http://www.onvif.org/ver10/error" xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" ' +
  // Events: the service, WS-BaseNotification, WS-Addressing, topics, and the QNames faults and topic sets use.
  'xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" ' +
  'xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:tns1="http://www.onvif.org/ver10/topics" ' +
  'xmlns:wstop="http://docs.oasis-open.org/wsn/t-1" xmlns:wsrf-rw="http://docs.oasis-open.org/wsrf/rw-2" ' +
  'xmlns:xs="http://www.w3.org/2001/XMLSchema"';

/** `wsaAction`: a WS-Addressing Action header, which event replies carry like real cameras' do. */
export const envelope = (body: string, wsaAction?: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope ${NS}>${wsaAction ? `<s:Header><wsa:Action>${wsaAction}</wsa:Action></s:Header>` : ''}<s:Body>${body}</s:Body></s:Envelope>`;

/**
 * `detail` is an optional second-level subcode (ONVIF nests e.g. ter:InvalidArgVal / ter:NoToken);
 * `detailXml` optional s:Detail content (e.g. a PullMessagesFaultResponse).
 */
export function soapFault(code: 'Sender' | 'Receiver', subcode: string, reason: string, detail?: string, detailXml?: string): string {
  const inner = detail ? `<s:Subcode><s:Value>${detail}</s:Value></s:Subcode>` : '';
  return envelope(
    `<s:Fault><s:Code><s:Value>s:${code}</s:Value><s:Subcode><s:Value>${subcode}</s:Value>${inner}</s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${xmlEscape(reason)}</s:Text></s:Reason>${detailXml ? `<s:Detail>${detailXml}</s:Detail>` : ''}</s:Fault>`,
  );
}

/** Local name of the first element in the SOAP Body: the operation. */
export function soapAction(xml: string): string | undefined {
  const m = /<(?:[\w-]+:)?Body(?:\s[^>]*)?>\s*<(?:[\w-]+:)?([A-Za-z]+)/.exec(xml);
  return m?.[1];
}

function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** WS-Security UsernameToken: PasswordDigest = Base64(SHA1(nonce + created + password)); PasswordText also accepted. */
export function checkWsSecurity(xml: string, creds: Credentials, now = Date.now()): boolean {
  const token = tag(xml, 'UsernameToken');
  if (!token) return false;
  const username = tag(token, 'Username');
  const pwMatch = /<(?:[\w-]+:)?Password(\s[^>]*)?>([\s\S]*?)<\/(?:[\w-]+:)?Password>/.exec(token);
  if (!username || !pwMatch || !safeEqual(username, creds.username)) return false;
  const password = pwMatch[2].trim();
  const isDigest = /PasswordDigest/.test(pwMatch[1] ?? '');
  if (!isDigest) return safeEqual(password, creds.password);
  const nonce = tag(token, 'Nonce');
  const created = tag(token, 'Created');
  if (!nonce || !created) return false;
  const t = Date.parse(created);
  // Clients stamp Created with the device's clock (from GetSystemDateAndTime); allow generous skew.
  if (!Number.isFinite(t) || Math.abs(now - t) > 15 * 60_000) return false;
  const expected = createHash('sha1').update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created), Buffer.from(creds.password)])).digest('base64');
  return safeEqual(expected, password);
}

function dateTime(d: Date): string {
  return (
    `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>`
  );
}

function profile(c: OnvifCameraView, kind: 'main' | 'sub'): string {
  const size = c[kind];
  const token = `${kind}_profile`;
  const kbps = Math.max(150, Math.round((size.width * size.height * c.fps * 0.06) / 1000));
  return (
    `<trt:Profiles token="${token}" fixed="true"><tt:Name>${kind === 'main' ? 'MainStream' : 'SubStream'}</tt:Name>` +
    `<tt:VideoSourceConfiguration token="vsc_1"><tt:Name>VideoSource</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>vs_1</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="${c.main.width}" height="${c.main.height}"/></tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="vec_${kind}"><tt:Name>${kind}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${size.width}</tt:Width><tt:Height>${size.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>` +
    `<tt:RateControl><tt:FrameRateLimit>${c.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${kbps}</tt:BitrateLimit></tt:RateControl>` +
    `<tt:H264><tt:GovLength>${c.gopFrames}</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>` +
    `<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>` +
    `<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>` +
    // Schema order: PTZConfiguration comes after the encoder (and audio/analytics) configurations.
    (c.ptz ? ptzConfiguration('tt:PTZConfiguration') : '') +
    `</trt:Profiles>`
  );
}

function body(action: string, xml: string, c: OnvifCameraView): string | undefined {
  const now = new Date();
  switch (action) {
    case 'GetSystemDateAndTime':
      return (
        `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>` +
        `<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime>${dateTime(now)}</tt:UTCDateTime><tt:LocalDateTime>${dateTime(now)}</tt:LocalDateTime>` +
        `</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`
      );
    case 'GetDeviceInformation':
      return (
        `<tds:GetDeviceInformationResponse><tds:Manufacturer>StreetEye</tds:Manufacturer><tds:Model>SimCam-2</tds:Model>` +
        `<tds:FirmwareVersion>1.0.0</tds:FirmwareVersion><tds:SerialNumber>SIM${String(c.index + 1).padStart(6, '0')}-${xmlEscape(c.id)}</tds:SerialNumber>` +
        `<tds:HardwareId>${xmlEscape(c.name)}</tds:HardwareId></tds:GetDeviceInformationResponse>`
      );
    case 'GetCapabilities':
      return (
        `<tds:GetCapabilitiesResponse><tds:Capabilities>` +
        `<tt:Device><tt:XAddr>${c.deviceUrl}</tt:XAddr><tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration><tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>` +
        `<tt:System><tt:DiscoveryResolve>true</tt:DiscoveryResolve><tt:DiscoveryBye>false</tt:DiscoveryBye><tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>` +
        `<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>` +
        `<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2><tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false</tt:AccessPolicyConfig><tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken><tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken></tt:Security></tt:Device>` +
        (c.events
          ? `<tt:Events><tt:XAddr>${c.events.url}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport><tt:WSPullPointSupport>true</tt:WSPullPointSupport>` +
            `<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>`
          : '') +
        `<tt:Media><tt:XAddr>${c.mediaUrl}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
        (c.ptz ? `<tt:PTZ><tt:XAddr>${c.ptz.url}</tt:XAddr></tt:PTZ>` : '') +
        `</tds:Capabilities></tds:GetCapabilitiesResponse>`
      );
    case 'GetServices': {
      const withCaps = /IncludeCapability>\s*true/i.test(xml);
      const svc = (ns: string, url: string, caps: string) =>
        `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${url}</tds:XAddr>${withCaps ? `<tds:Capabilities>${caps}</tds:Capabilities>` : ''}<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>`;
      return (
        `<tds:GetServicesResponse>` +
        svc('http://www.onvif.org/ver10/device/wsdl', c.deviceUrl, '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false"/><tds:Security UsernameToken="true" HttpDigest="false"/><tds:System DiscoveryResolve="true" DiscoveryBye="false" RemoteDiscovery="false"/></tds:Capabilities>') +
        svc('http://www.onvif.org/ver10/media/wsdl', c.mediaUrl, '<trt:Capabilities SnapshotUri="true" Rotation="false"><trt:ProfileCapabilities MaximumNumberOfProfiles="2"/><trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"/></trt:Capabilities>') +
        (c.events ? svc(EVENTS_NAMESPACE, c.events.url, eventServiceCapabilities()) : '') +
        (c.ptz ? svc(PTZ_NAMESPACE, c.ptz.url, '<tptz:Capabilities EFlip="false" Reverse="false" GetCompatibleConfigurations="false" MoveStatus="true" StatusPosition="true"/>') : '') +
        `</tds:GetServicesResponse>`
      );
    }
    case 'GetScopes':
      return (
        `<tds:GetScopesResponse>` +
        ['onvif://www.onvif.org/Profile/Streaming', 'onvif://www.onvif.org/type/video_encoder', ...(c.ptz ? ['onvif://www.onvif.org/type/ptz'] : []), `onvif://www.onvif.org/name/${encodeURIComponent(c.name)}`, 'onvif://www.onvif.org/hardware/SimCam-2', 'onvif://www.onvif.org/location/city/StreetEye']
          .map((s) => `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${xmlEscape(s)}</tt:ScopeItem></tds:Scopes>`)
          .join('') +
        `</tds:GetScopesResponse>`
      );
    case 'GetHostname':
      return `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>${xmlEscape(c.id)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`;
    case 'GetProfiles':
      return `<trt:GetProfilesResponse>${profile(c, 'main')}${profile(c, 'sub')}</trt:GetProfilesResponse>`;
    case 'GetProfile': {
      const tok = tag(xml, 'ProfileToken');
      return `<trt:GetProfileResponse>${profile(c, tok === 'sub_profile' ? 'sub' : 'main').replace(/trt:Profiles/g, 'trt:Profile')}</trt:GetProfileResponse>`;
    }
    case 'GetVideoSources':
      return (
        `<trt:GetVideoSourcesResponse><trt:VideoSources token="vs_1"><tt:Framerate>${c.fps}</tt:Framerate>` +
        `<tt:Resolution><tt:Width>${c.main.width}</tt:Width><tt:Height>${c.main.height}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`
      );
    case 'GetStreamUri': {
      const tok = tag(xml, 'ProfileToken');
      const uri = tok === 'sub_profile' ? c.rtsp.sub : c.rtsp.main;
      return `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>${xmlEscape(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`;
    }
    case 'GetSnapshotUri':
      return `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${xmlEscape(c.snapshotUrl)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>`;
    default:
      return undefined;
  }
}

/** GetSystemDateAndTime must work before auth: clients need the device clock to build the digest. */
const PUBLIC_ACTIONS = new Set(['GetSystemDateAndTime']);

/** The fault that refuses `action` (no operation found, or WS-Security missing or wrong), or undefined to go on. Shared by every service. */
export function refusal(action: string | undefined, xml: string, c: Pick<OnvifCameraView, 'authRefuse' | 'creds'>): SoapReply | undefined {
  if (!action) return { status: 400, body: soapFault('Sender', 'ter:WellFormed', 'No SOAP operation found') };
  if (!PUBLIC_ACTIONS.has(action) && (c.authRefuse || !checkWsSecurity(xml, c.creds))) {
    // ONVIF Core 5.9.1: a rejected WS-Security header is a 400 with ter:NotAuthorized.
    return { status: 400, body: soapFault('Sender', 'ter:NotAuthorized', 'Sender not Authorized') };
  }
  return undefined;
}

export function handleSoap(xml: string, c: OnvifCameraView): SoapReply {
  const action = soapAction(xml);
  const refused = refusal(action, xml, c);
  if (refused || !action) return refused!; // refusal() always answers a missing action
  let b: string | undefined;
  try {
    // A fixed camera knows no PTZ operation at all, exactly like before domes existed.
    b = PTZ_ACTIONS.has(action) ? (c.ptz ? ptzBody(action, xml, c.ptz.state) : undefined) : body(action, xml, c);
  } catch (e) {
    if (!(e instanceof PtzError)) throw e;
    // The `onvif` client only surfaces the Reason text, so the codes go there too.
    const detail = e.code === 'InvalidArgVal' ? undefined : `ter:${e.code}`;
    const sub = e.receiver ? 'ter:Action' : 'ter:InvalidArgVal';
    return { status: e.receiver ? 500 : 400, body: soapFault(e.receiver ? 'Receiver' : 'Sender', sub, `${e.message} (${[sub, detail].filter(Boolean).join(' / ')})`, detail) };
  }
  if (b === undefined) return { status: 400, body: soapFault('Receiver', 'ter:ActionNotSupported', `${action} is not supported`) };
  return { status: 200, body: envelope(b) };
}

/** An event reply, or a connection to end without one (see EventOutcome). */
export type EventReply = SoapReply | { drop: 'reset' | 'hang' | 'aborted' };

/**
 * Requests to the event service (`pullPoint` undefined) or to a pull point (`/pullpoint/<n>`). Asynchronous
 * because PullMessages is a long poll; `signal` ends it when the client goes away. Other operations sent
 * there are answered as at any other address.
 */
export async function handleEventSoap(xml: string, c: OnvifCameraView, pullPoint?: number, signal?: AbortSignal): Promise<EventReply> {
  const action = soapAction(xml);
  const refused = refusal(action, xml, c);
  if (refused || !action) return refused!; // refusal() always answers a missing action
  const ours = pullPoint === undefined ? EVENT_SERVICE_ACTIONS : PULL_POINT_ACTIONS;
  if (!c.events || !ours.has(action)) return handleSoap(xml, c);
  try {
    const out = await eventBody(action, xml, c.events, pullPoint, signal);
    return 'drop' in out ? out : { status: 200, body: envelope(out.body, out.wsaAction) };
  } catch (e) {
    if (!(e instanceof EventError)) throw e;
    // As for PTZ: the `onvif` client surfaces only the Reason text, so the subcode goes there too.
    const code = e.receiver ? 'Receiver' : 'Sender';
    return { status: e.receiver ? 500 : 400, body: soapFault(code, e.subcode, `${e.message} (${e.subcode})`, undefined, e.detailXml) };
  }
}
