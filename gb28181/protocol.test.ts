import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { SipHeaders, SipParseError, SipStreamFramer, headerParams, makeResponse, parseMessage, parseSipUri, serialize, uriOf, type SipRequest } from './sip/message.js';
import { NonceIssuer, authorizationFor, challengeHeader, readCredentials, verifyDigest } from './sip/digest.js';
import { ManscdpError, buildManscdp, parseManscdp, parseXml, child } from './manscdp.js';
import { PsDemuxer, muxPsFrame, type AccessUnit } from './ps.js';
import { Rfc4571Deframer, SeqTracker, frameRfc4571, packetizePs } from './rtp.js';
import { parseRtp } from '../media/rtp/rtp-packet.js';
import { buildOfferSdp, parseSdp, makeSsrc } from './sdp.js';

const REGISTER = [
  'REGISTER sip:34020000002000000001@3402000000 SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.1.64:5060;rport;branch=z9hG4bK1371463273',
  'From: <sip:34020000001320000001@3402000000>;tag=2043466181',
  'To: <sip:34020000001320000001@3402000000>',
  'Call-ID: 1011047669',
  'CSeq: 1 REGISTER',
  'Contact: <sip:34020000001320000001@192.168.1.64:5060>',
  'Max-Forwards: 70',
  'User-Agent: IP Camera',
  'Expires: 3600',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('SIP messages', () => {
  it('parses a device REGISTER (Hikvision-style) and answers it', () => {
    const m = parseMessage(Buffer.from(REGISTER)) as SipRequest;
    expect(m.kind).toBe('request');
    expect(m.method).toBe('REGISTER');
    expect(m.headers.get('expires')).toBe('3600');
    expect(parseSipUri(uriOf(m.headers.get('from')!))).toEqual({ user: '34020000001320000001', host: '3402000000', port: undefined });
    expect(headerParams(m.headers.get('via')!).params.branch).toBe('z9hG4bK1371463273');
    const r = makeResponse(m, 200, 'OK', { toTag: 'abc', headers: [['Expires', '3600']] });
    const text = serialize(r).toString();
    expect(text).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(text).toContain('To: <sip:34020000001320000001@3402000000>;tag=abc');
    expect(text).toContain('Content-Length: 0\r\n\r\n');
    const back = parseMessage(serialize(r));
    expect(back.kind === 'response' && back.status).toBe(200);
  });

  it('accepts compact header names and LF-only line ends', () => {
    const m = parseMessage(Buffer.from('MESSAGE sip:a@b SIP/2.0\nv: SIP/2.0/UDP h;branch=z9hG4bKx\nf: <sip:1@b>;tag=1\nt: <sip:a@b>\ni: 42\nCSeq: 2 MESSAGE\nl: 5\n\nhello'));
    expect(m.headers.get('call-id')).toBe('42');
    expect(m.body.toString()).toBe('hello');
  });

  it('refuses malformed messages with a reason', () => {
    const bad = [
      'garbage\r\n\r\n',
      'REGISTER sip:a@b SIP/2.0\r\nVia: x\r\n\r\n', // no From/To/Call-ID/CSeq
      REGISTER.replace('CSeq: 1 REGISTER', 'CSeq: one'),
      REGISTER.replace('Content-Length: 0', 'Content-Length: 99'),
      REGISTER.replace('REGISTER sip:', 'REGISTER http:'),
      REGISTER.replace('Max-Forwards: 70', 'Bad Header: 70'),
      REGISTER.replace('Max-Forwards: 70', Array.from({ length: 80 }, (_, i) => `X-${i}: y`).join('\r\n')),
    ];
    for (const b of bad) expect(() => parseMessage(Buffer.from(b)), b.slice(0, 40)).toThrow(SipParseError);
    expect(() => parseMessage(Buffer.alloc(70_000, 0x41))).toThrow(/too large/);
    expect(() => new SipHeaders().add('X', 'a\r\nInjected: 1')).toThrow();
  });

  it('frames TCP streams by Content-Length, across chunk boundaries, and refuses endless headers', () => {
    const body = Buffer.from('<?xml version="1.0"?><Notify/>');
    const msg = REGISTER.replace('Content-Length: 0', `Content-Length: ${body.length}`);
    const whole = Buffer.concat([Buffer.from('\r\n\r\n'), Buffer.from(msg), body, Buffer.from(msg), body]);
    const f = new SipStreamFramer();
    const got = [];
    for (let i = 0; i < whole.length; i += 7) got.push(...f.push(whole.subarray(i, i + 7)));
    expect(got).toHaveLength(2);
    expect(got[1].body.toString()).toBe(body.toString());
    expect(f.buffered).toBe(0);
    const g = new SipStreamFramer();
    expect(() => { for (let i = 0; i < 10; i++) g.push(Buffer.alloc(4000, 0x41)); }).toThrow(/too large/);
  });
});

describe('digest authentication', () => {
  it('verifies a client answer, refuses a wrong password, marks old nonces stale', () => {
    const issuer = new NonceIssuer(60_000);
    const nonce = issuer.issue();
    const challenge = challengeHeader('3402000000', nonce);
    const auth = authorizationFor(challenge, { username: '34020000001320000001', password: '12345678', method: 'REGISTER', uri: 'sip:34020000002000000001@3402000000' });
    const c = readCredentials(auth)!;
    expect(c.username).toBe('34020000001320000001');
    expect(issuer.check(c.nonce)).toBe('ok');
    expect(verifyDigest(c, 'REGISTER', '12345678')).toBe(true);
    expect(verifyDigest(c, 'REGISTER', 'wrong')).toBe(false);
    expect(issuer.check(issuer.issue(Date.now() - 120_000))).toBe('stale');
    expect(issuer.check('00000000000000000000000000000000')).toBe('bad');
    expect(new NonceIssuer().check(nonce)).toBe('bad');
    // qop=auth variant
    const q = authorizationFor(`${challenge}, qop="auth"`, { username: 'u', password: 'p', method: 'REGISTER', uri: 'sip:x' });
    expect(q).toContain('qop=auth');
    expect(verifyDigest(readCredentials(q)!, 'REGISTER', 'p')).toBe(true);
  });
});

describe('MANSCDP XML', () => {
  it('reads a GB2312 catalog page and round-trips names through GB18030 and UTF-8', () => {
    for (const charset of ['gb18030', 'utf8'] as const) {
      const body = buildManscdp('Response', {
        CmdType: 'Catalog', SN: 7, DeviceID: '34020000002000000001', SumNum: 2,
        DeviceList: [
          { DeviceID: '34020000001310000001', Name: '人民路与解放路口 东', CivilCode: '340200', Parental: 0, Longitude: '118.38', Latitude: '31.33' },
          { DeviceID: '34020000001310000002', Name: 'A&B <gate>', CivilCode: '340200', Parental: 0 },
        ],
      }, charset);
      if (charset === 'gb18030') expect(body.includes(Buffer.from('人民路', 'utf8'))).toBe(false);
      const doc = parseManscdp(body);
      expect(doc.cmdType).toBe('Catalog');
      expect(doc.sn).toBe(7);
      expect(doc.charset).toBe(charset);
      const list = child(doc.el, 'DeviceList')!;
      expect(list.attrs.Num).toBe('2');
      expect(child(list.children[0], 'Name')!.text).toBe('人民路与解放路口 东');
      expect(child(list.children[1], 'Name')!.text).toBe('A&B <gate>');
    }
  });

  it('reads GB bytes mislabelled as UTF-8 (a device that lies) and says so', () => {
    const text = '<?xml version="1.0" encoding="UTF-8"?><Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>1</DeviceID><Info>在线</Info></Notify>';
    const doc = parseManscdp(iconv.encode(text, 'gb18030'));
    expect(doc.mislabelled).toBe(true);
    expect(child(doc.el, 'Info')!.text).toBe('在线');
  });

  it('refuses hostile documents: DTD, deep nesting, huge, unclosed, no CmdType', () => {
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')).toThrow(/DTD/);
    expect(() => parseXml('<a>'.repeat(50) + '</a>'.repeat(50))).toThrow(/deeply/);
    expect(() => parseXml(`<a>${'x'.repeat(70_000)}</a>`)).toThrow(/too large/);
    expect(() => parseXml('<a><b></a>')).toThrow(ManscdpError);
    expect(() => parseXml('<a>')).toThrow(/unclosed/);
    expect(() => parseManscdp(Buffer.from('<Query><SN>1</SN></Query>'))).toThrow(/CmdType/);
    expect(() => parseManscdp(Buffer.from('<Evil><CmdType>x</CmdType></Evil>'))).toThrow(/root/);
    expect(() => parseXml(`<a>${'<b/>'.repeat(10_001)}</a>`)).toThrow(/too many/);
  });
});

function fakeAu(n: number, key: boolean, size: number): AccessUnit {
  const nal = key ? Buffer.from([0, 0, 0, 1, 0x67, 1, 2, 3, 0, 0, 0, 1, 0x68, 4, 0, 0, 0, 1, 0x65]) : Buffer.from([0, 0, 0, 1, 0x41]);
  const body = Buffer.alloc(size, n & 0xff);
  return { codec: 'h264', pts: 3600 * n + 90000, dts: 3600 * n + 90000, key, data: Buffer.concat([nal, body]) };
}

describe('PS over RTP', () => {
  it('muxes access units into packs and demuxes them back exactly, across RTP packets and PES splits', () => {
    const aus = [fakeAu(0, true, 150_000), fakeAu(1, false, 900), fakeAu(2, false, 70_000), fakeAu(3, true, 10)];
    const got: AccessUnit[] = [];
    const d = new PsDemuxer((u) => got.push(u));
    let seq = 100;
    const parser = new Rfc4571Deframer();
    for (const au of aus) {
      const pkts = packetizePs(muxPsFrame(au), { seq, timestamp: au.pts, ssrc: 1234 });
      seq += pkts.length;
      // through TCP framing as well
      const stream = Buffer.concat(pkts.map(frameRfc4571));
      parser.push(stream, (p) => {
        const r = parseRtp(p)!;
        expect(r.ssrc).toBe(1234);
        d.push(r.payload);
        if (r.marker) d.endOfFrame();
      });
    }
    expect(got.map((u) => [u.pts, u.key, u.data.length])).toEqual(aus.map((u) => [u.pts, u.key, u.data.length]));
    expect(got.every((u, i) => u.data.equals(aus[i].data))).toBe(true);
    expect(d.streamCodec).toBe('h264');
  });

  it('after lost packets drops the broken frame and waits for the next keyframe; skips garbage', () => {
    const got: AccessUnit[] = [];
    const d = new PsDemuxer((u) => got.push(u));
    d.push(Buffer.from('garbage before the first pack'));
    const frames = [fakeAu(0, true, 3000), fakeAu(1, false, 3000), fakeAu(2, false, 3000), fakeAu(3, true, 3000), fakeAu(4, false, 10)];
    const seqs = new SeqTracker();
    let seq = 0;
    for (const [i, au] of frames.entries()) {
      const pkts = packetizePs(muxPsFrame(au), { seq, timestamp: au.pts, ssrc: 1 });
      seq += pkts.length;
      for (const [k, p] of pkts.entries()) {
        if (i === 1 && k === 1) continue; // lose one packet of frame 1
        const r = parseRtp(p)!;
        if (seqs.accept(r.sequence) === 'gap') d.lost();
        d.push(r.payload);
        if (r.marker) d.endOfFrame();
      }
    }
    expect(got.map((u) => u.pts)).toEqual([frames[0].pts, frames[3].pts, frames[4].pts]);
    expect(d.stats.droppedUnits).toBeGreaterThanOrEqual(1); // frame 2 (frame 1 lost its start and never became a unit)
    expect(d.stats.resyncBytes).toBeGreaterThan(0);
    expect(seqs.lostPackets).toBe(1);
  });

  it('bounds its buffer against a stream that never completes a unit', () => {
    const d = new PsDemuxer(() => {}, { maxBufferBytes: 100_000 });
    const pes = Buffer.from([0, 0, 1, 0xe0, 0xff, 0xff]);
    d.push(pes);
    for (let i = 0; i < 200; i++) d.push(Buffer.alloc(1000));
    expect((d as unknown as { buf: Buffer }).buf.length).toBeLessThan(100_000);
  });
});

describe('SDP', () => {
  it('offers s=Play with y= and TCP setup, and reads an answer', () => {
    const ssrc = makeSsrc('34020000002000000001', 17);
    expect(ssrc).toBe('0200000017');
    const offer = buildOfferSdp({ channelId: '34020000001310000001', ip: '10.0.0.5', port: 30000, transport: 'tcp-passive', ssrc });
    expect(offer).toContain('m=video 30000 TCP/RTP/AVP 96 98 97');
    expect(offer).toContain('a=setup:passive');
    expect(offer).toContain(`y=${ssrc}`);
    const a = parseSdp('v=0\r\no=34020000001310000001 0 0 IN IP4 10.0.0.9\r\ns=Play\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=video 15060 RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\ny=0200000017\r\n');
    expect(a).toMatchObject({ ip: '10.0.0.9', port: 15060, tcp: false, ssrc: '0200000017', sendonly: true, session: 'Play' });
  });
});
