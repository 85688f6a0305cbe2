/**
 * ONVIF PTZ service (ver20, tptz) as SOAP templates over PtzState: what the `onvif` npm client and
 * typical VMSs call (nodes, configurations, status, continuous/absolute/relative moves, stop, presets,
 * home). Auth and the envelope are onvif-service.ts's job; this turns one request body into one
 * response body, or throws PtzError for a SOAP fault.
 */
import { PtzError, SPEED_RANGE, checkRange, type PtzState, type PtzVector } from './ptz.js';
import { element, parseDurationMs, xmlEscape, xmlUnescape } from './soap-xml.js';

// Moved to soap-xml.ts (the event service parses durations too); re-exported for existing importers.
export { parseDurationMs } from './soap-xml.js';

export const PTZ_NAMESPACE = 'http://www.onvif.org/ver20/ptz/wsdl';
export const PTZ_NODE_TOKEN = 'ptz_node';
export const PTZ_CONFIG_TOKEN = 'ptz_cfg';
/** The media profiles onvif-service.ts serves; both carry the one PTZ configuration. */
const PROFILE_TOKENS = new Set(['main_profile', 'sub_profile']);

export const PTZ_ACTIONS = new Set([
  'GetNodes',
  'GetNode',
  'GetConfigurations',
  'GetConfiguration',
  'GetConfigurationOptions',
  'GetStatus',
  'ContinuousMove',
  'Stop',
  'AbsoluteMove',
  'RelativeMove',
  'GetPresets',
  'GotoPreset',
  'SetPreset',
  'RemovePreset',
  'GotoHomePosition',
  'SetHomePosition',
]);

const TPTZ = 'http://www.onvif.org/ver10/tptz';
const SPACE = {
  absPanTilt: `${TPTZ}/PanTiltSpaces/PositionGenericSpace`,
  absZoom: `${TPTZ}/ZoomSpaces/PositionGenericSpace`,
  relPanTilt: `${TPTZ}/PanTiltSpaces/TranslationGenericSpace`,
  relZoom: `${TPTZ}/ZoomSpaces/TranslationGenericSpace`,
  velPanTilt: `${TPTZ}/PanTiltSpaces/VelocityGenericSpace`,
  velZoom: `${TPTZ}/ZoomSpaces/VelocityGenericSpace`,
  speedPanTilt: `${TPTZ}/PanTiltSpaces/GenericSpeedSpace`,
  speedZoom: `${TPTZ}/ZoomSpaces/ZoomGenericSpeedSpace`,
} as const;

const minMax = (lo: number, hi: number) => `<tt:Min>${lo}</tt:Min><tt:Max>${hi}</tt:Max>`;
const space2 = (el: string, uri: string, lo: number, hi: number) =>
  `<tt:${el}><tt:URI>${uri}</tt:URI><tt:XRange>${minMax(lo, hi)}</tt:XRange><tt:YRange>${minMax(lo, hi)}</tt:YRange></tt:${el}>`;
const space1 = (el: string, uri: string, lo: number, hi: number) => `<tt:${el}><tt:URI>${uri}</tt:URI><tt:XRange>${minMax(lo, hi)}</tt:XRange></tt:${el}>`;

/** Supported spaces (tt:PTZSpaces content), shared by the node and the configuration options. */
const SPACES =
  space2('AbsolutePanTiltPositionSpace', SPACE.absPanTilt, -1, 1) +
  space1('AbsoluteZoomPositionSpace', SPACE.absZoom, 0, 1) +
  space2('RelativePanTiltTranslationSpace', SPACE.relPanTilt, -1, 1) +
  space1('RelativeZoomTranslationSpace', SPACE.relZoom, -1, 1) +
  space2('ContinuousPanTiltVelocitySpace', SPACE.velPanTilt, -1, 1) +
  space1('ContinuousZoomVelocitySpace', SPACE.velZoom, -1, 1) +
  space1('PanTiltSpeedSpace', SPACE.speedPanTilt, 0, 1) +
  space1('ZoomSpeedSpace', SPACE.speedZoom, 0, 1);

