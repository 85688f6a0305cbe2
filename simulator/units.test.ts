import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { minuteDelta, readClockStrip, stripCells, stripLayout, STRIP_CELLS } from './clock-strip.js';
import { accessUnits, splitAnnexB } from './h264.js';
import { checkWsSecurity, soapAction } from './onvif-service.js';
import { packetizeAccessUnit, stampFrame } from './rtp-packetizer.js';
import { HttpAuth } from './rtsp-auth.js';
import { parseAuthParams } from '../lib/digest-auth.js';

function paintStrip(ms: number, width: number, height: number): Buffer {
  const rgb = Buffer.alloc(width * height * 3, 90); // mid-grey "picture"
  const L = stripLayout(width, height);
  const fill = (x0: number, y0: number, w: number, h: number, v: number) => {
    for (let y = Math.round(y0); y < Math.round(y0 + h); y++) for (let x = Math.round(x0); x < Math.round(x0 + w); x++) rgb.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
  };
  fill(L.bg.x, L.bg.y, L.bg.w, L.bg.h, 0);
  stripCells(ms).forEach((white, i) => white && fill(L.x0 + i * L.cellW, L.y0, L.cellW, L.cellH, 255));
  return rgb;
}

describe('clock strip', () => {
  it('round-trips every kind of value at several sizes', () => {
    for (const [w, h] of [[1280, 720], [640, 360], [320, 180]]) {
      for (const ms of [0, 1, 999, 31080, 59999, 40 * 777]) expect(readClockStrip(paintStrip(ms, w, h), w, h, 3)).toBe(ms);
    }
  });
  it('rejects frames without a strip or with a broken parity', () => {
    const w = 640;
    const h = 360;
    expect(readClockStrip(Buffer.alloc(w * h * 3, 90), w, h, 3)).toBeNull();
    const rgb = paintStrip(12345, w, h);
    const L = stripLayout(w, h);
    // Flip one data cell: parity must catch it.
    const x = Math.round(L.x0 + 5.5 * L.cellW);
    const y = Math.round(L.y0 + 0.5 * L.cellH);
    for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) rgb.fill(rgb[((y + dy) * w + x + dx) * 3] > 128 ? 0 : 255, ((y + dy) * w + x + dx) * 3, ((y + dy) * w + x + dx) * 3 + 3);
    expect(readClockStrip(rgb, w, h, 3)).toBeNull();
    expect(stripCells(0)).toHaveLength(STRIP_CELLS);
  });
  it('folds minute differences', () => {
    expect(minuteDelta(100, 59900)).toBe(200);
    expect(minuteDelta(59900, 100)).toBe(-200);
  });
});

describe('H.264 and RTP', () => {
  const sc = Buffer.from([0, 0, 0, 1]);
  const sps = Buffer.from([0x67, 0x4d, 0x40, 0x1e, 1, 2, 3]);
  const pps = Buffer.from([0x68, 0xee, 0x3c, 0x80]);
  const idr = Buffer.concat([Buffer.from([0x65, 0x88]), Buffer.alloc(3000, 7)]);
  const p1 = Buffer.from([0x41, 0x9a, 1, 2, 3]);
  const sei = Buffer.from([0x06, 5, 1, 0x80]);
  const es = Buffer.concat([sc, Buffer.from([0x09, 0x10]), sc, sps, sc, pps, sc, sei, sc, idr, Buffer.from([0, 0, 1]), p1, sc, p1]);

  it('cuts access units, drops AUD/SEI and keeps SPS/PPS before the IDR', () => {
    const nals = splitAnnexB(es);
    expect(nals.map((n) => n[0] & 0x1f)).toEqual([9, 7, 8, 6, 5, 1, 1]);
    const { units, sps: s, pps: p } = accessUnits(nals);
    expect(s?.equals(sps)).toBe(true);
    expect(p?.equals(pps)).toBe(true);
    expect(units).toHaveLength(3);
    expect(units[0].key).toBe(true);
    expect(units[0].nals.map((n) => n[0] & 0x1f)).toEqual([7, 8, 5]);
    expect(units[1].key).toBe(false);
  });

  it('fragments large NALs as FU-A and stamps per-session headers', () => {
    const { units } = accessUnits(splitAnnexB(es));
    const f = packetizeAccessUnit(units[0], 1400);
    // SPS, PPS single; IDR 3001 bytes → 3 FU-A fragments.
    expect(f.offsets).toHaveLength(5);
    const out = Buffer.alloc(f.template.length);
    const next = stampFrame(f, out, 2, 65534, 0x12345678, 0xdeadbeef);
    expect(next).toBe(3); // wrapped
    const pk = (i: number) => out.subarray(f.offsets[i], i + 1 < f.offsets.length ? f.offsets[i + 1] : out.length);
    expect(pk(0)[0]).toBe(0x24);
    expect(pk(0)[1]).toBe(2);
    expect(pk(0).readUInt16BE(2)).toBe(pk(0).length - 4);
    expect(pk(0).readUInt32BE(8)).toBe(0x12345678);
    expect(pk(0).readUInt32BE(12)).toBe(0xdeadbeef);
    expect(pk(1).readUInt16BE(6)).toBe(65535);
    const fuStart = pk(2).subarray(16);
    expect(fuStart[0] & 0x1f).toBe(28);
    expect(fuStart[1]).toBe(0x80 | 5);
    const fuEnd = pk(4).subarray(16);
    expect(fuEnd[1]).toBe(0x40 | 5);
    expect(pk(4)[5] & 0x80).toBe(0x80); // marker on the last packet only
    expect(pk(3)[5] & 0x80).toBe(0);
    // Reassembled payload equals the NAL.
    const body = Buffer.concat([2, 3, 4].map((i) => pk(i).subarray(18)));
    expect(Buffer.concat([Buffer.from([(fuStart[0] & 0xe0) | 5]), body]).equals(idr)).toBe(true);
  });
});

