/**
 * The SDP of a GB/T 28181 INVITE (§9.2, appendix F): s=Play (live), a PS/90000 payload, y= the 10-digit SSRC
 * (first digit 0 = live, 1 = playback; then the 5-digit realm part and a 4-digit stream number), f= media
 * parameters (empty: the device's own). TCP transports say who connects: setup:passive (we listen, the device
 * connects) or setup:active (we connect to the device).
 */

export type MediaTransport = 'udp' | 'tcp-passive' | 'tcp-active';

export interface GbOffer {
  channelId: string;
  /** address the device sends to (or, for tcp-active, where we connect from) */
  ip: string;
  port: number;
  transport: MediaTransport;
  ssrc: string;
  session?: 'Play' | 'Playback';
  /** playback range (seconds since the epoch) */
  range?: { start: number; end: number };
}

export function buildOfferSdp(o: GbOffer): string {
  const tcp = o.transport !== 'udp';
  const lines = [
    'v=0',
    `o=${o.channelId} 0 0 IN IP4 ${o.ip}`,
    `s=${o.session ?? 'Play'}`,
    ...(o.session === 'Playback' ? [`u=${o.channelId}:0`] : []),
    `c=IN IP4 ${o.ip}`,
    `t=${o.range ? `${o.range.start} ${o.range.end}` : '0 0'}`,
    `m=video ${o.port} ${tcp ? 'TCP/RTP/AVP' : 'RTP/AVP'} 96 98 97`,
    'a=recvonly',
    'a=rtpmap:96 PS/90000',
    'a=rtpmap:98 H264/90000',
    'a=rtpmap:97 MPEG4/90000',
    ...(tcp ? [`a=setup:${o.transport === 'tcp-passive' ? 'passive' : 'active'}`, 'a=connection:new'] : []),
    `y=${o.ssrc}`,
    'f=',
  ];
  return lines.join('\r\n') + '\r\n';
}

export interface GbSdp {
  ip?: string;
  port?: number;
  tcp: boolean;
  setup?: 'active' | 'passive' | 'actpass';
  ssrc?: string;
  session?: string;
  channelId?: string;
  sendonly: boolean;
  payloads: string[];
  range?: { start: number; end: number };
}

export function parseSdp(text: string): GbSdp {
  const out: GbSdp = { tcp: false, sendonly: false, payloads: [] };
  for (const raw of text.split(/\r?\n/).slice(0, 200)) {
    const line = raw.trim();
    const v = line.slice(2);
    switch (line.slice(0, 2)) {
      case 'o=':
        out.channelId = v.split(' ')[0];
        break;
      case 's=':
        out.session = v;
        break;
      case 'c=': {
        const m = /^IN IP4 (\S+)/.exec(v);
        if (m) out.ip = m[1];
        break;
      }
      case 't=': {
        const [a, b] = v.split(' ').map(Number);
        if (a || b) out.range = { start: a, end: b };
        break;
      }
      case 'm=': {
        const m = /^video (\d{1,5}) (\S+) ?(.*)$/.exec(v);
        if (m) {
          out.port = Number(m[1]);
          out.tcp = m[2].toUpperCase().startsWith('TCP');
          out.payloads = m[3].split(' ').filter(Boolean);
        }
        break;
      }
      case 'a=':
        if (v.startsWith('setup:')) out.setup = v.slice(6) as GbSdp['setup'];
        if (v === 'sendonly') out.sendonly = true;
        break;
      case 'y=':
        out.ssrc = v;
        break;
    }
  }
  return out;
}

/** A live (0) or playback (1) SSRC: prefix digit, realm digits 4–8 of the server ID, a 4-digit counter. */
export function makeSsrc(serverId: string, n: number, playback = false): string {
  return `${playback ? 1 : 0}${serverId.slice(3, 8)}${String(n % 10_000).padStart(4, '0')}`;
}