const num = (v: number) => String(Number(v.toFixed(6))); // never exponent notation (clients parse with a plain-decimal regex)

function vectorXml(p: PtzVector, panTiltSpace: string, zoomSpace: string): string {
  return `<tt:PanTilt x="${num(p.pan)}" y="${num(p.tilt)}" space="${panTiltSpace}"/><tt:Zoom x="${num(p.zoom)}" space="${zoomSpace}"/>`;
}

/** tt:PTZConfiguration content; `el` is the element name (tt: inside a profile, tptz: in PTZ responses). */
export function ptzConfiguration(el: string): string {
  return (
    `<${el} token="${PTZ_CONFIG_TOKEN}"><tt:Name>PTZ</tt:Name><tt:UseCount>2</tt:UseCount><tt:NodeToken>${PTZ_NODE_TOKEN}</tt:NodeToken>` +
    // "Pant" is the schema's own spelling of this element.
    `<tt:DefaultAbsolutePantTiltPositionSpace>${SPACE.absPanTilt}</tt:DefaultAbsolutePantTiltPositionSpace>` +
    `<tt:DefaultAbsoluteZoomPositionSpace>${SPACE.absZoom}</tt:DefaultAbsoluteZoomPositionSpace>` +
    `<tt:DefaultRelativePanTiltTranslationSpace>${SPACE.relPanTilt}</tt:DefaultRelativePanTiltTranslationSpace>` +
    `<tt:DefaultRelativeZoomTranslationSpace>${SPACE.relZoom}</tt:DefaultRelativeZoomTranslationSpace>` +
    `<tt:DefaultContinuousPanTiltVelocitySpace>${SPACE.velPanTilt}</tt:DefaultContinuousPanTiltVelocitySpace>` +
    `<tt:DefaultContinuousZoomVelocitySpace>${SPACE.velZoom}</tt:DefaultContinuousZoomVelocitySpace>` +
    `<tt:DefaultPTZSpeed>${vectorXml({ pan: 1, tilt: 1, zoom: 1 }, SPACE.speedPanTilt, SPACE.speedZoom)}</tt:DefaultPTZSpeed>` +
    `<tt:DefaultPTZTimeout>PT5S</tt:DefaultPTZTimeout>` +
    `<tt:PanTiltLimits><tt:Range><tt:URI>${SPACE.absPanTilt}</tt:URI><tt:XRange>${minMax(-1, 1)}</tt:XRange><tt:YRange>${minMax(-1, 1)}</tt:YRange></tt:Range></tt:PanTiltLimits>` +
    `<tt:ZoomLimits><tt:Range><tt:URI>${SPACE.absZoom}</tt:URI><tt:XRange>${minMax(0, 1)}</tt:XRange></tt:Range></tt:ZoomLimits>` +
    `</${el}>`
  );
}

function ptzNode(): string {
  return (
    `<tptz:PTZNode token="${PTZ_NODE_TOKEN}" FixedHomePosition="false" GeoMove="false"><tt:Name>Dome</tt:Name>` +
    `<tt:SupportedPTZSpaces>${SPACES}</tt:SupportedPTZSpaces><tt:MaximumNumberOfPresets>64</tt:MaximumNumberOfPresets>` +
    `<tt:HomeSupported>true</tt:HomeSupported></tptz:PTZNode>`
  );
}

function number(s: string | undefined, what: string, code: string): number {
  const n = s === undefined || s.trim() === '' ? NaN : Number(s);
  if (!Number.isFinite(n)) throw new PtzError(code, `${what} must be a number (got ${JSON.stringify(s ?? null)})`);
  return n;
}

