/**
 * Client side of RTSP authentication (RFC 2326 §D.2 / RFC 7826 with RFC 2617 and RFC 7616): Basic and Digest MD5
 * (with and without qop=auth, MD5-sess). Firmware quirks handled: several WWW-Authenticate headers (Digest wins),
 * lower-case schemes, unquoted or empty parameters, `qop="auth,auth-int"` lists, `stale=TRUE` nonce refreshes,
 * a realm with commas or spaces, and cameras that want the request URI exactly as it was sent. The computation and
 * the header parsing are lib/digest-auth.ts (shared with the simulator's server side and SIP).
 */
import { digestAlgorithmSupported, digestAuthorization, parseChallenges, type AuthChallenge } from '../../lib/digest-auth.js';

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
    const digest = all.find((c) => c.scheme === 'digest' && digestAlgorithmSupported(c.params.algorithm));
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
    this.nc++;
    return digestAuthorization(c.params, { username: this.username, password: this.password, method, uri, nc: this.nc });
  }
}
