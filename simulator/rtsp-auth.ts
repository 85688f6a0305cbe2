/**
 * HTTP-style Digest (RFC 2617, MD5, with or without qop=auth) and Basic authentication, shared by
 * RTSP and the snapshot endpoint. Nonces are stateless (timestamp + HMAC) so hundreds of cameras and
 * thousands of sessions keep no nonce table; they stay valid for a day because RTSP clients keep
 * reusing the first nonce for keep-alives and TEARDOWN.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Credentials {
  username: string;
  password: string;
}

const NONCE_TTL_MS = 24 * 3600_000;

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** Parse `key=value, key="quoted, value"` auth parameters. */
export function parseAuthParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  return out;
}

export class HttpAuth {
  private readonly secret = randomBytes(32);
  constructor(readonly realm = 'StreetEye Simulator') {}

  private nonce(): string {
    const ts = Date.now().toString(16);
    return ts + createHmac('sha256', this.secret).update(ts).digest('hex').slice(0, 24);
  }

  private nonceValid(nonce: string): boolean {
    const ts = nonce.slice(0, -24);
    const mac = createHmac('sha256', this.secret).update(ts).digest('hex').slice(0, 24);
    if (!safeEqual(mac, nonce.slice(-24))) return false;
    const age = Date.now() - parseInt(ts, 16);
    return age >= 0 && age < NONCE_TTL_MS;
  }

  /** WWW-Authenticate header values: Digest first (clients pick the strongest they know). */
  challenges(): string[] {
    return [`Digest realm="${this.realm}", nonce="${this.nonce()}", algorithm=MD5, qop="auth"`, `Basic realm="${this.realm}"`];
  }

  /** RTSP clients (ffmpeg, VLC) handle the qop-less RFC 2069 form best. */
  rtspChallenges(): string[] {
    return [`Digest realm="${this.realm}", nonce="${this.nonce()}"`, `Basic realm="${this.realm}"`];
  }

  check(method: string, header: string | undefined, creds: Credentials): boolean {
    if (!header) return false;
    const sp = header.indexOf(' ');
    if (sp < 0) return false;
    const scheme = header.slice(0, sp).toLowerCase();
    const rest = header.slice(sp + 1).trim();
    if (scheme === 'basic') {
      const decoded = Buffer.from(rest, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      return i >= 0 && safeEqual(decoded.slice(0, i), creds.username) && safeEqual(decoded.slice(i + 1), creds.password);
    }
    if (scheme !== 'digest') return false;
    const p = parseAuthParams(rest);
    if (!p.username || !p.nonce || !p.response || p.uri === undefined) return false;
    if (!safeEqual(p.username, creds.username) || p.realm !== this.realm || !this.nonceValid(p.nonce)) return false;
    const ha1 = md5(`${creds.username}:${this.realm}:${creds.password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    const expected = p.qop ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
    return safeEqual(expected, p.response.toLowerCase());
  }
}