/** PanTilt/Zoom vector inside `parent` (Velocity, Position, Translation, Speed); absent axes stay undefined. */
function vector(parent: string | undefined, spaces: { panTilt: string; zoom: string }, code: string, what: string): Partial<PtzVector> {
  const out: Partial<PtzVector> = {};
  if (parent === undefined) return out;
  const checkSpace = (s: string | undefined, want: string) => {
    if (s !== undefined && s !== want) throw new PtzError(code, `${what} space ${s} is not supported (use ${want})`);
  };
  const pt = element(parent, 'PanTilt');
  if (pt) {
    checkSpace(pt.attrs.space, spaces.panTilt);
    out.pan = number(pt.attrs.x, `${what} PanTilt x`, code);
    out.tilt = number(pt.attrs.y, `${what} PanTilt y`, code);
  }
  const z = element(parent, 'Zoom');
  if (z) {
    checkSpace(z.attrs.space, spaces.zoom);
    out.zoom = number(z.attrs.x, `${what} Zoom x`, code);
  }
  return out;
}

/** Speeds are checked but ignored: positional moves arrive at once (see PtzState.jump). */
function checkSpeed(body: string): void {
  const s = element(body, 'Speed');
  if (s) checkRange(vector(s.inner, { panTilt: SPACE.speedPanTilt, zoom: SPACE.speedZoom }, 'InvalidSpeed', 'speed'), SPEED_RANGE, 'InvalidSpeed', 'speed');
}

const text = (body: string, name: string): string | undefined => {
  const e = element(body, name);
  return e === undefined ? undefined : xmlUnescape(e.inner).trim();
};

function requireProfile(body: string): void {
  const t = text(body, 'ProfileToken');
  if (t === undefined || !PROFILE_TOKENS.has(t)) throw new PtzError('NoProfile', `no media profile ${JSON.stringify(t ?? null)}`);
}

/** Stop's PanTilt/Zoom flags: absent means "stop it too" (ONVIF PTZ 5.3.5). */
function flag(body: string, name: string): boolean {
  const t = text(body, name);
  if (t === undefined) return true;
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw new PtzError('InvalidArgVal', `${name} must be a boolean`);
}

function presetToken(body: string): string {
  const t = text(body, 'PresetToken');
  if (!t) throw new PtzError('NoToken', 'PresetToken is missing');
  return t;
}

