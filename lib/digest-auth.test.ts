import { describe, expect, it } from 'vitest';
import { digestAuthorization, digestResponse, parseChallenges, readDigestCredentials, verifyDigest } from './digest-auth.js';

describe('digest authentication (the one computation for RTSP and SIP)', () => {
  it('computes the RFC 2617 §3.5 example response', () => {
    expect(digestResponse({
      username: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
    })).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('answers MD5-sess and qop lists, and the answer verifies only with the right password and method', () => {
    const [c] = parseChallenges(['Digest realm="cam, 2F", nonce="abc", qop="auth,auth-int", algorithm=MD5-sess, opaque="o1"']);
    const h = digestAuthorization(c.params, { username: 'admin', password: 'pa"ss', method: 'DESCRIBE', uri: 'rtsp://h/x', nc: 2 });
    expect(h).toMatch(/qop=auth, nc=00000002, cnonce="[0-9a-f]{16}", opaque="o1", algorithm=MD5-sess$/);
    const creds = readDigestCredentials(h)!;
    expect(creds).toMatchObject({ username: 'admin', realm: 'cam, 2F', nonce: 'abc', uri: 'rtsp://h/x' });
    expect(verifyDigest(creds, 'DESCRIBE', 'pa"ss')).toBe(true);
    expect(verifyDigest(creds, 'DESCRIBE', 'other')).toBe(false);
    expect(verifyDigest(creds, 'SETUP', 'pa"ss')).toBe(false);
  });

  it('reads firmware quirks and refuses what it cannot verify', () => {
    expect(parseChallenges(['basic realm="x"', 'NTLM', 'digest realm=r,nonce=n2'])).toEqual([
      { scheme: 'basic', params: { realm: 'x' } }, { scheme: 'digest', params: { realm: 'r', nonce: 'n2' } }]);
    expect(readDigestCredentials('Digest username="u", realm="r", nonce="n", uri="/", response="x", algorithm=SHA-256')).toBeUndefined();
    expect(readDigestCredentials('Digest username="u", realm="r", nonce="n", uri="/", response="x", qop=auth')).toBeUndefined(); // no nc/cnonce
    expect(readDigestCredentials('Basic dTpw')).toBeUndefined();
  });
});
