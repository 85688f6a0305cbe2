/**
 * A simulated GB/T 28181 device (IPC/NVR) or lower platform: REGISTER with digest auth, Keepalive, answers to
 * Catalog (paged, GB2312), DeviceInfo and DeviceStatus queries, DeviceControl (PTZ commands are recorded), catalog
 * NOTIFY events and Alarm notifications on demand, and INVITE answered with PS over RTP (UDP, TCP passive or TCP
 * active) from a pre-encoded H.264 loop. Its channels hold recordings (`recordings`): RecordInfo is answered in pages,
 * an INVITE s=Playback streams the loop for the requested range at the speed INFO/MANSRTSP sets (PLAY Scale, PAUSE) and
 * ends it with a MediaStatus 121 notify. Faults for tests: wrong password, a mismatched SSRC in the answer, RTP sent
 * from another address, stop sending media.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SipHeaders, headerParams, makeResponse, parseSipUri, topBranch, uriOf, type SipMessage, type SipRequest, type SipResponse } from '../gb28181/sip/message.js';
import { authorizationFor } from '../gb28181/sip/digest.js';
import { SipTransport, type SipPeer } from '../gb28181/sip/transport.js';
import { buildManscdp, parseManscdp, textOf, MANSCDP_CONTENT_TYPE, type Charset, type XmlNode } from '../gb28181/manscdp.js';
import { parseSdp } from '../gb28181/sdp.js';
import { fromGbTime, parseMansrtsp, toGbTime } from '../gb28181/record-info.js';
import { muxPsFrame } from '../gb28181/ps.js';
import { frameRfc4571, packetizePs } from '../gb28181/rtp.js';
import { accessUnits, splitAnnexB } from './h264.js';

export interface GbSimChannel {
  id: string;
  name: string;
  civilCode: string;
  parentId: string;
  lng: number;
  lat: number;
  ptzType: number;
}

export interface GbSimOptions {
  deviceId: string;
  password: string;
  server: { host: string; port: number; id: string; realm: string };
  transport?: 'udp' | 'tcp';
  /** 'device' (IPC/NVR) or 'platform' (a lower platform: civil-code and business-group items in its catalog) */
  mode?: 'device' | 'platform';
  channels: number;
  /** Annex-B H.264 file looped as the channels' video */
  h264File?: string;
  fps?: number;
  keepaliveMs?: number;
  expiresS?: number;
  /** items per Catalog Response MESSAGE */
  pageSize?: number;
  charset?: Charset;
  edition?: '2016' | '2022';
  name?: string;
  /**
   * Recordings every channel holds (the answer to RecordInfo, what s=Playback streams), ms since the epoch.
   * Default: three spans in the last 3 hours (2 h 50 min–2 h 20 min ago, 2 h–1 h ago, 40–10 min ago).
   */
  recordings?: Array<{ startMs: number; endMs: number }>;
}

interface Stream {
  callId: string;
  channelId: string;
  stop(): void;
  packets: number;
  playback?: { startMs: number; endMs: number; scale: number; paused: boolean; ended: boolean };
}

const tag = () => randomBytes(6).toString('hex');
const branch = () => `z9hG4bK${randomBytes(8).toString('hex')}`;

export class GbSimDevice {
  readonly transport: SipTransport;
  readonly channels: GbSimChannel[];
  readonly ptzCommands: Array<{ channelId: string; cmd: string }> = [];
  readonly streams = new Map<string, Stream>();
  /** test faults */
  faults = { answerSsrc: undefined as string | undefined, rtpFromAddress: undefined as string | undefined, mute: false, refuseInvite: false };
  invites = 0;
  registered = false;
  /** the recordings every channel holds */
  readonly recordings: Array<{ startMs: number; endMs: number }>;
  /** MANSRTSP commands received in playback INFOs */
  readonly playbackCommands: Array<{ channelId: string; method: string; scale?: number }> = [];
  /** MediaStatus 121 notifies sent (the end of a playback range) */
  mediaEnds = 0;
  private units: Array<{ data: Buffer; key: boolean }> = [];
  private keepaliveTimer?: NodeJS.Timeout;
  private cseq = 1;
  private sn = 1;
  private callId = `${randomBytes(8).toString('hex')}@sim`;
  private fromTag = tag();
  private readonly pending = new Map<string, (m: SipResponse) => void>();
  private readonly o: Required<Omit<GbSimOptions, 'h264File' | 'name' | 'recordings'>> & GbSimOptions;

