/**
 * StreetEye as a lower platform (级联, GB/T 28181-2016 §5.4, §9.1): it registers to an upper platform (digest),
 * keeps the registration alive (Keepalive MESSAGEs, REGISTER refreshed before expiry, re-registered with backoff
 * after a failure), answers the upper's Catalog with the channels it offers (paged: SumNum + DeviceList), DeviceInfo
 * and DeviceStatus, and answers its INVITE (s=Play) with PS over RTP of that channel: UDP to the offer's address,
 * TCP to the upper when it listens (setup:passive), or TCP from the upper to us (setup:active). BYE ends a stream.
 *
 * Only the upper (its SIP ID in From, its address) is answered; everything else gets 403. No database here: the
 * channels and their media come from `catalog` and `openMedia` (server/gb28181/cascade.ts).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SipHeaders, makeResponse, parseSipUri, topBranch, uriOf, type SipMessage, type SipRequest, type SipResponse } from './sip/message.js';
import { authorizationFor } from './sip/digest.js';
import { SipTransport, type SipPeer, type TransportLog } from './sip/transport.js';
import { ManscdpError, buildManscdp, parseManscdp, MANSCDP_CONTENT_TYPE, type XmlNode } from './manscdp.js';
import { parseSdp } from './sdp.js';
import { muxPsFrame, type AccessUnit } from './ps.js';
import { frameRfc4571, packetizePs } from './rtp.js';

export interface CascadeChannel {
  id: string;
  name: string;
  civilCode?: string | null;
  address?: string | null;
  lng?: number | null;
  lat?: number | null;
  /** 1 dome, 3 fixed (A.2.4.4 PTZType) */
  ptzType?: number | null;
  online: boolean;
}

/** The access units of one channel's stream while the upper watches it. */
export interface CascadeMedia {
  onUnit(cb: (au: AccessUnit) => void): void;
  close(): void;
}

export interface GbCascadeOptions {
  /** our 20-digit SIP ID toward the upper */
  localId: string;
  upper: { id: string; realm: string; host: string; port: number; transport: 'udp' | 'tcp'; password: string };
  bindHost?: string;
  bindPort?: number;
  /** the address the upper reaches us at (Via, Contact, SDP c=) */
  advertiseHost: string;
  expiresS?: number;
  keepaliveS?: number;
  name?: string;
  /** catalog items per Response MESSAGE */
  pageSize?: number;
  catalog: () => Promise<CascadeChannel[]>;
  /** undefined: the channel is not offered (404) */
  openMedia: (channelId: string) => Promise<CascadeMedia | undefined>;
  log: TransportLog & { error?(o: object, m?: string): void };
}

interface OutStream {
  callId: string;
  channelId: string;
  media?: CascadeMedia;
  stop(): void;
  packets: number;
}

const tag = () => randomBytes(6).toString('hex');
const branch = () => `z9hG4bK${randomBytes(8).toString('hex')}`;

export class GbCascadeClient {
  readonly transport: SipTransport;
  readonly counters: Record<string, number> = {};
  registered = false;
  lastError: string | null = null;
  private readonly streams = new Map<string, OutStream>();
  private readonly pending = new Map<string, { resolve: (m: SipResponse) => void; timer: NodeJS.Timeout; retransmit?: NodeJS.Timeout }>();
  private cseq = 1;
  private sn = 1;
  private readonly callId = `${randomBytes(8).toString('hex')}@streeteye`;
  private readonly fromTag = tag();
  private keepaliveTimer?: NodeJS.Timeout;
  private refreshTimer?: NodeJS.Timeout;
  private missedKeepalives = 0;
  private failures = 0;
  private stopped = false;
  private readonly o: Required<Omit<GbCascadeOptions, 'name' | 'bindHost' | 'bindPort'>> & GbCascadeOptions;

  constructor(opts: GbCascadeOptions) {
    this.o = { expiresS: 3600, keepaliveS: 60, pageSize: 8, ...opts };
    this.transport = new SipTransport({
      host: opts.bindHost ?? '0.0.0.0',
      port: opts.bindPort ?? 0,
      udp: opts.upper.transport === 'udp',
      tcp: true,
      log: opts.log,
      onMessage: (m, p) => this.onMessage(m, p),
      onDrop: (reason) => this.count(`dropped_${reason}`),
    });
  }

