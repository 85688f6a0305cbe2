/**
 * The receiving platform's SIP side of GB/T 28181 (2016 and 2022 editions): REGISTER with digest auth, expiry and
 * unregister; Keepalive with online/offline by missed keepalives; MANSCDP queries (DeviceInfo, DeviceStatus, Catalog
 * with paged answers) and controls (PTZ); catalog subscription NOTIFYs; alarms; INVITE/ACK/BYE dialogs for live media.
 *
 * No database here: who may register (and with which password) is asked of `authorize`, and everything that
 * happens is an event for the service above (server/gb28181/) to store and publish. Bad input is dropped or refused
 * with a log line and a counter (`counters`), never thrown past the transport.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import {
  SipHeaders, headerParams, makeResponse, parseCSeq, parseSipUri, topBranch, uriOf,
  type SipMessage, type SipRequest, type SipResponse,
} from './sip/message.js';
import { NonceIssuer, challengeHeader, readCredentials, verifyDigest } from './sip/digest.js';
import { SipTransport, peerKey, type SipPeer, type TransportLog } from './sip/transport.js';
import { ManscdpError, buildManscdp, parseManscdp, textOf, MANSCDP_CONTENT_TYPE, type Charset, type ManscdpDoc, type XmlNode } from './manscdp.js';
import { readDeviceList, type CatalogItem } from './catalog.js';
import { MANSRTSP_CONTENT_TYPE, buildMansrtsp, readRecordList, toGbTime, type MansrtspCommand, type RecordItem } from './record-info.js';

export type Edition = '2016' | '2022';

export interface GbServerOptions {
  /** 20-digit SIP ID of this platform */
  serverId: string;
  /** SIP domain (realm) — by convention the first 10 digits of the server ID */
  realm: string;
  host?: string;
  port?: number;
  /** the address devices reach us at (Via, Contact) */
  advertiseHost?: string;
  log: TransportLog & { error?(obj: object, msg?: string): void };
  /** the password a device must use, or null when it may not register (unknown / disabled) */
  authorize: (deviceId: string, peer: SipPeer) => Promise<{ password: string } | null>;
  /** missed keepalives: offline after this long without any message (ms) */
  keepaliveTimeoutMs?: number;
  /** longest registration we grant (s) */
  maxExpiresS?: number;
  /** per source address, messages per second */
  ratePerAddress?: number;
  /** how long a query waits for the device's Response MESSAGE (ms) */
  queryTimeoutMs?: number;
  /** a catalog answer with no new page for this long is incomplete (ms) */
  catalogPageTimeoutMs?: number;
  /** channels a catalog may carry at most (a hostile platform cannot make us hold millions) */
  maxCatalogItems?: number;
  /** how often online/expiry are checked (ms) */
  sweepMs?: number;
}

export interface Registration {
  deviceId: string;
  peer: SipPeer;
  contact: string;
  edition: Edition;
  registeredAt: number;
  expiresAt: number;
  lastSeen: number;
  lastKeepalive?: number;
  online: boolean;
}

export interface Dialog {
  callId: string;
  fromTag: string;
  toTag: string;
  deviceId: string;
  channelId: string;
  peer: SipPeer;
  remoteUri: string;
  cseq: number;
  sdp: string;
  /** s=Playback dialog (its end comes as a MediaStatus 121 notify) */
  playback?: boolean;
  /** MANSRTSP CSeq of the last INFO */
  rtspCseq?: number;
}

export interface GbCounters {
  [event: string]: number;
}

interface Pending {
  resolve: (m: SipResponse) => void;
  reject: (e: Error) => void;
  provisional?: (m: SipResponse) => void;
  timer: NodeJS.Timeout;
  retransmit?: NodeJS.Timeout;
}