/** Response body for one PTZ operation (without envelope). Throws PtzError for a fault. */
export function ptzBody(action: string, xml: string, ptz: PtzState, now = Date.now()): string {
  // Search the Body only: the WS-Security header has elements of its own.
  const body = /<(?:[\w-]+:)?Body(?:\s[^>]*)?>([\s\S]*)<\/(?:[\w-]+:)?Body>/.exec(xml)?.[1] ?? xml;
  switch (action) {
    case 'GetNodes':
      return `<tptz:GetNodesResponse>${ptzNode()}</tptz:GetNodesResponse>`;
    case 'GetNode':
      if (text(body, 'NodeToken') !== PTZ_NODE_TOKEN) throw new PtzError('NoEntity', 'no such PTZ node');
      return `<tptz:GetNodeResponse>${ptzNode()}</tptz:GetNodeResponse>`;
    case 'GetConfigurations':
      return `<tptz:GetConfigurationsResponse>${ptzConfiguration('tptz:PTZConfiguration')}</tptz:GetConfigurationsResponse>`;
    case 'GetConfiguration':
      if (text(body, 'PTZConfigurationToken') !== PTZ_CONFIG_TOKEN) throw new PtzError('NoEntity', 'no such PTZ configuration');
      return `<tptz:GetConfigurationResponse>${ptzConfiguration('tptz:PTZConfiguration')}</tptz:GetConfigurationResponse>`;
    case 'GetConfigurationOptions':
      if (text(body, 'ConfigurationToken') !== PTZ_CONFIG_TOKEN) throw new PtzError('NoEntity', 'no such PTZ configuration');
      return (
        `<tptz:GetConfigurationOptionsResponse><tptz:PTZConfigurationOptions><tt:Spaces>${SPACES}</tt:Spaces>` +
        `<tt:PTZTimeout><tt:Min>PT0S</tt:Min><tt:Max>PT1H</tt:Max></tt:PTZTimeout></tptz:PTZConfigurationOptions></tptz:GetConfigurationOptionsResponse>`
      );
    case 'GetStatus': {
      requireProfile(body);
      const ms = ptz.moveStatus(now);
      return (
        `<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position>${vectorXml(ptz.position(now), SPACE.absPanTilt, SPACE.absZoom)}</tt:Position>` +
        `<tt:MoveStatus><tt:PanTilt>${ms.panTilt}</tt:PanTilt><tt:Zoom>${ms.zoom}</tt:Zoom></tt:MoveStatus>` +
        `<tt:UtcTime>${new Date(now).toISOString()}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`
      );
    }
    case 'ContinuousMove': {
      requireProfile(body);
      const v = vector(element(body, 'Velocity')?.inner, { panTilt: SPACE.velPanTilt, zoom: SPACE.velZoom }, 'InvalidVelocity', 'velocity');
      const t = text(body, 'Timeout');
      const timeoutMs = t === undefined ? undefined : parseDurationMs(t);
      if (t !== undefined && timeoutMs === undefined) throw new PtzError('TimeoutNotSupported', `Timeout ${JSON.stringify(t)} is not an xs:duration`);
      ptz.continuousMove(v, timeoutMs, now);
      return '<tptz:ContinuousMoveResponse/>';
    }
    case 'Stop':
      requireProfile(body);
      ptz.stop({ panTilt: flag(body, 'PanTilt'), zoom: flag(body, 'Zoom') }, now);
      return '<tptz:StopResponse/>';
    case 'AbsoluteMove': {
      requireProfile(body);
      const p = vector(element(body, 'Position')?.inner, { panTilt: SPACE.absPanTilt, zoom: SPACE.absZoom }, 'InvalidPosition', 'position');
      checkSpeed(body);
      ptz.absoluteMove(p, now);
      return '<tptz:AbsoluteMoveResponse/>';
    }
    case 'RelativeMove': {
      requireProfile(body);
      const d = vector(element(body, 'Translation')?.inner, { panTilt: SPACE.relPanTilt, zoom: SPACE.relZoom }, 'InvalidTranslation', 'translation');
      checkSpeed(body);
      ptz.relativeMove(d, now);
      return '<tptz:RelativeMoveResponse/>';
    }
    case 'GetPresets':
      requireProfile(body);
      return (
        `<tptz:GetPresetsResponse>` +
        ptz
          .presets()
          .map((p) => `<tptz:Preset token="${xmlEscape(p.token)}"><tt:Name>${xmlEscape(p.name)}</tt:Name><tt:PTZPosition>${vectorXml(p.position, SPACE.absPanTilt, SPACE.absZoom)}</tt:PTZPosition></tptz:Preset>`)
          .join('') +
        `</tptz:GetPresetsResponse>`
      );
    case 'GotoPreset':
      requireProfile(body);
      checkSpeed(body);
      ptz.gotoPreset(presetToken(body), now);
      return '<tptz:GotoPresetResponse/>';
    case 'SetPreset': {
      requireProfile(body);
      const token = ptz.setPreset(text(body, 'PresetName'), text(body, 'PresetToken') || undefined, now);
      return `<tptz:SetPresetResponse><tptz:PresetToken>${xmlEscape(token)}</tptz:PresetToken></tptz:SetPresetResponse>`;
    }
    case 'RemovePreset':
      requireProfile(body);
      ptz.removePreset(presetToken(body));
      return '<tptz:RemovePresetResponse/>';
    case 'GotoHomePosition':
      requireProfile(body);
      checkSpeed(body);
      ptz.gotoHome(now);
      return '<tptz:GotoHomePositionResponse/>';
    case 'SetHomePosition':
      requireProfile(body);
      ptz.setHome(now);
      return '<tptz:SetHomePositionResponse/>';
    default:
      throw new Error(`not a PTZ action: ${action}`);
  }
}
