/**
 * Signed, expiring live URLs. The token lives in the path (…/live/<camera>/<stream>/<token>/index.m3u8) so that
 * the relative part and segment URIs of the playlist inherit it and the query stays free for _HLS_* params.
 * token = <exp>.<user>.<base64url(HMAC-SHA256(key, camera, stream, userId, exp)) truncated to 128 bits>
 * where <user> is base64url(userId), or "~" + base64url(16 bytes) for a UUID: the whole token stays well under
 * the router's 100-character limit for one path parameter.
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

const MAC_BYTES = 16;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function mac(key: Buffer, g: LiveGrant): Buffer {
  return createHmac('sha256', deriveKey(key)).update(`${g.cameraId}\n${g.stream}\n${g.userId}\n${g.exp}`).digest().subarray(0, MAC_BYTES);
}

function encodeUser(id: string): string {
  if (UUID.test(id)) return `~${Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url')}`;
  return Buffer.from(id, 'utf8').toString('base64url');
}

function decodeUser(s: string): string | undefined {
  if (s.startsWith('~')) {
    const b = Buffer.from(s.slice(1), 'base64url');
    if (b.length !== 16) return undefined;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return Buffer.from(s, 'base64url').toString('utf8');
}

export function signLiveToken(key: Buffer, g: LiveGrant): string {
  if (!Number.isInteger(g.exp)) throw new Error('exp must be integer seconds');
  const user = encodeUser(g.userId);
  if (user.length > 60) throw new Error('user id too long for a live URL');
  return `${g.exp}.${user}.${mac(key, g).toString('base64url')}`;
}

export function verifyLiveToken(
  key: Buffer,
  p: { cameraId: string; stream: string; token: string },
  nowS: number = Math.floor(Date.now() / 1000),
): VerifyResult {
  const m = /^(\d{1,12})\.(~?[A-Za-z0-9_-]{1,60})\.([A-Za-z0-9_-]{22})$/.exec(p.token);
  if (!m) return { ok: false, reason: 'malformed' };
  const exp = Number(m[1]);
  const userId = decodeUser(m[2]);
  if (userId === undefined) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(m[3], 'base64url');
  const want = mac(key, { cameraId: p.cameraId, stream: p.stream, userId, exp });
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, reason: 'bad_signature' };
  if (exp <= nowS) return { ok: false, reason: 'expired' };
  return { ok: true, userId, exp };
}
