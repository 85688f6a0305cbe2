/**
 * Signed, expiring live URLs. The token lives in the path (…/live/<camera>/<stream>/<token>/index.m3u8) so that
 * the relative part and segment URIs of the playlist inherit it and the query stays free for _HLS_* params.
 * token = <exp>.<base64url(userId)>.<base64url(HMAC-SHA256(key, camera, stream, userId, exp))>
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface LiveGrant {
  cameraId: string;
  stream: string;
  userId: string;
  /** expiry, seconds since the epoch */
  exp: number;
}

export type VerifyResult = { ok: true; userId: string; exp: number } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

function deriveKey(key: Buffer): Buffer {
  // a purpose-bound subkey: the session/cookie key material is never used directly for URLs
  return createHmac('sha256', key).update('streeteye/live-url/v1').digest();
}

function mac(key: Buffer, g: LiveGrant): Buffer {
  return createHmac('sha256', deriveKey(key)).update(`${g.cameraId}\n${g.stream}\n${g.userId}\n${g.exp}`).digest();
}

export function signLiveToken(key: Buffer, g: LiveGrant): string {
  if (!Number.isInteger(g.exp)) throw new Error('exp must be integer seconds');
  return `${g.exp}.${Buffer.from(g.userId, 'utf8').toString('base64url')}.${mac(key, g).toString('base64url')}`;
}

export function verifyLiveToken(
  key: Buffer,
  p: { cameraId: string; stream: string; token: string },
  nowS: number = Math.floor(Date.now() / 1000),
): VerifyResult {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(p.token);
  if (!m) return { ok: false, reason: 'malformed' };
  const exp = Number(m[1]);
  const userId = Buffer.from(m[2], 'base64url').toString('utf8');
  const given = Buffer.from(m[3], 'base64url');
  const want = mac(key, { cameraId: p.cameraId, stream: p.stream, userId, exp });
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, reason: 'bad_signature' };
  if (exp <= nowS) return { ok: false, reason: 'expired' };
  return { ok: true, userId, exp };
}