  constructor(opts: GbSimOptions) {
    this.o = { transport: 'udp', mode: 'device', fps: 10, keepaliveMs: 60_000, expiresS: 3600, pageSize: 4, charset: 'gb18030', edition: '2016', ...opts };
    const now = Date.now();
    this.recordings = opts.recordings ?? [
      { startMs: now - 170 * 60_000, endMs: now - 140 * 60_000 },
      { startMs: now - 120 * 60_000, endMs: now - 60 * 60_000 },
      { startMs: now - 40 * 60_000, endMs: now - 10 * 60_000 },
    ];
    const civil = opts.deviceId.slice(0, 6);
    const prefix = opts.deviceId.slice(0, 10);
    this.channels = Array.from({ length: opts.channels }, (_, i) => ({
      id: `${prefix}131${String(i + 1).padStart(7, '0')}`,
      name: `模拟通道 ${i + 1} Sim channel`,
      civilCode: civil,
      parentId: this.o.mode === 'platform' ? `${prefix}215${'0'.repeat(6)}1` : opts.deviceId,
      lng: 117 + (i % 100) / 1000,
      lat: 31 + Math.floor(i / 100) / 1000,
      ptzType: i % 4 === 0 ? 1 : 3,
    }));
    this.transport = new SipTransport({
      host: '127.0.0.1',
      port: 0,
      udp: this.o.transport === 'udp',
      tcp: true,
      log: { debug() {}, info() {}, warn() {} },
      onMessage: (m, p) => this.onMessage(m, p),
    });
  }

  get serverPeer(): SipPeer {
    return { transport: this.o.transport, address: this.o.server.host, port: this.o.server.port };
  }

  async start(): Promise<void> {
    if (this.o.h264File) {
      const { units } = accessUnits(splitAnnexB(await readFile(this.o.h264File)));
      const sc = Buffer.from([0, 0, 0, 1]);
      this.units = units.map((u) => ({ key: u.key, data: Buffer.concat(u.nals.flatMap((n) => [sc, n])) }));
    }
    await this.transport.start();
  }

  private newRequest(method: string, uri: string, to: string, body?: Buffer, extra: Array<[string, string]> = [], callId = this.callId, fromTag = this.fromTag): SipRequest {
    const h = new SipHeaders();
    h.add('Via', `SIP/2.0/${this.o.transport.toUpperCase()} 127.0.0.1:${this.transport.port};rport;branch=${branch()}`);
    h.add('From', `<sip:${this.o.deviceId}@${this.o.server.realm}>;tag=${fromTag}`);
    h.add('To', to);
    h.add('Call-ID', callId);
    h.add('CSeq', `${this.cseq++} ${method}`);
    h.add('Max-Forwards', '70');
    h.add('User-Agent', 'StreetEye GB simulator');
    if (this.o.edition === '2022') h.add('X-GB-Ver', '3.0');
    for (const [k, v] of extra) h.add(k, v);
    if (body) h.add('Content-Type', MANSCDP_CONTENT_TYPE);
    return { kind: 'request', method, uri, headers: h, body: body ?? Buffer.alloc(0) };
  }

