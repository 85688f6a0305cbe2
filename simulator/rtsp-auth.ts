/**
 * The simulator's server side of Digest (RFC 2617, MD5, with or without qop=auth) and Basic authentication, shared
 * by RTSP and the snapshot endpoint; the computation and nonces are lib/digest-auth.ts. Nonces are stateless, so
 * hundreds of cameras and thousands of sessions keep no nonce table; they stay valid for a day because RTSP clients
 * keep reusing the first nonce for keep-alives and TEARDOWN.
 */
import { NonceIssuer, readDigestCredentials, safeEqual, verifyDigest } from '../lib/digest-auth.js';

export interface Credentials {
  username: string;
  password: string;
}

const NONCE_TTL_MS = 24 * 3600_000;

export class HttpAuth {
  private readonly nonces = new NonceIssuer(NONCE_TTL_MS);
  constructor(readonly realm = 'StreetEye Simulator') {}

  /** WWW-Authenticate header values: Digest first (clients pick the strongest they know). */
  challenges(): string[] {
    return [`Digest realm="${this.realm}", nonce="${this.nonces.issue()}", algorithm=MD5, qop="auth"`, `Basic realm="${this.realm}"`];
  }

  /** RTSP clients (ffmpeg, VLC) handle the qop-less RFC 2069 form best. */
  rtspChallenges(): string[] {
    return [`Digest realm="${this.realm}", nonce="${this.nonces.issue()}"`, `Basic realm="${this.realm}"`];
  }

  check(method: string, header: string | undefined, creds: Credentials): boolean {
    if (!header) return false;
    const basic = /^\s*basic\s+(\S+)\s*$/i.exec(header);
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      return i >= 0 && safeEqual(decoded.slice(0, i), creds.username) && safeEqual(decoded.slice(i + 1), creds.password);
    }
    const c = readDigestCredentials(header);
    if (!c || !safeEqual(c.username, creds.username) || c.realm !== this.realm || this.nonces.check(c.nonce) !== 'ok') return false;
    return verifyDigest(c, method, creds.password);
  }
}
