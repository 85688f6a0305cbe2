/**
 * Camera URLs that may reach ffmpeg: rtsp:// or rtsps:// with a host, nothing else. ffmpeg treats its input
 * string as a URL of *any* protocol it knows (file:, concat:, subfile:, data:, http:, ...) or as a path, and
 * `-f lavfi` would turn it into a filter graph: only a strictly validated rtsp(s) URL is ever passed, with
 * `-f rtsp` and a protocol whitelist on top (see ffmpeg-args.ts).
 */

export class InvalidCameraUrlError extends Error {
  constructor(reason: string) {
    super(`invalid camera URL: ${reason}`);
    this.name = 'InvalidCameraUrlError';
  }
}

/** Who pulls a camera stream: the in-process RTSP/RTP/fMP4 core, or one ffmpeg process. */
export type MediaEngine = 'native' | 'ffmpeg';
export const MEDIA_ENGINES: readonly MediaEngine[] = ['native', 'ffmpeg'];

export interface RtspSource {
  /** the URL without credentials (safe to store and log) */
  url: string;
  username?: string;
  password?: string;
  /** the camera's engine setting (absent: the node's default) */
  engine?: MediaEngine;
}

const MAX_URL = 2048;

/**
 * Validate a camera URL. Returns it normalised and without credentials; credentials embedded in the URL are
 * returned separately (an explicit username/password wins over embedded ones).
 */
export function validateRtspUrl(raw: unknown, creds: { username?: string; password?: string } = {}): RtspSource {
  if (typeof raw !== 'string') throw new InvalidCameraUrlError('not a string');
  if (raw.length === 0 || raw.length > MAX_URL) throw new InvalidCameraUrlError('empty or too long');
  // no whitespace or control characters anywhere (ffmpeg would pass them to the server or split on them)
  if (/[\u0000-\u0020\u007f-\u009f\u2028\u2029]/.test(raw)) throw new InvalidCameraUrlError('whitespace or control characters');
  // ffmpeg's concat/subfile/pipe syntaxes and shell-ish separators have no place in a camera URL
  if (/[|\\`^{}<>"]/.test(raw)) throw new InvalidCameraUrlError('forbidden characters');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw);
  if (!scheme) throw new InvalidCameraUrlError('only rtsp:// and rtsps:// URLs are accepted');
  const proto = scheme[1].toLowerCase();
  if (proto !== 'rtsp' && proto !== 'rtsps') throw new InvalidCameraUrlError('only rtsp:// and rtsps:// URLs are accepted');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new InvalidCameraUrlError('unparseable');
  }
  if (u.protocol !== 'rtsp:' && u.protocol !== 'rtsps:') throw new InvalidCameraUrlError('only rtsp:// and rtsps:// URLs are accepted');
  if (!u.hostname) throw new InvalidCameraUrlError('no host');
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?)$/i.test(u.hostname))
    throw new InvalidCameraUrlError('bad host name');
  if (u.port && (Number(u.port) < 1 || Number(u.port) > 65535)) throw new InvalidCameraUrlError('bad port');
  const embeddedUser = u.username ? decodeURIComponent(u.username) : undefined;
  const embeddedPass = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  u.hash = '';
  const username = creds.username ?? embeddedUser;
  const password = creds.password ?? embeddedPass;
  for (const c of [username, password]) if (c !== undefined && /[\u0000-\u001f\u007f]/.test(c)) throw new InvalidCameraUrlError('control characters in credentials');
  return { url: u.toString(), username: username || undefined, password: password || undefined };
}

/** The URL handed to ffmpeg (credentials inside, percent-encoded). Never log this string. */
export function urlWithCredentials(src: RtspSource): string {
  const u = new URL(validateRtspUrl(src.url).url);
  if (src.username) {
    u.username = encodeURIComponent(src.username);
    if (src.password) u.password = encodeURIComponent(src.password);
  }
  return u.toString();
}

/** Remove credentials from a URL for logs. */
export function redactUrl(url: string): string {
  return redactText(url);
}

/** Remove credentials from any text (ffmpeg stderr echoes the input URL): userinfo and the known secrets. */
export function redactText(text: string, secrets: (string | undefined)[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
  for (const s of secrets) {
    if (!s || s.length < 3) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return out;
}
