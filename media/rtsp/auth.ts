/**
 * Client side of RTSP authentication (RFC 2326 §D.2 / RFC 7826 with RFC 2617 and RFC 7616): Basic and Digest MD5
 * (with and without qop=auth, MD5-sess). Firmware quirks handled: several WWW-Authenticate headers (Digest wins),
 * lower-case schemes, unquoted or empty parameters, `qop="auth,auth-int"` lists, `stale=TRUE` nonce refreshes,
 * a realm with commas or spaces, and cameras that want the request URI exactly as it was sent.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface AuthChallenge {
  scheme: 'basic' | 'digest';
  params: Record<string, string>;
}

/** Parse `key=value, key="quoted, value"` parameters. */
export function parseAuthParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  return out;
}

export function parseChallenges(headers: string[]): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  for (const h of headers) {
    const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(h);
    if (!m) continue;
    const scheme = m[1].toLowerCase();
    if (scheme === 'basic' || scheme === 'digest') out.push({ scheme, params: parseAuthParams(m[2]) });
  }
  return out;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export class RtspAuthenticator {
  private challenge?: AuthChallenge;
  private nc = 0;

  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  get active(): boolean {
    return this.challenge !== undefined;
  }

  /**
   * Take the challenges of a 401. Returns false when nothing usable was offered, or when the same nonce was refused
   * again (the credentials are wrong: retrying would not help) unless the server flags it stale.
   */
  accept(headers: string[]): boolean {
    const all = parseChallenges(headers);
    const digest = all.find((c) => c.scheme === 'digest' && (!c.params.algorithm || /^md5(-sess)?$/i.test(c.params.algorithm)));
    const chosen = digest ?? all.find((c) => c.scheme === 'basic');
    if (!chosen) return false;
    const prev = this.challenge;
    if (prev && prev.scheme === chosen.scheme) {
      const stale = /^true$/i.test(chosen.params.stale ?? '');
      if (chosen.scheme === 'basic' || (!stale && prev.params.nonce === chosen.params.nonce)) return false;
    }
    this.challenge = chosen;
    this.nc = 0;
    return true;
  }

  /** Authorization header value for a request, or undefined before any challenge. */
  header(method: string, uri: string): string | undefined {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') return `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    const realm = c.params.realm ?? '';
    const nonce = c.params.nonce ?? '';
    const qops = (c.params.qop ?? '').split(',').map((q) => q.trim().toLowerCase());
    const qop = qops.includes('auth') ? 'auth' : undefined;
    const sess = /^md5-sess$/i.test(c.params.algorithm ?? '');
    const cnonce = randomBytes(8).toString('hex');
    let ha1 = md5(`${this.username}:${realm}:${this.password}`);
    if (sess) ha1 = md5(`${ha1}:${nonce}:${cnonce}`);
    const ha2 = md5(`${method}:${uri}`);
    const q = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    const fields = [`username="${q(this.username)}"`, `realm="${q(realm)}"`, `nonce="${q(nonce)}"`, `uri="${q(uri)}"`];
    if (qop) {
      this.nc++;
      const nc = this.nc.toString(16).padStart(8, '0');
      fields.push(`response="${md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`)}"`, `qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
    } else {
      fields.push(`response="${md5(`${ha1}:${nonce}:${ha2}`)}"`);
    }
    if (c.params.opaque !== undefined) fields.push(`opaque="${q(c.params.opaque)}"`);
    if (c.params.algorithm) fields.push(`algorithm=${c.params.algorithm}`);
    return `Digest ${fields.join(', ')}`;
  }
}
