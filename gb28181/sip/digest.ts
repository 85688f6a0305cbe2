/**
 * SIP digest authentication (RFC 3261 §22.4) with MD5, as GB/T 28181 (2016 §9.1.2.1, 2022 §9.1.2) requires for
 * REGISTER. The computation, parsing and stateless nonces are lib/digest-auth.ts (shared with RTSP); a nonce older
 * than the issuer's maxAgeMs is refused with stale=true.
 */
import { digestAuthorization, parseAuthHeader } from '../../lib/digest-auth.js';

export {
  NonceIssuer, readDigestCredentials as readCredentials, verifyDigest, type DigestCredentials,
} from '../../lib/digest-auth.js';

export function challengeHeader(realm: string, nonce: string, stale = false): string {
  return `Digest realm="${realm}", nonce="${nonce}", algorithm=MD5${stale ? ', stale=TRUE' : ''}`;
}

/** Client side (the simulator, StreetEye registering upward): answer a WWW-Authenticate challenge. */
export function authorizationFor(challenge: string, o: { username: string; password: string; method: string; uri: string }): string {
  const c = parseAuthHeader(challenge);
  if (c?.scheme !== 'digest' || !c.params.realm || !c.params.nonce) throw new Error('unusable WWW-Authenticate challenge');
  return digestAuthorization({ algorithm: 'MD5', ...c.params }, o);
}
