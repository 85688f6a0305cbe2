/**
 * HTTP-style authentication as RTSP (RFC 2326 §D.2, RFC 7826) and SIP (RFC 3261 §22.4; GB/T 28181-2016 §9.1.2.1,
 * 2022 §9.1.2) use it: Digest with MD5 (RFC 2617 / RFC 7616: with and without qop=auth, MD5-sess) and Basic.
 * One computation, one header parser and one nonce scheme for the RTSP client (media/rtsp/auth.ts), the simulator's
 * RTSP/HTTP server (simulator/rtsp-auth.ts) and the SIP registrar and devices (gb28181/sip/digest.ts).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const md5Hex = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** Constant-time string comparison (false for different lengths). */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** Servers read headers a stranger sent: at most this many parameters are taken from one. */
const MAX_PARAMS = 32;

/**
 * `key=value, key="quoted, value"` parameters, keys lower-cased, quoted values unescaped. Firmware quirks pass:
 * unquoted or empty values, lists such as `qop="auth,auth-int"`, a realm with commas or spaces.
 */
export function parseAuthParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let m: RegExpExecArray | null;
  for (let n = 0; n < MAX_PARAMS && (m = re.exec(s)); n++) out[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  return out;
}

export interface AuthChallenge {
  scheme: 'basic' | 'digest';
  params: Record<string, string>;
}

/** One `WWW-Authenticate` or `Authorization` value: its scheme (lower case) and parameters; undefined for other schemes. */
export function parseAuthHeader(h: string): AuthChallenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(h);
  const scheme = m?.[1].toLowerCase();
  if (scheme !== 'basic' && scheme !== 'digest') return undefined;
  return { scheme, params: parseAuthParams(m![2]) };
}

/** The usable challenges of a 401 (several WWW-Authenticate headers are common; lower-case schemes too). */
export function parseChallenges(headers: string[]): AuthChallenge[] {
  return headers.map(parseAuthHeader).filter((c): c is AuthChallenge => c !== undefined);
}

export interface DigestInput {
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  /** 'auth' (RFC 2617) or none (RFC 2069) */
  qop?: string;
  nc?: string;
  cnonce?: string;
  /** MD5 (default) or MD5-sess */
  algorithm?: string;
}

/** The `response` of a Digest answer (RFC 2617 §3.2.2). */
export function digestResponse(o: DigestInput): string {
  let ha1 = md5Hex(`${o.username}:${o.realm}:${o.password}`);
  if (/^md5-sess$/i.test(o.algorithm ?? '')) ha1 = md5Hex(`${ha1}:${o.nonce}:${o.cnonce}`);
  const ha2 = md5Hex(`${o.method}:${o.uri}`);
  return o.qop ? md5Hex(`${ha1}:${o.nonce}:${o.nc}:${o.cnonce}:${o.qop}:${ha2}`) : md5Hex(`${ha1}:${o.nonce}:${ha2}`);
}

/** Whether a challenge's algorithm is one this module answers (absent means MD5). */
export function digestAlgorithmSupported(algorithm: string | undefined): boolean {
  return !algorithm || /^md5(-sess)?$/i.test(algorithm);
}

/**
 * The `Authorization` value answering a Digest challenge's parameters. qop=auth is used when offered (nc is the
 * caller's count of requests on this nonce, from 1); otherwise the RFC 2069 form. Echoes opaque and algorithm.
 */
export function digestAuthorization(challenge: Record<string, string>, o: { username: string; password: string; method: string; uri: string; nc?: number }): string {
  const realm = challenge.realm ?? '';
  const nonce = challenge.nonce ?? '';
  const offered = (challenge.qop ?? '').split(',').map((q) => q.trim().toLowerCase());
  const qop = offered.includes('auth') ? 'auth' : undefined;
  const cnonce = randomBytes(8).toString('hex');
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const response = digestResponse({ ...o, realm, nonce, qop, nc, cnonce, algorithm: challenge.algorithm });
  const q = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const fields = [`username="${q(o.username)}"`, `realm="${q(realm)}"`, `nonce="${q(nonce)}"`, `uri="${q(o.uri)}"`, `response="${response}"`];
  if (qop) fields.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  if (challenge.opaque !== undefined) fields.push(`opaque="${q(challenge.opaque)}"`);
  if (challenge.algorithm) fields.push(`algorithm=${challenge.algorithm}`);
  return `Digest ${fields.join(', ')}`;
}

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  algorithm?: string;
}

/** A Digest `Authorization` header's credentials, or undefined when it is not Digest, incomplete or not MD5 / qop=auth. */
export function readDigestCredentials(header: string | undefined): DigestCredentials | undefined {
  const h = header ? parseAuthHeader(header) : undefined;
  if (h?.scheme !== 'digest') return undefined;
  const p = h.params;
  if (!p.username || !p.realm || !p.nonce || p.uri === undefined || !p.response) return undefined;
  if (!digestAlgorithmSupported(p.algorithm)) return undefined;
  if (p.qop && (p.qop !== 'auth' || !p.nc || !p.cnonce)) return undefined;
  return p as unknown as DigestCredentials;
}

/** Whether the credentials answer for this password and method (constant-time compare). */
export function verifyDigest(c: DigestCredentials, method: string, password: string): boolean {
  const want = digestResponse({ ...c, password, method });
  return safeEqual(want, c.response.toLowerCase());
}

/**
 * Stateless nonces: the issue time and an HMAC over it, so a flood of requests keeps no per-attempt state on the
 * server. A nonce older than maxAgeMs is 'stale' (ours, but the client must take a fresh one).
 */
export class NonceIssuer {
  private readonly key = randomBytes(32);
  constructor(private readonly maxAgeMs = 5 * 60_000) {}

  issue(now = Date.now()): string {
    const t = now.toString(16);
    return `${t}${createHmac('sha256', this.key).update(t).digest('hex').slice(0, 24)}`;
  }

  /** 'ok', 'stale' (ours but old) or 'bad' (not ours). */
  check(nonce: string, now = Date.now()): 'ok' | 'stale' | 'bad' {
    const m = /^([0-9a-f]{8,12})([0-9a-f]{24})$/.exec(nonce);
    if (!m) return 'bad';
    if (!safeEqual(createHmac('sha256', this.key).update(m[1]).digest('hex').slice(0, 24), m[2])) return 'bad';
    const age = now - parseInt(m[1], 16);
    if (age < -60_000) return 'bad';
    return age > this.maxAgeMs ? 'stale' : 'ok';
  }
}