  private send(req: SipRequest, timeoutMs = 5000): Promise<SipResponse> {
    const b = topBranch(req)!;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.pending.delete(b); reject(new Error(`${req.method}: no answer`)); }, timeoutMs);
      this.pending.set(b, (m) => { clearTimeout(t); resolve(m); });
      this.transport.send(this.serverPeer, req).catch((err) => { clearTimeout(t); this.pending.delete(b); reject(err); });
    });
  }

  /** REGISTER (answering the digest challenge); resolves with the final status. */
  async register(expiresS = this.o.expiresS, password = this.o.password): Promise<number> {
    const uri = `sip:${this.o.server.id}@${this.o.server.realm}`;
    const to = `<sip:${this.o.deviceId}@${this.o.server.realm}>`;
    const contact: Array<[string, string]> = [['Contact', `<sip:${this.o.deviceId}@127.0.0.1:${this.transport.port}>`], ['Expires', String(expiresS)]];
    let res = await this.send(this.newRequest('REGISTER', uri, to, undefined, contact));
    if (res.status === 401) {
      const auth = authorizationFor(res.headers.get('www-authenticate')!, { username: this.o.deviceId, password, method: 'REGISTER', uri });
      res = await this.send(this.newRequest('REGISTER', uri, to, undefined, [...contact, ['Authorization', auth]]));
    }
    this.registered = res.status === 200 && expiresS > 0;
    return res.status;
  }

  startKeepalive(everyMs = this.o.keepaliveMs): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => void this.keepalive().catch(() => {}), everyMs);
    this.keepaliveTimer.unref();
  }

  stopKeepalive(): void {
    clearInterval(this.keepaliveTimer);
  }

  async keepalive(): Promise<number> {
    return (await this.notify({ CmdType: 'Keepalive', SN: this.sn++, DeviceID: this.o.deviceId, Status: 'OK' })).status;
  }

  /** Send a MANSCDP Notify (MESSAGE) to the server. */
  notify(fields: XmlNode, root: 'Notify' | 'Response' = 'Notify'): Promise<SipResponse> {
    const to = `<sip:${this.o.server.id}@${this.o.server.realm}>`;
    return this.send(this.newRequest('MESSAGE', `sip:${this.o.server.id}@${this.o.server.realm}`, to, buildManscdp(root, fields, this.o.charset), [], `${randomBytes(8).toString('hex')}@sim`, tag()));
  }

  /** Raw body (bad-input tests). */
  sendRawMessage(body: Buffer): Promise<SipResponse> {
    const to = `<sip:${this.o.server.id}@${this.o.server.realm}>`;
    return this.send(this.newRequest('MESSAGE', `sip:${this.o.server.id}@${this.o.server.realm}`, to, body, [], `${randomBytes(8).toString('hex')}@sim`, tag()));
  }

  /** Catalog change events, as a subscription NOTIFY would carry them. */
  catalogEvent(event: 'ON' | 'OFF' | 'VLOST' | 'DEFECT' | 'ADD' | 'DEL' | 'UPDATE', channelIds: string[]): Promise<SipResponse> {
    const items = channelIds.map((id) => {
      const c = this.channels.find((x) => x.id === id);
      return { DeviceID: id, Event: event, ...(c ? this.itemFields(c) : {}) };
    });
    return this.notify({ CmdType: 'Catalog', SN: this.sn++, DeviceID: this.o.deviceId, SumNum: items.length, DeviceList: items });
  }

  alarm(channelId: string, o: { method: number; type: number; description?: string }): Promise<SipResponse> {
    return this.notify({
      CmdType: 'Alarm', SN: this.sn++, DeviceID: channelId, AlarmPriority: 1, AlarmMethod: o.method,
      AlarmTime: new Date().toISOString().slice(0, 19), AlarmDescription: o.description ?? '', Info: { AlarmType: o.type },
    });
  }

  private itemFields(c: GbSimChannel): XmlNode {
    return {
      Name: c.name, Manufacturer: 'StreetEye', Model: 'SIM-GB', Owner: 'Owner', CivilCode: c.civilCode, Address: `${c.name} 地址`,
      Parental: 0, ParentID: c.parentId, SafetyWay: 0, RegisterWay: 1, Secrecy: 0, Status: 'ON',
      Longitude: c.lng.toFixed(6), Latitude: c.lat.toFixed(6), Info: { PTZType: c.ptzType },
    };
  }

  private catalogItems(): XmlNode[] {
    const prefix = this.o.deviceId.slice(0, 10);
    const extra: XmlNode[] = this.o.mode === 'platform'
      ? [
        { DeviceID: this.o.deviceId.slice(0, 6), Name: '模拟区 Sim district' },
        { DeviceID: `${prefix}215${'0'.repeat(6)}1`, Name: '业务分组 Group', ParentID: this.o.deviceId },
      ]
      : [];
    return [...extra, ...this.channels.map((c) => ({ DeviceID: c.id, ...this.itemFields(c) }))];
  }

  private onMessage(msg: SipMessage, peer: SipPeer): void {
    if (msg.kind === 'response') {
      const b = topBranch(msg);
      if (msg.status >= 200 && b) {
        const r = this.pending.get(b);
        this.pending.delete(b);
        r?.(msg);
      }
      return;
    }
    void this.onRequest(msg, peer).catch(() => {});
  }

  private reply(peer: SipPeer, req: SipRequest, status: number, reason: string, o: { body?: Buffer; contentType?: string; toTag?: string } = {}): Promise<void> {
    return this.transport.send(peer, makeResponse(req, status, reason, { toTag: o.toTag ?? tag(), body: o.body, contentType: o.contentType }));
  }

  private async onRequest(req: SipRequest, peer: SipPeer): Promise<void> {
    if (req.method === 'MESSAGE') {
      await this.reply(peer, req, 200, 'OK');
      const doc = parseManscdp(req.body);
      if (doc.cmdType === 'Catalog') {
        const items = this.catalogItems();
        const sn = doc.sn;
        for (let i = 0; i < items.length || i === 0; i += this.o.pageSize) {
          await this.notify({ CmdType: 'Catalog', SN: sn, DeviceID: this.o.deviceId, SumNum: items.length, DeviceList: items.slice(i, i + this.o.pageSize) }, 'Response');
          if (!items.length) break;
        }
      } else if (doc.cmdType === 'DeviceInfo') {
        await this.notify({ CmdType: 'DeviceInfo', SN: doc.sn, DeviceID: this.o.deviceId, DeviceName: this.o.name ?? 'GB simulator', Result: 'OK', Manufacturer: 'StreetEye', Model: this.o.mode === 'platform' ? 'SIM-PLATFORM' : 'SIM-NVR', Firmware: '1.0', Channel: this.channels.length }, 'Response');
      } else if (doc.cmdType === 'DeviceStatus') {
        await this.notify({ CmdType: 'DeviceStatus', SN: doc.sn, DeviceID: this.o.deviceId, Result: 'OK', Online: 'ONLINE', Status: 'OK', Encode: 'ON', Record: 'OFF', DeviceTime: new Date().toISOString().slice(0, 19) }, 'Response');
      } else if (doc.cmdType === 'PresetQuery') {
        await this.notify({ CmdType: 'PresetQuery', SN: doc.sn, DeviceID: doc.deviceId, PresetList: [{ PresetID: 1, PresetName: '东门 East gate' }, { PresetID: 2, PresetName: '路口 Crossing' }] }, 'Response');
      } else if (doc.cmdType === 'RecordInfo') {
        const from = fromGbTime(textOf(doc.el, 'StartTime'));
        const to = fromGbTime(textOf(doc.el, 'EndTime'));
        const known = this.channels.some((c) => c.id === doc.deviceId);
        const items = known && from < to
          ? this.recordings.filter((r) => r.endMs > from && r.startMs < to).map((r, i) => ({
            DeviceID: doc.deviceId, Name: `录像 ${i + 1} Recording`, FilePath: `/rec/${doc.deviceId}/${r.startMs}.ps`, Address: 'SIM',
            StartTime: toGbTime(Math.max(r.startMs, from)), EndTime: toGbTime(Math.min(r.endMs, to)), Secrecy: 0, Type: 'time', FileSize: 1_000_000,
          }))
          : [];
        for (let i = 0; i < items.length || i === 0; i += this.o.pageSize) {
          await this.notify({ CmdType: 'RecordInfo', SN: doc.sn, DeviceID: doc.deviceId, Name: 'SIM', SumNum: items.length, RecordList: items.slice(i, i + this.o.pageSize) }, 'Response');
          if (!items.length) break;
        }
      } else if (doc.cmdType === 'DeviceControl') {
        const cmd = textOf(doc.el, 'PTZCmd');
        if (cmd) this.ptzCommands.push({ channelId: doc.deviceId, cmd });
      }
      return;
    }
    if (req.method === 'SUBSCRIBE') return this.reply(peer, req, 200, 'OK');
    if (req.method === 'INFO') {
      const s = this.streams.get(req.headers.get('call-id')!);
      const cmd = parseMansrtsp(req.body.toString('utf8'));
      if (!s?.playback) return this.reply(peer, req, 481, 'Call/Transaction Does Not Exist');
      if (!cmd) return this.reply(peer, req, 400, 'Bad Request');
      this.playbackCommands.push({ channelId: s.channelId, method: cmd.method, scale: cmd.method === 'PLAY' ? cmd.scale : undefined });
      if (cmd.method === 'PLAY') {
        s.playback.paused = false;
        if (cmd.scale !== undefined) s.playback.scale = Math.abs(cmd.scale);
      } else if (cmd.method === 'PAUSE') s.playback.paused = true;
      return this.reply(peer, req, 200, 'OK');
    }
    if (req.method === 'INVITE') return this.onInvite(req, peer);
    if (req.method === 'ACK') return;
    if (req.method === 'BYE') {
      const s = this.streams.get(req.headers.get('call-id')!);
      s?.stop();
      this.streams.delete(req.headers.get('call-id')!);
      return this.reply(peer, req, 200, 'OK');
    }
    return this.reply(peer, req, 405, 'Method Not Allowed');
  }

  private async onInvite(req: SipRequest, peer: SipPeer): Promise<void> {
    this.invites++;
    const channelId = parseSipUri(req.uri)?.user ?? '';
    if (this.faults.refuseInvite || !this.channels.some((c) => c.id === channelId)) return this.reply(peer, req, 404, 'Not Found');
    const offer = parseSdp(req.body.toString());
    if (!offer.ip || !offer.port || !offer.ssrc) return this.reply(peer, req, 488, 'Not Acceptable Here');
    const isPlayback = offer.session === 'Playback';
    if (isPlayback && (!offer.range || !this.recordings.some((r) => r.endMs > offer.range!.start * 1000 && r.startMs < offer.range!.end * 1000))) {
      return this.reply(peer, req, 404, 'Not Found: no recording in this range');
    }
    const ssrcText = this.faults.answerSsrc ?? offer.ssrc;
    const ssrc = Number(ssrcText);
    const toTag = tag();
    let mediaPort = 0;
    const callId = req.headers.get('call-id')!;
    let start: () => void = () => {};
    const stops: Array<() => void> = [];
    const startPump = (write: (pkt: Buffer) => void) => {
      let i = 0;
      let seq = 0;
      const fps = this.o.fps;
      const stream = this.streams.get(callId)!;
      const pb = stream.playback;
      // the frames' clock: wall time × scale (playback speed), frozen while paused
      let clockMs = 0;
      let last = Date.now();
      const tick = () => {
        const now = Date.now();
        if (!pb?.paused) clockMs += (now - last) * (pb?.scale ?? 1);
        last = now;
        if (pb?.ended) return;
        // send every frame that is due (catch up after event-loop stalls)
        const due = Math.floor((clockMs * fps) / 1000) + 1;
        while (i < due) {
          const u = this.units[i % this.units.length];
          const pts = Math.round((i * 90000) / fps);
          if (pb && pb.startMs + (i * 1000) / fps >= pb.endMs) {
            // the end of the requested range: say so (MediaStatus 121), the platform then sends BYE
            pb.ended = true;
            this.mediaEnds++;
            void this.notify({ CmdType: 'MediaStatus', SN: this.sn++, DeviceID: channelId, NotifyType: 121 }).catch(() => {});
            return;
          }
          i++;
          if (this.faults.mute) continue;
          for (const p of packetizePs(muxPsFrame({ codec: 'h264', pts, key: u.key, data: u.data }), { seq, timestamp: pts, ssrc })) {
            seq++;
            stream.packets++;
            write(p);
          }
        }
      };
      const t = setInterval(tick, Math.max(5, Math.floor(1000 / fps / 2)));
      tick();
      stops.push(() => clearInterval(t));
    };
    if (!offer.tcp) {
      const sock: UdpSocket = createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      let other: UdpSocket | undefined;
      if (this.faults.rtpFromAddress) {
        // media from an address the answer did not name (e.g. 127.0.0.2: every 127/8 address is loopback on Linux)
        other = createSocket('udp4');
        await new Promise<void>((r) => other!.bind(0, this.faults.rtpFromAddress, () => r()));
      }
      mediaPort = sock.address().port;
      stops.push(() => { sock.close(); other?.close(); });
      start = () => startPump((p) => (other ?? sock).send(p, offer.port!, offer.ip!));
    } else if (offer.setup === 'passive') {
      // the server listens: we connect to it
      start = () => {
        const s: Socket = connect({ host: offer.ip!, port: offer.port! });
        s.on('error', () => {});
        s.once('connect', () => startPump((p) => s.write(frameRfc4571(p))));
        stops.push(() => s.destroy());
      };
      mediaPort = 9;
    } else {
      // setup:active: the server connects to us
      const server: Server = createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      mediaPort = (server.address() as { port: number }).port;
      stops.push(() => server.close());
      start = () => {
        server.once('connection', (s) => {
          s.on('error', () => {});
          stops.push(() => s.destroy());
          startPump((p) => s.write(frameRfc4571(p)));
        });
      };
    }
    const playback = isPlayback && offer.range ? { startMs: offer.range.start * 1000, endMs: offer.range.end * 1000, scale: 1, paused: false, ended: false } : undefined;
    this.streams.set(callId, { callId, channelId, packets: 0, playback, stop: () => { for (const f of stops) f(); } });
    const answer = [
      'v=0', `o=${channelId} 0 0 IN IP4 127.0.0.1`, `s=${isPlayback ? 'Playback' : 'Play'}`, 'c=IN IP4 127.0.0.1',
      `t=${offer.range ? `${offer.range.start} ${offer.range.end}` : '0 0'}`,
      `m=video ${mediaPort} ${offer.tcp ? 'TCP/RTP/AVP' : 'RTP/AVP'} 96`, 'a=sendonly', 'a=rtpmap:96 PS/90000',
      ...(offer.tcp ? [`a=setup:${offer.setup === 'passive' ? 'active' : 'passive'}`, 'a=connection:new'] : []),
      `y=${ssrcText}`, 'f=',
    ].join('\r\n') + '\r\n';
    const ok = makeResponse(req, 200, 'OK', { toTag, body: Buffer.from(answer), contentType: 'APPLICATION/SDP', headers: [['Contact', `<sip:${channelId}@127.0.0.1:${this.transport.port}>`]] });
    await this.transport.send(peer, ok);
    // media starts at once (as most devices do, without waiting for the ACK)
    start();
  }

  async stop(): Promise<void> {
    clearInterval(this.keepaliveTimer);
    for (const s of this.streams.values()) s.stop();
    this.streams.clear();
    await this.transport.stop();
  }
}

export { headerParams, uriOf };