  private count(k: string): void {
    this.counters[k] = (this.counters[k] ?? 0) + 1;
  }

  get upperPeer(): SipPeer {
    return { transport: this.o.upper.transport, address: this.o.upper.host, port: this.o.upper.port };
  }

  get streamCount(): number {
    return this.streams.size;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.transport.start();
    void this.registerLoop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.keepaliveTimer);
    clearTimeout(this.refreshTimer);
    for (const s of [...this.streams.values()]) s.stop();
    this.streams.clear();
    if (this.registered) await this.register(0).catch(() => {});
    this.registered = false;
    for (const p of this.pending.values()) { clearTimeout(p.timer); clearTimeout(p.retransmit); }
    this.pending.clear();
    await this.transport.stop();
  }

  /** Register now, then refresh at 80 % of the granted expiry; after a failure, again with backoff (2 s … 60 s). */
  private async registerLoop(): Promise<void> {
    if (this.stopped) return;
    clearTimeout(this.refreshTimer);
    let nextMs: number;
    try {
      const granted = await this.register(this.o.expiresS);
      this.failures = 0;
      this.missedKeepalives = 0;
      nextMs = Math.max(5, granted * 0.8) * 1000;
      this.startKeepalive();
    } catch (err) {
      this.registered = false;
      this.lastError = (err as Error).message;
      this.failures++;
      nextMs = Math.min(60_000, 2000 * 2 ** Math.min(this.failures - 1, 5));
      this.o.log.warn({ upper: this.o.upper.id, err: this.lastError, retryS: nextMs / 1000 }, 'GB28181 cascade: registration to the upper platform failed');
    }
    if (this.stopped) return;
    this.refreshTimer = setTimeout(() => void this.registerLoop(), nextMs);
    this.refreshTimer.unref();
  }

  private startKeepalive(): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => {
      void this.keepalive().then((ok) => {
        if (ok) { this.missedKeepalives = 0; return; }
        // three keepalives unanswered (or refused: the upper forgot us): register again
        if (++this.missedKeepalives >= 3 && !this.stopped) {
          this.registered = false;
          this.missedKeepalives = 0;
          void this.registerLoop();
        }
      });
    }, this.o.keepaliveS * 1000);
    this.keepaliveTimer.unref();
  }

  private newRequest(method: string, uri: string, to: string, o: { body?: Buffer; contentType?: string; extra?: Array<[string, string]>; callId?: string; fromTag?: string } = {}): SipRequest {
    const h = new SipHeaders();
    h.add('Via', `SIP/2.0/${this.o.upper.transport.toUpperCase()} ${this.o.advertiseHost}:${this.transport.port};rport;branch=${branch()}`);
    h.add('From', `<sip:${this.o.localId}@${this.o.localId.slice(0, 10)}>;tag=${o.fromTag ?? this.fromTag}`);
    h.add('To', to);
    h.add('Call-ID', o.callId ?? this.callId);
    h.add('CSeq', `${this.cseq++} ${method}`);
    h.add('Max-Forwards', '70');
    h.add('User-Agent', 'StreetEye');
    for (const [k, v] of o.extra ?? []) h.add(k, v);
    if (o.body && o.contentType) h.add('Content-Type', o.contentType);
    return { kind: 'request', method, uri, headers: h, body: o.body ?? Buffer.alloc(0) };
  }

  private send(req: SipRequest, timeoutMs = 5000): Promise<SipResponse> {
    const b = topBranch(req)!;
    return new Promise((resolve, reject) => {
      const p: { resolve: (m: SipResponse) => void; timer: NodeJS.Timeout; retransmit?: NodeJS.Timeout } = {
        resolve,
        timer: setTimeout(() => { this.pending.delete(b); clearTimeout(p.retransmit); reject(new Error(`no answer to ${req.method} from the upper platform`)); }, timeoutMs),
      };
      this.pending.set(b, p);
      const out = () => this.transport.send(this.upperPeer, req).catch((err) => { clearTimeout(p.timer); clearTimeout(p.retransmit); this.pending.delete(b); reject(err); });
      void out();
      if (this.o.upper.transport === 'udp') {
        let every = 500;
        const again = () => { p.retransmit = setTimeout(() => { if (!this.pending.has(b)) return; void out(); every = Math.min(every * 2, 4000); again(); }, every); };
        again();
      }
    });
  }

  /** REGISTER (answering the digest challenge); resolves with the granted expiry (s). Expires 0 unregisters. */
  async register(expiresS: number): Promise<number> {
    const u = this.o.upper;
    const uri = `sip:${u.id}@${u.realm}`;
    const to = `<sip:${this.o.localId}@${this.o.localId.slice(0, 10)}>`;
    const extra: Array<[string, string]> = [['Contact', `<sip:${this.o.localId}@${this.o.advertiseHost}:${this.transport.port}>`], ['Expires', String(expiresS)]];
    let res = await this.send(this.newRequest('REGISTER', uri, to, { extra }));
    if (res.status === 401 || res.status === 407) {
      const challenge = res.headers.get(res.status === 401 ? 'www-authenticate' : 'proxy-authenticate');
      if (!challenge) throw new Error('the upper platform challenged without a digest');
      const auth = authorizationFor(challenge, { username: this.o.localId, password: u.password, method: 'REGISTER', uri });
      res = await this.send(this.newRequest('REGISTER', uri, to, { extra: [...extra, [res.status === 401 ? 'Authorization' : 'Proxy-Authorization', auth]] }));
    }
    if (res.status !== 200) {
      this.count('register_refused');
      throw new Error(`the upper platform refused the REGISTER (${res.status} ${res.reason})`);
    }
    this.count(expiresS ? 'register_ok' : 'unregister');
    this.registered = expiresS > 0;
    this.lastError = null;
    const granted = Number(res.headers.get('expires') ?? expiresS);
    if (expiresS) this.o.log.info({ upper: u.id, expiresS: granted }, 'GB28181 cascade: registered to the upper platform');
    return Number.isFinite(granted) && granted > 0 ? granted : expiresS;
  }

  /** One Keepalive MESSAGE; true when the upper answered 200. */
  async keepalive(): Promise<boolean> {
    try {
      const res = await this.message({ CmdType: 'Keepalive', SN: this.sn++, DeviceID: this.o.localId, Status: 'OK' }, 'Notify');
      this.count(res.status === 200 ? 'keepalive_ok' : 'keepalive_refused');
      return res.status === 200;
    } catch {
      this.count('keepalive_unanswered');
      return false;
    }
  }

  private message(fields: XmlNode, root: 'Notify' | 'Response'): Promise<SipResponse> {
    const u = this.o.upper;
    return this.send(this.newRequest('MESSAGE', `sip:${u.id}@${u.realm}`, `<sip:${u.id}@${u.realm}>`, {
      body: buildManscdp(root, fields), contentType: MANSCDP_CONTENT_TYPE, callId: `${randomBytes(8).toString('hex')}@streeteye`, fromTag: tag(),
    }));
  }

  // ───────────────────────────── incoming ─────────────────────────────

  private onMessage(msg: SipMessage, peer: SipPeer): void {
    if (msg.kind === 'response') {
      const b = topBranch(msg);
      const p = b ? this.pending.get(b) : undefined;
      if (!p) return;
      clearTimeout(p.retransmit);
      if (msg.status < 200) return;
      this.pending.delete(b!);
      clearTimeout(p.timer);
      p.resolve(msg);
      return;
    }
    void this.onRequest(msg, peer).catch((err) => {
      this.o.log.warn({ method: msg.method, err: (err as Error).message }, 'GB28181 cascade: request from the upper failed');
      void this.reply(peer, msg, 500, 'Server Internal Error').catch(() => {});
    });
  }

  private reply(peer: SipPeer, req: SipRequest, status: number, reason: string, o: { body?: Buffer; contentType?: string; toTag?: string; headers?: Array<[string, string]> } = {}): Promise<void> {
    if (req.method === 'ACK') return Promise.resolve();
    return this.transport.send(peer, makeResponse(req, status, reason, { toTag: o.toTag ?? tag(), body: o.body, contentType: o.contentType, headers: o.headers }));
  }

  private fromUpper(req: SipRequest, peer: SipPeer): boolean {
    const from = parseSipUri(uriOf(req.headers.get('from') ?? ''))?.user;
    return from === this.o.upper.id && peer.address.replace(/^::ffff:/, '') === this.o.upper.host;
  }

  private async onRequest(req: SipRequest, peer: SipPeer): Promise<void> {
    if (/^SIP\/2\.0\/TCP/i.test(req.headers.get('via') ?? '')) peer = { ...peer, transport: 'tcp' };
    if (req.method === 'ACK') return;
    if (!this.fromUpper(req, peer)) {
      this.count('refused_not_upper');
      this.o.log.warn({ from: peer.address, method: req.method }, 'GB28181 cascade: request from someone other than the upper platform refused');
      return this.reply(peer, req, 403, 'Forbidden');
    }
    switch (req.method) {
      case 'MESSAGE':
        return this.onQuery(req, peer);
      case 'INVITE':
        return this.onInvite(req, peer);
      case 'BYE': {
        const s = this.streams.get(req.headers.get('call-id') ?? '');
        if (s) { s.stop(); this.streams.delete(s.callId); this.o.log.info({ channel: s.channelId, packets: s.packets }, 'GB28181 cascade: the upper ended a stream'); }
        return this.reply(peer, req, s ? 200 : 481, s ? 'OK' : 'Call/Transaction Does Not Exist');
      }
      case 'SUBSCRIBE':
        return this.reply(peer, req, 200, 'OK', { headers: [['Expires', req.headers.get('expires') ?? '3600']] });
      case 'OPTIONS':
        return this.reply(peer, req, 200, 'OK', { headers: [['Allow', 'INVITE, ACK, BYE, MESSAGE, SUBSCRIBE, OPTIONS']] });
      default:
        return this.reply(peer, req, 405, 'Method Not Allowed');
    }
  }

  private async onQuery(req: SipRequest, peer: SipPeer): Promise<void> {
    let doc;
    try {
      doc = parseManscdp(req.body);
    } catch (err) {
      this.count('manscdp_malformed');
      this.o.log.warn({ err: err instanceof ManscdpError ? err.message : String(err) }, 'GB28181 cascade: malformed MESSAGE from the upper refused');
      return this.reply(peer, req, 400, 'Bad Request');
    }
    await this.reply(peer, req, 200, 'OK');
    if (doc.root !== 'Query') return;
    const id = this.o.localId;
    if (doc.cmdType === 'Catalog') {
      this.count('catalog_query');
      const channels = await this.o.catalog();
      const items = channels.map((c) => ({
        DeviceID: c.id, Name: c.name, Manufacturer: 'StreetEye', Model: 'StreetEye', Owner: 'StreetEye', CivilCode: c.civilCode ?? id.slice(0, 6),
        Address: c.address ?? '', Parental: 0, ParentID: id, SafetyWay: 0, RegisterWay: 1, Secrecy: 0, Status: c.online ? 'ON' : 'OFF',
        ...(c.lng != null && c.lat != null ? { Longitude: c.lng.toFixed(6), Latitude: c.lat.toFixed(6) } : {}),
        Info: { PTZType: c.ptzType ?? 3 },
      }));
      for (let i = 0; i < items.length || i === 0; i += this.o.pageSize) {
        await this.message({ CmdType: 'Catalog', SN: doc.sn, DeviceID: id, SumNum: items.length, DeviceList: items.slice(i, i + this.o.pageSize) }, 'Response').catch(() => {});
        if (!items.length) break;
      }
    } else if (doc.cmdType === 'DeviceInfo') {
      const n = (await this.o.catalog()).length;
      await this.message({ CmdType: 'DeviceInfo', SN: doc.sn, DeviceID: id, DeviceName: this.o.name ?? 'StreetEye', Result: 'OK', Manufacturer: 'StreetEye', Model: 'StreetEye platform', Firmware: '1.0', Channel: n }, 'Response').catch(() => {});
    } else if (doc.cmdType === 'DeviceStatus') {
      await this.message({ CmdType: 'DeviceStatus', SN: doc.sn, DeviceID: id, Result: 'OK', Online: 'ONLINE', Status: 'OK', Encode: 'ON', Record: 'OFF', DeviceTime: new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19) }, 'Response').catch(() => {});
    } else this.count('query_unhandled');
  }

  private async onInvite(req: SipRequest, peer: SipPeer): Promise<void> {
    const channelId = parseSipUri(req.uri)?.user ?? '';
    const offer = parseSdp(req.body.toString('utf8'));
    this.count('invite');
    if (offer.session && offer.session !== 'Play') return this.reply(peer, req, 488, 'Not Acceptable Here: live only');
    if (!/^\d{20}$/.test(channelId) || !offer.ip || !offer.port || !offer.ssrc || !/^\d{1,10}$/.test(offer.ssrc) || Number(offer.ssrc) > 0xffffffff) {
      this.count('invite_bad_offer');
      return this.reply(peer, req, 488, 'Not Acceptable Here');
    }
    const media = await this.o.openMedia(channelId);
    if (!media) {
      this.count('invite_unknown_channel');
      this.o.log.info({ channel: channelId }, 'GB28181 cascade: INVITE for a channel we do not offer');
      return this.reply(peer, req, 404, 'Not Found');
    }
    const callId = req.headers.get('call-id')!;
    const ssrc = Number(offer.ssrc);
    const stops: Array<() => void> = [() => media.close()];
    const stream: OutStream = { callId, channelId, media, packets: 0, stop: () => { for (const f of stops.splice(0)) f(); } };
    let seq = Math.floor(Math.random() * 60000);
    let started = false;
    const pump = (write: (p: Buffer) => void) => {
      media.onUnit((au) => {
        if (!started && !au.key) return;
        started = true;
        for (const p of packetizePs(muxPsFrame(au), { seq, timestamp: au.pts % 2 ** 32, ssrc })) {
          seq = (seq + 1) & 0xffff;
          stream.packets++;
          write(p);
        }
      });
    };
    let localPort: number;
    let setup: string | undefined;
    let connected = false;
    if (!offer.tcp) {
      const sock: UdpSocket = createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, this.o.bindHost ?? '0.0.0.0', () => r()));
      sock.on('error', () => {});
      localPort = sock.address().port;
      stops.push(() => sock.close());
      pump((p) => sock.send(p, offer.port!, offer.ip!));
    } else if (offer.setup === 'passive') {
      // the upper listens: we connect to it
      setup = 'active';
      localPort = 9;
      const s: Socket = connect({ host: offer.ip, port: offer.port });
      s.on('error', () => stream.stop());
      stops.push(() => s.destroy());
      s.once('connect', () => pump((p) => { if (s.writableLength < 4 * 1024 * 1024) s.write(frameRfc4571(p)); }));
    } else {
      // setup:active (the upper connects to us) or no preference: we listen
      setup = 'passive';
      const server: Server = createServer();
      await new Promise<void>((r) => server.listen(0, this.o.bindHost ?? '0.0.0.0', () => r()));
      localPort = (server.address() as { port: number }).port;
      stops.push(() => server.close());
      server.on('connection', (s) => {
        // only the upper may connect, and once
        if (connected || s.remoteAddress?.replace(/^::ffff:/, '') !== this.o.upper.host) {
          this.count('media_refused_address');
          s.destroy();
          return;
        }
        connected = true;
        s.on('error', () => stream.stop());
        stops.push(() => s.destroy());
        pump((p) => { if (s.writableLength < 4 * 1024 * 1024) s.write(frameRfc4571(p)); });
      });
    }
    this.streams.set(callId, stream);
    const host = this.o.advertiseHost;
    const answer = [
      'v=0', `o=${channelId} 0 0 IN IP4 ${host}`, 's=Play', `c=IN IP4 ${host}`, 't=0 0',
      `m=video ${localPort} ${offer.tcp ? 'TCP/RTP/AVP' : 'RTP/AVP'} 96`, 'a=sendonly', 'a=rtpmap:96 PS/90000',
      ...(setup ? [`a=setup:${setup}`, 'a=connection:new'] : []), `y=${offer.ssrc}`, 'f=',
    ].join('\r\n') + '\r\n';
    await this.reply(peer, req, 200, 'OK', { body: Buffer.from(answer), contentType: 'APPLICATION/SDP', headers: [['Contact', `<sip:${this.o.localId}@${host}:${this.transport.port}>`]] });
    this.o.log.info({ channel: channelId, transport: offer.tcp ? `tcp-${setup}` : 'udp', to: `${offer.ip}:${offer.port}` }, 'GB28181 cascade: streaming a channel to the upper platform');
  }
}
