/**
 * SIP digest authentication (RFC 2617 / RFC 3261 §22.4) with MD5, as GB/T 28181 (2016 §9.1.2.1, 2022 §9.1.2)
 * requires for REGISTER. Nonces are stateless: an HMAC over their issue time, so a flood of REGISTERs keeps no
 * per-attempt state on the server, and a nonce older than maxAgeMs is refused (stale=true).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

export function parseAuthParams(header: string): Record<string, string> | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  let p: RegExpExecArray | null;
  let count = 0;
  while ((p = re.exec(m[1])) && count++ < 20) out[p[1].toLowerCase()] = p[2] ?? p[3];
  return out;
}

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
    const want = Buffer.from(createHmac('sha256', this.key).update(m[1]).digest('hex').slice(0, 24));
    if (!timingSafeEqual(want, Buffer.from(m[2]))) return 'bad';
    const age = now - parseInt(m[1], 16);
    if (age < -60_000) return 'bad';
    return age > this.maxAgeMs ? 'stale' : 'ok';
  }
}

export function challengeHeader(realm: string, nonce: string, stale = false): string {
  return `Digest realm="${realm}", nonce="${nonce}", algorithm=MD5${stale ? ', stale=TRUE' : ''}`;
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

export function digestResponse(o: { username: string; realm: string; password: string; method: string; uri: string; nonce: string; qop?: string; nc?: string; cnonce?: string }): string {
  const ha1 = md5(`${o.username}:${o.realm}:${o.password}`);
  const ha2 = md5(`${o.method}:${o.uri}`);
  return o.qop ? md5(`${ha1}:${o.nonce}:${o.nc}:${o.cnonce}:${o.qop}:${ha2}`) : md5(`${ha1}:${o.nonce}:${ha2}`);
}

/** The Authorization header's parameters, or undefined when they are incomplete. */
export function readCredentials(header: string | undefined): DigestCredentials | undefined {
  if (!header) return undefined;
  const p = parseAuthParams(header);
  if (!p?.username || !p.realm || !p.nonce || !p.uri || !p.response) return undefined;
  if (p.algorithm && p.algorithm.toUpperCase() !== 'MD5') return undefined;
  if (p.qop && (p.qop !== 'auth' || !p.nc || !p.cnonce)) return undefined;
  return p as unknown as DigestCredentials;
}

export function verifyDigest(c: DigestCredentials, method: string, password: string): boolean {
  const want = digestResponse({ username: c.username, realm: c.realm, password, method, uri: c.uri, nonce: c.nonce, qop: c.qop, nc: c.nc, cnonce: c.cnonce });
  const got = c.response.toLowerCase();
  return got.length === want.length && timingSafeEqual(Buffer.from(want), Buffer.from(got));
}

/** Client side (the simulator, StreetEye registering upward): answer a WWW-Authenticate challenge. */
export function authorizationFor(challenge: string, o: { username: string; password: string; method: string; uri: string }): string {
  const p = parseAuthParams(challenge);
  if (!p?.realm || !p.nonce) throw new Error('unusable WWW-Authenticate challenge');
  const qop = p.qop?.split(',').map((s) => s.trim()).includes('auth') ? 'auth' : undefined;
  const nc = '00000001';
  const cnonce = qop ? randomBytes(8).toString('hex') : undefined;
  const response = digestResponse({ ...o, realm: p.realm, nonce: p.nonce, qop, nc, cnonce });
  let h = `Digest username="${o.username}", realm="${p.realm}", nonce="${p.nonce}", uri="${o.uri}", response="${response}", algorithm=MD5`;
  if (qop) h += `, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  return h;
}