describe('authentication', () => {
  const creds = { username: 'admin', password: 's3cret' };
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');

  it('accepts a correct RFC 2069 and RFC 2617 digest and Basic, and refuses wrong ones', () => {
    const auth = new HttpAuth('R');
    const ch = parseAuthParams(auth.rtspChallenges()[0].replace(/^Digest /, ''));
    const ha1 = md5(`admin:R:s3cret`);
    const resp = md5(`${ha1}:${ch.nonce}:${md5('DESCRIBE:rtsp://x/cam/a/main')}`);
    const hdr = (r: string) => `Digest username="admin", realm="R", nonce="${ch.nonce}", uri="rtsp://x/cam/a/main", response="${r}"`;
    expect(auth.check('DESCRIBE', hdr(resp), creds)).toBe(true);
    expect(auth.check('DESCRIBE', hdr(resp), { ...creds, password: 'other' })).toBe(false);
    expect(auth.check('SETUP', hdr(resp), creds)).toBe(false);
    const qopResp = md5(`${ha1}:${ch.nonce}:00000001:abc:auth:${md5('GET:/snapshot/a.jpg')}`);
    expect(auth.check('GET', `Digest username="admin", realm="R", nonce="${ch.nonce}", uri="/snapshot/a.jpg", qop=auth, nc=00000001, cnonce="abc", response="${qopResp}"`, creds)).toBe(true);
    const forged = `${Date.now().toString(16)}${'0'.repeat(24)}`;
    expect(auth.check('DESCRIBE', hdr(resp).replace(ch.nonce, forged), creds)).toBe(false);
    expect(auth.check('GET', `Basic ${Buffer.from('admin:s3cret').toString('base64')}`, creds)).toBe(true);
    expect(auth.check('GET', `Basic ${Buffer.from('admin:nope').toString('base64')}`, creds)).toBe(false);
    expect(auth.check('GET', undefined, creds)).toBe(false);
  });

  it('checks WS-Security PasswordDigest = Base64(SHA1(nonce + created + password))', () => {
    const nonce = Buffer.from('0123456789abcdef');
    const created = new Date().toISOString();
    const digest = (pw: string) => createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(pw)])).digest('base64');
    const env = (pw: string) =>
      `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><Security><UsernameToken><Username>admin</Username>` +
      `<Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest(pw)}</Password>` +
      `<Nonce>${nonce.toString('base64')}</Nonce><wsu:Created>${created}</wsu:Created></UsernameToken></Security></s:Header>` +
      `<s:Body><GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/></s:Body></s:Envelope>`;
    expect(soapAction(env('s3cret'))).toBe('GetProfiles');
    expect(checkWsSecurity(env('s3cret'), creds)).toBe(true);
    expect(checkWsSecurity(env('wrong'), creds)).toBe(false);
    expect(checkWsSecurity(env('s3cret'), creds, Date.now() + 3600_000)).toBe(false); // stale Created
  });
});
