/**
 * Camera URL rules. A stream URL ends up as ffmpeg's input, so anything but a plain rtsp(s) URL
 * with a host (file:, concat:, lavfi, pipes, option-looking strings) is refused here, at the door.
 */
export interface ParsedCameraUrl {
  /** The URL with any user:password@ removed: that is what is stored and shown. */
  url: string;
  username?: string;
  password?: string;
}

const MAX_URL = 1024;
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f]/;

function parse(raw: string, schemes: string[], kind: string): ParsedCameraUrl {
  if (raw.length > MAX_URL) throw new Error(`${kind} URL is longer than ${MAX_URL} characters`);
  if (CONTROL_OR_SPACE.test(raw)) throw new Error(`${kind} URL must not contain spaces or control characters`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`${kind} URL is not a valid URL`);
  }
  if (!schemes.includes(u.protocol)) {
    throw new Error(`${kind} URL must start with ${schemes.map((s) => `${s}//`).join(' or ')} (got ${u.protocol}//)`);
  }
  if (!u.hostname) throw new Error(`${kind} URL must name a host`);
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  return { url: u.toString(), username, password };
}

export function parseStreamUrl(raw: string): ParsedCameraUrl {
  return parse(raw.trim(), ['rtsp:', 'rtsps:'], 'Stream');
}

export function parseOnvifUrl(raw: string): ParsedCameraUrl {
  return parse(raw.trim(), ['http:', 'https:'], 'ONVIF');
}