interface PendingQuery {
  resolve: (doc: ManscdpDoc) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface PendingCatalog {
  items: Map<string, CatalogItem>;
  sumNum: number | null;
  resolve: (items: CatalogItem[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface PendingRecords {
  items: RecordItem[];
  sumNum: number | null;
  /** items received (counting those refused as invalid), to know when SumNum is reached */
  received: number;
  resolve: (items: RecordItem[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** record items one RecordInfo answer may carry at most */
const MAX_RECORD_ITEMS = 10_000;

export class GbError extends Error {
  constructor(message: string, readonly code: 'offline' | 'timeout' | 'refused' | 'incomplete' | 'bad-answer') {
    super(message);
    this.name = 'GbError';
  }
}

const tag = () => randomBytes(6).toString('hex');
const branch = () => `z9hG4bK${randomBytes(8).toString('hex')}`;
const ID20 = /^\d{20}$/;

export class GbServer extends EventEmitter {
  readonly transport: SipTransport;
  readonly registrations = new Map<string, Registration>();
  readonly counters: GbCounters = {};
  private readonly nonces = new NonceIssuer();
  private readonly pending = new Map<string, Pending>();
  private readonly queries = new Map<string, PendingQuery>();
  private readonly catalogs = new Map<string, PendingCatalog>();
  private readonly records = new Map<string, PendingRecords>();
  private readonly dialogs = new Map<string, Dialog>();
  /**
   * Server transactions (RFC 3261 §17.2): a retransmitted request (same branch and method, e.g. a UDP peer that
   * did not hear our answer in time) gets the same response again and is not processed twice. Kept 32 s, bounded.
   */
  private readonly served = new Map<string, { at: number; response?: SipResponse }>();
  private sn = Math.floor(Math.random() * 100_000);
  private sweep?: NodeJS.Timeout;
  private readonly o: Required<Omit<GbServerOptions, 'host' | 'port' | 'advertiseHost' | 'authorize' | 'log'>> & GbServerOptions;

  constructor(opts: GbServerOptions) {
    super();
    this.setMaxListeners(0);
    if (!ID20.test(opts.serverId)) throw new Error('GB28181 server ID must be 20 digits');
    this.o = {
      keepaliveTimeoutMs: 180_000,
      maxExpiresS: 3600,
      ratePerAddress: 0,
      queryTimeoutMs: 8000,
      catalogPageTimeoutMs: 15_000,
      maxCatalogItems: 50_000,
      sweepMs: 2000,
      ...opts,
    };
    this.transport = new SipTransport({
      host: opts.host,
      port: opts.port,
      log: opts.log,
      ratePerAddress: this.o.ratePerAddress,
      onMessage: (m, p) => this.onMessage(m, p),
      onDrop: (reason) => this.count(`dropped_${reason}`),
    });
  }

  get port(): number {
    return this.transport.port;
  }
  get serverId(): string {
    return this.o.serverId;
  }
  private get viaHost(): string {
    return this.o.advertiseHost ?? (this.transport.host === '0.0.0.0' ? '127.0.0.1' : this.transport.host);
  }

  count(event: string, n = 1): void {
    this.counters[event] = (this.counters[event] ?? 0) + n;
  }

  async start(): Promise<void> {
    await this.transport.start();
    this.sweep = setInterval(() => this.checkLiveness(), this.o.sweepMs);
    this.sweep.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweep);
    for (const d of [...this.dialogs.values()]) await this.bye(d).catch(() => {});
    for (const p of this.pending.values()) { clearTimeout(p.timer); clearTimeout(p.retransmit); p.reject(new GbError('server stopping', 'offline')); }
    for (const q of this.queries.values()) { clearTimeout(q.timer); q.reject(new GbError('server stopping', 'offline')); }
    for (const c of this.catalogs.values()) { clearTimeout(c.timer); c.reject(new GbError('server stopping', 'offline')); }
    for (const c of this.records.values()) { clearTimeout(c.timer); c.reject(new GbError('server stopping', 'offline')); }
    this.records.clear();
    this.pending.clear();
    this.queries.clear();
    this.catalogs.clear();
    await this.transport.stop();
  }

  isOnline(deviceId: string): boolean {
    return this.registrations.get(deviceId)?.online === true;
  }

  // ───────────────────────────── incoming ─────────────────────────────

  private onMessage(msg: SipMessage, peer: SipPeer): void {
    if (msg.kind === 'response') {
      const b = topBranch(msg);
      const p = b ? this.pending.get(b) : undefined;
      if (!p) {
        this.count('stray_response');
        return;
      }
      clearTimeout(p.retransmit);
      if (msg.status < 200) {
        p.provisional?.(msg);
        return;
      }
      this.pending.delete(b!);
      clearTimeout(p.timer);
      p.resolve(msg);
      return;
    }
    const key = `${topBranch(msg) ?? ''}/${msg.method}/${msg.headers.get('call-id')}`;
    if (msg.method !== 'ACK') {
      const seen = this.served.get(key);
      if (seen) {
        this.count('retransmission');
        if (seen.response) void this.transport.send(peer, seen.response).catch(() => {});
        return;
      }
      this.served.set(key, { at: Date.now() });
      if (this.served.size > 100_000) this.served.delete(this.served.keys().next().value!);
    }
    void this.onRequest(msg, peer).catch((err) => {
      this.o.log.warn({ peer: peerKey(peer), method: msg.method, err: (err as Error).message }, 'GB28181 request failed');
      void this.reply(peer, msg, 500, 'Server Internal Error');
    });
  }

  private reply(peer: SipPeer, req: SipRequest, status: number, reason: string, extra: Array<[string, string]> = [], toTag?: string): Promise<void> {
    if (req.method === 'ACK') return Promise.resolve();
    const res = makeResponse(req, status, reason, { toTag: toTag ?? (status >= 200 ? tag() : undefined), headers: extra });
    const entry = this.served.get(`${topBranch(req) ?? ''}/${req.method}/${req.headers.get('call-id')}`);
    if (entry) entry.response = res;
    return this.transport.send(peer, res).catch((err) => {
      this.o.log.warn({ peer: peerKey(peer), err: (err as Error).message }, 'could not send a SIP response');
    });
  }

  private fromId(req: SipRequest): string | undefined {
    return parseSipUri(uriOf(req.headers.get('from')!))?.user;
  }

  private async onRequest(req: SipRequest, peer: SipPeer): Promise<void> {
    // the transport a device used (Via) decides how we answer and how we reach it later
    const via = req.headers.get('via')!;
    if (/^SIP\/2\.0\/TCP/i.test(via)) peer = { ...peer, transport: 'tcp' };
    switch (req.method) {
      case 'REGISTER':
        return this.onRegister(req, peer);
      case 'MESSAGE':
        return this.onManscdp(req, peer, false);
      case 'NOTIFY':
        return this.onManscdp(req, peer, true);
      case 'BYE': {
        const d = this.dialogs.get(req.headers.get('call-id')!);
        await this.reply(peer, req, d ? 200 : 481, d ? 'OK' : 'Call/Transaction Does Not Exist');
        if (d) {
          this.dialogs.delete(d.callId);
          this.emit('bye', d);
        }
        return;
      }
      case 'ACK':
        return;
      case 'OPTIONS':
        return this.reply(peer, req, 200, 'OK', [['Allow', 'REGISTER, MESSAGE, NOTIFY, INVITE, ACK, BYE, INFO, SUBSCRIBE, OPTIONS']]);
      case 'INVITE':
        // upper-platform cascading (StreetEye as a lower platform) is not built: refuse clearly
        return this.reply(peer, req, 488, 'Not Acceptable Here');
      default:
        this.count('unsupported_method');
        return this.reply(peer, req, 405, 'Method Not Allowed', [['Allow', 'REGISTER, MESSAGE, NOTIFY, BYE, ACK, OPTIONS']]);
    }
  }

  private editionOf(req: SipRequest): Edition {
    const v = req.headers.get('x-gb-ver');
    return v && Number.parseFloat(v) >= 3 ? '2022' : '2016';
  }

  private async onRegister(req: SipRequest, peer: SipPeer): Promise<void> {
    const deviceId = this.fromId(req);
    const log = this.o.log;
    if (!deviceId || !ID20.test(deviceId)) {
      this.count('register_bad_id');
      log.warn({ peer: peerKey(peer), from: req.headers.get('from')?.slice(0, 80) }, 'GB28181 REGISTER refused: the device ID is not 20 digits');
      return this.reply(peer, req, 400, 'Bad Request: device ID must be 20 digits');
    }
    const auth = await this.o.authorize(deviceId, peer);
    if (!auth) {
      this.count('register_unknown_device');
      log.warn({ device: deviceId, peer: peerKey(peer) }, 'GB28181 REGISTER refused: unknown or disabled device');
      return this.reply(peer, req, 403, 'Forbidden');
    }
    const creds = readCredentials(req.headers.get('authorization'));
    if (!creds) {
      this.count('register_challenged');
      return this.reply(peer, req, 401, 'Unauthorized', [['WWW-Authenticate', challengeHeader(this.o.realm, this.nonces.issue())]]);
    }
    const fresh = this.nonces.check(creds.nonce);
    if (fresh !== 'ok') {
      this.count('register_stale_nonce');
      return this.reply(peer, req, 401, 'Unauthorized', [['WWW-Authenticate', challengeHeader(this.o.realm, this.nonces.issue(), fresh === 'stale')]]);
    }
    if (creds.username !== deviceId || !verifyDigest(creds, 'REGISTER', auth.password)) {
      this.count('register_bad_password');
      log.warn({ device: deviceId, peer: peerKey(peer) }, 'GB28181 REGISTER refused: wrong password');
      return this.reply(peer, req, 403, 'Forbidden: wrong password');
    }
    const contactHeader = req.headers.get('contact') ?? '';
    const requested = Number(headerParams(contactHeader).params.expires ?? req.headers.get('expires') ?? 3600);
    const expires = Number.isFinite(requested) ? Math.max(0, Math.min(this.o.maxExpiresS, Math.floor(requested))) : 3600;
    const date = new Date().toISOString().slice(0, 23);
    if (expires === 0) {
      await this.reply(peer, req, 200, 'OK', [['Date', date], ['Expires', '0']]);
      this.unregister(deviceId, 'unregistered by the device');
      return;
    }
    const now = Date.now();
    const prior = this.registrations.get(deviceId);
    const reg: Registration = {
      deviceId,
      peer,
      contact: uriOf(contactHeader) || `sip:${deviceId}@${peer.address}:${peer.port}`,
      edition: this.editionOf(req),
      registeredAt: prior?.registeredAt ?? now,
      expiresAt: now + expires * 1000,
      lastSeen: now,
      lastKeepalive: prior?.lastKeepalive,
      online: true,
    };
    this.registrations.set(deviceId, reg);
    this.count('register_ok');
    await this.reply(peer, req, 200, 'OK', [['Date', date], ['Expires', String(expires)], ...(reg.edition === '2022' ? ([['X-GB-Ver', '3.0']] as Array<[string, string]>) : [])]);
    // a refresh of a live registration is not news; a new one (or one back from offline) is
    if (!prior || !prior.online) {
      log.info({ device: deviceId, peer: peerKey(peer), edition: reg.edition, expires }, 'GB28181 device registered');
      this.emit('registered', reg, { renewed: !!prior });
    } else this.emit('refreshed', reg);
  }

  /** Forget a registration (the device said Expires: 0, it expired, or the platform no longer accepts it). */
  unregister(deviceId: string, reason: string): void {
    const reg = this.registrations.get(deviceId);
    if (!reg) return;
    this.registrations.delete(deviceId);
    this.o.log.info({ device: deviceId, reason }, 'GB28181 device unregistered');
    this.emit('offline', reg, reason);
  }

  private checkLiveness(): void {
    const now = Date.now();
    for (const [k, v] of this.served) {
      if (now - v.at < 32_000) break; // insertion order: the rest are younger
      this.served.delete(k);
    }
    for (const reg of [...this.registrations.values()]) {
      if (reg.expiresAt <= now) {
        this.count('registration_expired');
        this.unregister(reg.deviceId, 'registration expired');
      } else if (reg.online && now - reg.lastSeen > this.o.keepaliveTimeoutMs) {
        reg.online = false;
        this.count('keepalive_missed');
        this.o.log.warn({ device: reg.deviceId, silentS: Math.round((now - reg.lastSeen) / 1000) }, 'GB28181 device offline: keepalives missed');
        this.emit('offline', reg, 'keepalives missed');
      }
    }
  }

  private async onManscdp(req: SipRequest, peer: SipPeer, isNotify: boolean): Promise<void> {
    const deviceId = this.fromId(req);
    const reg = deviceId ? this.registrations.get(deviceId) : undefined;
    if (!deviceId || !reg) {
      this.count('message_unregistered');
      this.o.log.warn({ peer: peerKey(peer), from: deviceId?.slice(0, 24) }, 'GB28181 MESSAGE refused: the device is not registered');
      return this.reply(peer, req, 403, 'Forbidden: not registered');
    }
    let doc: ManscdpDoc;
    try {
      doc = parseManscdp(req.body);
    } catch (err) {
      this.count('manscdp_malformed');
      this.o.log.warn({ device: deviceId, err: err instanceof ManscdpError ? err.message : String(err), bytes: req.body.length }, 'GB28181 MESSAGE refused: malformed XML');
      return this.reply(peer, req, 400, 'Bad Request: malformed MANSCDP');
    }
    if (doc.mislabelled) this.count('manscdp_charset_mislabelled');
    await this.reply(peer, req, 200, 'OK');
    const now = Date.now();
    reg.lastSeen = now;
    reg.peer = peer;
    if (!reg.online) {
      reg.online = true;
      this.emit('online', reg);
    }
    if (doc.root === 'Notify' && doc.cmdType === 'Keepalive') {
      reg.lastKeepalive = now;
      this.count('keepalive');
      this.emit('keepalive', reg);
      return;
    }
    if (doc.root === 'Response') {
      if (doc.cmdType === 'Catalog') return this.onCatalogPage(deviceId, doc);
      if (doc.cmdType === 'RecordInfo') return this.onRecordPage(deviceId, doc);
      const key = `${deviceId}/${doc.cmdType}/${doc.sn}`;
      const q = this.queries.get(key);
      if (q) {
        this.queries.delete(key);
        clearTimeout(q.timer);
        q.resolve(doc);
      } else this.count('stray_answer');
      return;
    }
    if (doc.root === 'Notify' && doc.cmdType === 'Catalog') {
      const { items } = readDeviceList(doc.el);
      this.count('catalog_notify');
      this.emit('catalogEvents', deviceId, items.slice(0, this.o.maxCatalogItems), isNotify);
      return;
    }
    if (doc.root === 'Notify' && doc.cmdType === 'MediaStatus') {
      // NotifyType 121: the playback reached the end of its range
      const type = textOf(doc.el, 'NotifyType');
      this.count('media_status');
      const d = [...this.dialogs.values()].find((x) => x.deviceId === deviceId && x.channelId === doc.deviceId && x.playback) ??
        [...this.dialogs.values()].find((x) => x.deviceId === deviceId && x.playback);
      if (type === '121' && d) this.emit('mediaEnd', d);
      return;
    }
    if (doc.root === 'Notify' && doc.cmdType === 'Alarm') {
      this.count('alarm');
      this.emit('alarm', deviceId, {
        channelId: doc.deviceId,
        priority: Number(textOf(doc.el, 'AlarmPriority')) || null,
        method: Number(textOf(doc.el, 'AlarmMethod')) || null,
        type: Number(textOf(doc.el, 'AlarmType') ?? textOf(doc.el.children.find((c) => c.name === 'Info'), 'AlarmType')) || null,
        time: textOf(doc.el, 'AlarmTime') ?? null,
        description: textOf(doc.el, 'AlarmDescription')?.slice(0, 200) ?? null,
      } satisfies GbAlarm);
      return;
    }
    this.count('manscdp_unhandled');
  }

  private onCatalogPage(deviceId: string, doc: ManscdpDoc): void {
    const key = `${deviceId}/${doc.sn}`;
    const c = this.catalogs.get(key);
    if (!c) {
      this.count('stray_answer');
      return;
    }
    const page = readDeviceList(doc.el);
    if (page.invalid) this.count('catalog_item_invalid', page.invalid);
    c.sumNum ??= page.sumNum;
    for (const it of page.items) {
      if (c.items.size >= this.o.maxCatalogItems) break;
      c.items.set(it.id, it);
    }
    const want = Math.min(c.sumNum ?? 0, this.o.maxCatalogItems);
    if (c.items.size >= want) {
      this.catalogs.delete(key);
      clearTimeout(c.timer);
      c.resolve([...c.items.values()]);
    } else c.timer.refresh();
  }

  private onRecordPage(deviceId: string, doc: ManscdpDoc): void {
    const key = `${deviceId}/${doc.sn}`;
    const c = this.records.get(key);
    if (!c) {
      this.count('stray_answer');
      return;
    }
    const page = readRecordList(doc.el);
    if (page.invalid) this.count('record_item_invalid', page.invalid);
    c.sumNum ??= page.sumNum;
    c.received += page.items.length + page.invalid;
    for (const it of page.items) if (c.items.length < MAX_RECORD_ITEMS) c.items.push(it);
    if (c.received >= Math.min(c.sumNum ?? 0, MAX_RECORD_ITEMS)) {
      this.records.delete(key);
      clearTimeout(c.timer);
      c.resolve(c.items);
    } else c.timer.refresh();
  }

  // ───────────────────────────── outgoing ─────────────────────────────

  private newRequest(method: string, reg: Registration, opts: { uri?: string; toUser?: string; callId?: string; fromTag?: string; toTag?: string; cseq?: number; body?: Buffer; contentType?: string; extra?: Array<[string, string]> } = {}): SipRequest {
    const h = new SipHeaders();
    const proto = reg.peer.transport === 'tcp' ? 'TCP' : 'UDP';
    h.add('Via', `SIP/2.0/${proto} ${this.viaHost}:${this.port};rport;branch=${branch()}`);
    h.add('From', `<sip:${this.o.serverId}@${this.o.realm}>;tag=${opts.fromTag ?? tag()}`);
    const toUser = opts.toUser ?? reg.deviceId;
    h.add('To', `<sip:${toUser}@${this.o.realm}>${opts.toTag ? `;tag=${opts.toTag}` : ''}`);
    h.add('Call-ID', opts.callId ?? `${randomBytes(10).toString('hex')}@${this.viaHost}`);
    h.add('CSeq', `${opts.cseq ?? 1} ${method}`);
    h.add('Max-Forwards', '70');
    h.add('User-Agent', 'StreetEye');
    if (reg.edition === '2022') h.add('X-GB-Ver', '3.0');
    for (const [k, v] of opts.extra ?? []) h.add(k, v);
    if (opts.body && opts.contentType) h.add('Content-Type', opts.contentType);
    const target = reg.contact ? parseSipUri(reg.contact) : undefined;
    const uri = opts.uri ?? `sip:${toUser}@${target?.host ?? reg.peer.address}:${target?.port ?? reg.peer.port}`;
    return { kind: 'request', method, uri, headers: h, body: opts.body ?? Buffer.alloc(0) };
  }

  /** A client transaction: resolves with the final response (UDP requests are retransmitted until answered). */
  private request(peer: SipPeer, req: SipRequest, o: { timeoutMs?: number; provisional?: (m: SipResponse) => void } = {}): Promise<SipResponse> {
    const b = topBranch(req)!;
    return new Promise<SipResponse>((resolve, reject) => {
      const p: Pending = {
        resolve,
        reject,
        provisional: o.provisional,
        timer: setTimeout(() => {
          this.pending.delete(b);
          clearTimeout(p.retransmit);
          reject(new GbError(`no answer to ${req.method} within ${Math.round((o.timeoutMs ?? 8000) / 1000)} s`, 'timeout'));
        }, o.timeoutMs ?? 8000),
      };
      this.pending.set(b, p);
      const send = () => this.transport.send(peer, req).catch((err) => {
        this.pending.delete(b);
        clearTimeout(p.timer);
        clearTimeout(p.retransmit);
        reject(new GbError(`cannot reach the device: ${(err as Error).message}`, 'offline'));
      });
      void send();
      if (peer.transport === 'udp') {
        let interval = 500;
        const again = () => {
          p.retransmit = setTimeout(() => {
            if (!this.pending.has(b)) return;
            void send();
            interval = Math.min(interval * 2, 4000);
            again();
          }, interval);
        };
        again();
      }
    });
  }

  private registered(deviceId: string): Registration {
    const reg = this.registrations.get(deviceId);
    if (!reg || !reg.online) throw new GbError('the device is not registered or offline', 'offline');
    return reg;
  }

  private nextSn(): number {
    this.sn = (this.sn + 1) % 1_000_000_000;
    return this.sn;
  }

  private charsetFor(reg: Registration): Charset {
    // GB2312 is what 2016-edition devices expect; 2022-edition devices read UTF-8 as well, but GB18030 stays safe for both
    void reg;
    return 'gb18030';
  }

  /** Send a MESSAGE with a MANSCDP body; resolves on the device's 200 OK. */
  async message(deviceId: string, root: 'Query' | 'Control' | 'Notify', fields: XmlNode): Promise<void> {
    const reg = this.registered(deviceId);
    const body = buildManscdp(root, fields, this.charsetFor(reg));
    const res = await this.request(reg.peer, this.newRequest('MESSAGE', reg, { body, contentType: MANSCDP_CONTENT_TYPE, toUser: deviceId }), { timeoutMs: this.o.queryTimeoutMs });
    if (res.status >= 300) throw new GbError(`the device refused the ${String(fields.CmdType)} message (${res.status} ${res.reason})`, 'refused');
  }

  /** A Query whose answer is one Response MESSAGE with the same SN (DeviceInfo, DeviceStatus, RecordInfo, PresetQuery...). */
  async query(deviceId: string, cmdType: string, fields: XmlNode = {}, target = deviceId): Promise<ManscdpDoc> {
    const sn = this.nextSn();
    const key = `${deviceId}/${cmdType}/${sn}`;
    const answer = new Promise<ManscdpDoc>((resolve, reject) => {
      this.queries.set(key, {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.queries.delete(key);
          reject(new GbError(`no ${cmdType} answer within ${Math.round(this.o.queryTimeoutMs / 1000)} s`, 'timeout'));
        }, this.o.queryTimeoutMs),
      });
    });
    return this.sendQuery(deviceId, { CmdType: cmdType, SN: sn, DeviceID: target, ...fields }, this.queries, key, answer);
  }

  /** Send a Query whose answer(s) `done` waits for under `key` in `waiting`; a query that cannot be sent is forgotten. */
  private async sendQuery<T>(deviceId: string, fields: XmlNode, waiting: Map<string, { timer: NodeJS.Timeout }>, key: string, done: Promise<T>): Promise<T> {
    done.catch(() => {});
    try {
      await this.message(deviceId, 'Query', fields);
    } catch (err) {
      const w = waiting.get(key);
      if (w) { clearTimeout(w.timer); waiting.delete(key); }
      throw err;
    }
    return done;
  }

  async deviceInfo(deviceId: string): Promise<{ name?: string; manufacturer?: string; model?: string; firmware?: string; channels?: number }> {
    const d = await this.query(deviceId, 'DeviceInfo');
    const n = Number(textOf(d.el, 'Channel'));
    return { name: textOf(d.el, 'DeviceName'), manufacturer: textOf(d.el, 'Manufacturer'), model: textOf(d.el, 'Model'), firmware: textOf(d.el, 'Firmware'), channels: Number.isFinite(n) ? n : undefined };
  }

  async deviceStatus(deviceId: string): Promise<{ online?: string; status?: string; record?: string; encode?: string; deviceTime?: string }> {
    const d = await this.query(deviceId, 'DeviceStatus');
    return { online: textOf(d.el, 'Online'), status: textOf(d.el, 'Status'), record: textOf(d.el, 'Record'), encode: textOf(d.el, 'Encode'), deviceTime: textOf(d.el, 'DeviceTime') };
  }

  /** Query the catalog and collect every page (SumNum items); rejects with 'incomplete' when pages stop coming. */
  async catalog(deviceId: string): Promise<CatalogItem[]> {
    const sn = this.nextSn();
    const key = `${deviceId}/${sn}`;
    const done = new Promise<CatalogItem[]>((resolve, reject) => {
      const c: PendingCatalog = {
        items: new Map(),
        sumNum: null,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.catalogs.delete(key);
          this.count('catalog_incomplete');
          reject(new GbError(`catalog incomplete: ${c.items.size} of ${c.sumNum ?? '?'} items arrived before the pages stopped`, c.items.size ? 'incomplete' : 'timeout'));
        }, this.o.catalogPageTimeoutMs),
      };
      this.catalogs.set(key, c);
    });
    return this.sendQuery(deviceId, { CmdType: 'Catalog', SN: sn, DeviceID: deviceId }, this.catalogs, key, done);
  }

  /**
   * RecordInfo: the recordings of a channel in [fromMs, toMs), every page collected (SumNum items; SumNum 0 = none).
   * Rejects with 'incomplete' when pages stop coming before SumNum.
   */
  async recordInfo(deviceId: string, channelId: string, fromMs: number, toMs: number, type = 'all'): Promise<RecordItem[]> {
    const sn = this.nextSn();
    const key = `${deviceId}/${sn}`;
    const done = new Promise<RecordItem[]>((resolve, reject) => {
      const c: PendingRecords = {
        items: [], sumNum: null, received: 0, resolve, reject,
        timer: setTimeout(() => {
          this.records.delete(key);
          this.count('record_info_incomplete');
          reject(new GbError(`RecordInfo incomplete: ${c.received} of ${c.sumNum ?? '?'} items arrived before the pages stopped`, c.received ? 'incomplete' : 'timeout'));
        }, this.o.queryTimeoutMs),
      };
      this.records.set(key, c);
    });
    return this.sendQuery(deviceId, { CmdType: 'RecordInfo', SN: sn, DeviceID: channelId, StartTime: toGbTime(fromMs), EndTime: toGbTime(toMs), Secrecy: 0, Type: type }, this.records, key, done);
  }

  /** INFO with a MANSRTSP body inside a playback dialog (speed, pause, resume, seek); resolves on the device's 200. */
  async playbackControl(d: Dialog, cmd: MansrtspCommand): Promise<void> {
    if (!this.dialogs.has(d.callId)) throw new GbError('the playback has ended', 'offline');
    const reg = this.registrations.get(d.deviceId);
    if (!reg) throw new GbError('the device is not registered', 'offline');
    d.cseq++;
    d.rtspCseq = (d.rtspCseq ?? 0) + 1;
    const body = Buffer.from(buildMansrtsp(cmd, d.rtspCseq));
    const req = this.newRequest('INFO', { ...reg, peer: d.peer }, { uri: d.remoteUri, toUser: d.channelId, callId: d.callId, fromTag: d.fromTag, toTag: d.toTag, cseq: d.cseq, body, contentType: MANSRTSP_CONTENT_TYPE });
    const res = await this.request(d.peer, req, { timeoutMs: this.o.queryTimeoutMs });
    this.count('playback_control');
    if (res.status >= 300) throw new GbError(`the device refused ${cmd.method} (${res.status} ${res.reason})`, 'refused');
  }

  /** SUBSCRIBE to catalog changes (the device then NOTIFYs ON/OFF/VLOST/DEFECT/ADD/DEL/UPDATE). */
  async subscribeCatalog(deviceId: string, expiresS = 3600): Promise<void> {
    const reg = this.registered(deviceId);
    const body = buildManscdp('Query', { CmdType: 'Catalog', SN: this.nextSn(), DeviceID: deviceId }, this.charsetFor(reg));
    const req = this.newRequest('SUBSCRIBE', reg, { body, contentType: MANSCDP_CONTENT_TYPE, extra: [['Event', 'Catalog'], ['Expires', String(expiresS)], ['Contact', `<sip:${this.o.serverId}@${this.viaHost}:${this.port}>`]] });
    const res = await this.request(reg.peer, req, { timeoutMs: this.o.queryTimeoutMs });
    if (res.status >= 300) throw new GbError(`catalog subscription refused (${res.status} ${res.reason})`, 'refused');
  }

  /** DeviceControl with a PTZCmd (8 bytes as 16 hex digits, see ptz-cmd.ts). */
  async ptz(deviceId: string, channelId: string, ptzCmd: string): Promise<void> {
    await this.message(deviceId, 'Control', { CmdType: 'DeviceControl', SN: this.nextSn(), DeviceID: channelId, PTZCmd: ptzCmd, Info: { ControlPriority: 5 } });
  }

  /** INVITE for live media; resolves with the dialog and the device's SDP answer once ACKed. */
  async invite(deviceId: string, channelId: string, sdp: string, ssrc: string, timeoutMs = 10_000, playback = false): Promise<Dialog> {
    const reg = this.registered(deviceId);
    const fromTag = tag();
    const callId = `${randomBytes(10).toString('hex')}@${this.viaHost}`;
    const req = this.newRequest('INVITE', reg, {
      toUser: channelId,
      callId,
      fromTag,
      cseq: 1,
      body: Buffer.from(sdp),
      contentType: 'APPLICATION/SDP',
      extra: [['Contact', `<sip:${this.o.serverId}@${this.viaHost}:${this.port}>`], ['Subject', `${channelId}:${ssrc},${this.o.serverId}:0`]],
    });
    const res = await this.request(reg.peer, req, { timeoutMs });
    if (res.status >= 300) {
      // non-2xx final responses are ACKed by the client transaction (RFC 3261 §17.1.1.3)
      void this.transport.send(reg.peer, this.ackFor(req, res, 1)).catch(() => {});
      throw new GbError(`the device refused the INVITE (${res.status} ${res.reason})`, 'refused');
    }
    const toTag = headerParams(res.headers.get('to')!).params.tag ?? '';
    const remoteUri = uriOf(res.headers.get('contact') ?? '') || req.uri;
    const dialog: Dialog = { callId, fromTag, toTag, deviceId, channelId, peer: reg.peer, remoteUri, cseq: 1, sdp: res.body.toString('utf8'), playback };
    this.dialogs.set(callId, dialog);
    await this.transport.send(reg.peer, this.ackFor(req, res, 1, remoteUri));
    return dialog;
  }

  private ackFor(invite: SipRequest, res: SipResponse, cseq: number, uri = invite.uri): SipRequest {
    const h = new SipHeaders();
    const ok = res.status < 300;
    // a 2xx ACK is its own transaction (new branch); a non-2xx ACK reuses the INVITE's
    const via = invite.headers.get('via')!;
    h.add('Via', ok ? via.replace(/branch=[^;,\s]+/, `branch=${branch()}`) : via);
    h.add('From', invite.headers.get('from')!);
    h.add('To', res.headers.get('to')!);
    h.add('Call-ID', invite.headers.get('call-id')!);
    h.add('CSeq', `${cseq} ACK`);
    h.add('Max-Forwards', '70');
    return { kind: 'request', method: 'ACK', uri, headers: h, body: Buffer.alloc(0) };
  }

  /** End a media dialog (idle stream, stop). */
  async bye(d: Dialog): Promise<void> {
    if (!this.dialogs.delete(d.callId)) return;
    const reg = this.registrations.get(d.deviceId);
    if (!reg) return;
    d.cseq++;
    const req = this.newRequest('BYE', { ...reg, peer: d.peer }, { uri: d.remoteUri, toUser: d.channelId, callId: d.callId, fromTag: d.fromTag, toTag: d.toTag, cseq: d.cseq });
    await this.request(d.peer, req, { timeoutMs: 4000 }).catch(() => {});
  }

  dialogCount(): number {
    return this.dialogs.size;
  }
}

export interface GbAlarm {
  channelId: string;
  priority: number | null;
  method: number | null;
  type: number | null;
  time: string | null;
  description: string | null;
}

export { parseCSeq };
