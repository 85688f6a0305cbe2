/**
 * Camera URL rules, at the door. A stream URL ends up as ffmpeg's input, so it is checked by the very validator the
 * stream code uses (ingest/rtsp-url.ts): the inventory and the streams agree on which URLs are valid. Both kinds
 * must aim inside CAMERA_NETWORKS when they name an address (server/camera-network/): names are resolved and
 * checked again when something connects.
 */
import { InvalidCameraUrlError, validateRtspUrl } from '../../ingest/rtsp-url.js';
import { cameraNetworks, normaliseAddress } from '../camera-network/policy.js';

export interface ParsedCameraUrl {
  /** The URL with any user:password@ removed: that is what is stored and shown. */
  url: string;
  username?: string;
  password?: string;
}

const MAX_URL = 1024;
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f\u2028\u2029]/;
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?)$/i;

/** Refuses a URL whose host is an address (any spelling) outside CAMERA_NETWORKS. */
function checkNetwork(u: URL, defaultPort: number, kind: string): void {
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!normaliseAddress(host)) return; // a name: checked when it is resolved, at connect time
  const port = u.port ? Number(u.port) : defaultPort;
  const v = cameraNetworks().check(host, port);
  if (!v.ok) {
    throw new Error(v.why === 'outside_networks'
      ? `${kind} URL: ${u.hostname} is outside the camera networks (CAMERA_NETWORKS) / 地址不在摄像机网段内`
      : `${kind} URL: ${u.hostname} may never be a camera (link-local, metadata, broadcast or this server) / 该地址不允许作为摄像机`);
  }
}

export function parseStreamUrl(raw: string): ParsedCameraUrl {
  const s = raw.trim();
  if (s.length > MAX_URL) throw new Error(`Stream URL is longer than ${MAX_URL} characters`);
  let src;
  try {
    src = validateRtspUrl(s);
  } catch (err) {
    if (err instanceof InvalidCameraUrlError) throw new Error(`Stream URL must be rtsp:// or rtsps:// with a valid host (${err.message.replace(/^invalid camera URL: /, '')})`);
    throw err;
  }
  const u = new URL(src.url);
  checkNetwork(u, u.protocol === 'rtsps:' ? 322 : 554, 'Stream');
  return { url: src.url, username: src.username, password: src.password };
}

export function parseOnvifUrl(raw: string): ParsedCameraUrl {
  const s = raw.trim();
  if (s.length > MAX_URL) throw new Error(`ONVIF URL is longer than ${MAX_URL} characters`);
  if (CONTROL_OR_SPACE.test(s)) throw new Error('ONVIF URL must not contain spaces or control characters');
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new Error('ONVIF URL is not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`ONVIF URL must start with http:// or https:// (got ${u.protocol}//)`);
  if (!u.hostname || !HOST.test(u.hostname)) throw new Error('ONVIF URL must name a valid host');
  checkNetwork(u, u.protocol === 'https:' ? 443 : 80, 'ONVIF');
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  return { url: u.toString(), username, password };
}
