/**
 * RTSP 1.0 client for one video track (RFC 2326): OPTIONS → DESCRIBE → SETUP → PLAY, keep-alive inside the session
 * timeout (GET_PARAMETER when the server lists it, else OPTIONS), TEARDOWN on close. Basic and Digest auth, redirects
 * (3xx + Location, same-host credentials only), RTP interleaved on the connection or over UDP port pairs with RTCP
 * receiver reports, and a fall back from UDP to TCP when no packet arrives. RTSPS is TLS on the control connection
 * (RTP then goes interleaved inside it).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { RtspAuthenticator } from './auth.js';
import { header, RtspConnection, RtspError, type RtspResponse } from './connection.js';
import { parseSdp, resolveControl, type Sdp, type SdpVideo } from './sdp.js';
import { parseRtp, RtpReceiverStats, type RtpPacket } from '../rtp/rtp-packet.js';

export { RtspError } from './connection.js';

export type RtpTransport = 'tcp' | 'udp' | 'auto';

/**
 * Where PLAY starts (RFC 2326 §12.29, Range): normal play time in seconds from the start of a recording, or an absolute
 * UTC time (`clock=`, what NVRs and camera SD-card playback take); an end bounds it. Live streams: leave it out.
 */
export type PlayRange = { npt: number; end?: number } | { clock: Date; end?: Date };

const clockText = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

/** The Range header of a PLAY: built from numbers and dates only (never a caller's string). Throws on nonsense. */
export function formatRange(r: PlayRange): string {
  if ('npt' in r) {
    if (!Number.isFinite(r.npt) || r.npt < 0 || (r.end !== undefined && (!Number.isFinite(r.end) || r.end <= r.npt))) throw new RangeError('npt range: 0 ≤ start < end');
    return `npt=${r.npt.toFixed(3)}-${r.end !== undefined ? r.end.toFixed(3) : ''}`;
  }
  if (!(r.clock instanceof Date) || Number.isNaN(r.clock.getTime()) || (r.end !== undefined && (Number.isNaN(r.end.getTime()) || r.end <= r.clock))) throw new RangeError('clock range: valid dates, start < end');
  return `clock=${clockText(r.clock)}-${r.end ? clockText(r.end) : ''}`;
}

/** The Scale header (§12.34): playback speed, negative = reverse; 1 is normal play and is not sent. */
export function formatScale(scale: number): string {
  if (!Number.isFinite(scale) || scale === 0 || Math.abs(scale) > 64) throw new RangeError('scale: non-zero, at most 64 either way');
  return scale.toFixed(3).replace(/0+$/, '').replace(/\.$/, '.0');
}

/** A Range answer's npt start and end (seconds), where it is an npt range. */
export function parseNptRange(header: string | undefined): { start: number; end?: number } | undefined {
  const m = /npt\s*=\s*(now|[\d.]+)\s*-\s*([\d.]*)/i.exec(header ?? '');
  if (!m) return undefined;
  const start = m[1].toLowerCase() === 'now' ? 0 : Number(m[1]);
  if (!Number.isFinite(start)) return undefined;
  const end = m[2] ? Number(m[2]) : undefined;
  return { start, ...(end !== undefined && Number.isFinite(end) ? { end } : {}) };
}

export interface RtspClientOptions {
  url: string;
  username?: string;
  password?: string;
  /** 'auto': UDP first, TCP when the server refuses UDP or no packet arrives within udpTimeoutMs */
  transport?: RtpTransport;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  udpTimeoutMs?: number;
  tlsVerify?: boolean;
  maxRedirects?: number;
  userAgent?: string;
  /** RTCP receiver report interval */
  rtcpIntervalMs?: number;
  /** where PLAY starts (and ends): recordings and camera playback; default `npt=0.000-` (live) */
  range?: PlayRange;
  /** playback speed (Scale header); default: none sent (1) */
  scale?: number;
  onRtp: (p: RtpPacket) => void;
  /** the session ended (camera closed, timeout, error); not called after close() */
  onEnd: (err: RtspError) => void;
  /** any bytes from the camera (watchdogs) */
  onData?: () => void;
  /** diagnostics (no secrets) */
  onInfo?: (msg: string, detail?: Record<string, unknown>) => void;
}

export interface PlayingSession {
  sdp: Sdp;
  video: SdpVideo;
  transport: 'tcp' | 'udp';
  /** the URL finally played (after redirects), without credentials */
  url: string;
  /** the server's Range answer to PLAY (what it really plays, e.g. snapped to a keyframe) */
  range?: string;
  /** the server's Scale answer, when it sent one (it may grant another speed than asked) */
  scale?: number;
}

const OK = (r: RtspResponse) => r.status >= 200 && r.status < 300;

function statusError(method: string, r: RtspResponse): RtspError {
  if (r.status === 401 || r.status === 403) return new RtspError('auth', `the camera refused the user name or password (${r.status} ${r.status === 401 ? 'Unauthorized' : 'Forbidden'})`, r.status);
  if (r.status === 404) return new RtspError('fatal', 'stream path not found on the camera (404)', 404);
  if (r.status === 454) return new RtspError('transient', 'the camera lost the session (454 Session Not Found)', 454);
  if (r.status === 461) return new RtspError('unsupported', `the camera refused the transport (461 Unsupported Transport)`, 461);
  if (r.status >= 500) return new RtspError('transient', `${method} failed: ${r.status} ${r.reason.slice(0, 80)}`, r.status);
  return new RtspError('fatal', `${method} failed: ${r.status} ${r.reason.slice(0, 80)}`, r.status);
}

export class RtspClient {
  private conn?: RtspConnection;
  private auth?: RtspAuthenticator;
  private session?: string;
  private sessionTimeoutS = 60;
  private keepAliveTimer?: NodeJS.Timeout;
  private rtcpTimer?: NodeJS.Timeout;
  private udp?: { rtp: UdpSocket; rtcp: UdpSocket; serverHost: string; serverRtcpPort?: number };
  private closed = false;
  private playing = false;
  private publicMethods = new Set<string>();
  private channels = { rtp: 0, rtcp: 1 };
  private readonly stats = new RtpReceiverStats();
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private controlUrl = '';
  private playUrl = '';
  private clockRate = 90000;
  private payloadType = -1;
  private played: { range?: string; scale?: number } = {};
  private readonly o: Required<Omit<RtspClientOptions, 'username' | 'password' | 'onData' | 'onInfo' | 'range' | 'scale'>> & RtspClientOptions;
  packets = 0;

  constructor(opts: RtspClientOptions) {
    this.o = {
      transport: 'tcp',
      connectTimeoutMs: 5000,
      requestTimeoutMs: 8000,
      udpTimeoutMs: 3000,
      tlsVerify: false,
      maxRedirects: 3,
      userAgent: 'StreetEye',
      rtcpIntervalMs: 5000,
      ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as RtspClientOptions),
    };
    if (opts.username !== undefined) this.auth = new RtspAuthenticator(opts.username, opts.password ?? '');
    // checked now: a bad range or speed is the caller's mistake, not a camera failure to retry
    if (opts.range) formatRange(opts.range);
    if (opts.scale !== undefined && opts.scale !== 1) formatScale(opts.scale);
  }

  get receiverStats(): RtpReceiverStats {
    return this.stats;
  }

  /** Connect and start playing. Rejects with an RtspError (kind says whether to retry, give up, or fall back). */
  async start(): Promise<PlayingSession> {
    let url = this.o.url;
    for (let hop = 0; ; hop++) {
      const res = await this.describe(url);
      if ('redirect' in res) {
        if (hop >= this.o.maxRedirects) throw new RtspError('fatal', `too many redirects (more than ${this.o.maxRedirects})`);
        const next = res.redirect;
        if (new URL(next).hostname !== new URL(url).hostname) this.auth = undefined; // never hand credentials to another host
        this.o.onInfo?.('redirected', { to: next.replace(/\/\/[^@/]*@/, '//') });
        url = next;
        continue;
      }
      const { sdp, video } = res;
      let transport: 'tcp' | 'udp' = this.o.transport === 'tcp' || this.isTls(url) ? 'tcp' : 'udp';
      try {
        await this.setupAndPlay(video, transport);
      } catch (err) {
        if (transport === 'udp' && this.o.transport === 'auto' && err instanceof RtspError && (err.kind === 'unsupported' || err.kind === 'network')) {
          this.o.onInfo?.('UDP refused or silent; retrying over TCP', { reason: err.message });
          this.teardownQuietly();
          const again = await this.describe(url);
          if ('redirect' in again) throw new RtspError('fatal', 'redirected after the first DESCRIBE');
          transport = 'tcp';
          await this.setupAndPlay(again.video, transport);
          return { sdp: again.sdp, video: again.video, transport, url, ...this.played };
        }
        throw err;
      }
      return { sdp, video, transport, url, ...this.played };
    }
  }

  /** TEARDOWN (best effort, short wait) and close everything. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    const conn = this.conn;
    if (conn && !conn.isClosed && this.session) {
      await this.send('TEARDOWN', this.playUrl || this.controlUrl, {}, 1000).catch(() => undefined);
    }
    conn?.close();
    this.closeUdp();
  }

  private isTls(url: string): boolean {
    return url.toLowerCase().startsWith('rtsps:');
  }

  private stopTimers(): void {
    clearInterval(this.keepAliveTimer);
    clearInterval(this.rtcpTimer);
    this.keepAliveTimer = this.rtcpTimer = undefined;
  }

  private teardownQuietly(): void {
    this.stopTimers();
    const conn = this.conn;
    if (conn && this.session) void this.send('TEARDOWN', this.playUrl || this.controlUrl, {}, 500).catch(() => undefined).finally(() => conn.close());
    else conn?.close();
    this.conn = undefined;
    this.session = undefined;
    this.playing = false;
    this.closeUdp();
  }

  private closeUdp(): void {
    if (!this.udp) return;
    for (const s of [this.udp.rtp, this.udp.rtcp]) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
    this.udp = undefined;
  }

  private async open(url: string): Promise<void> {
    this.conn?.close();
    const u = new URL(url);
    const tls = u.protocol === 'rtsps:';
    const conn = new RtspConnection({
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: Number(u.port) || (tls ? 322 : 554),
      tls,
      tlsVerify: this.o.tlsVerify,
      connectTimeoutMs: this.o.connectTimeoutMs,
      requestTimeoutMs: this.o.requestTimeoutMs,
      userAgent: this.o.userAgent,
      onData: this.o.onData,
      onInterleaved: (ch, payload) => this.onInterleaved(ch, payload),
      onClose: (err) => {
        if (this.conn !== conn || this.closed) return;
        this.end(err);
      },
    });
    this.conn = conn;
    await conn.connect();
  }

  private end(err: RtspError): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    this.conn?.close();
    this.closeUdp();
    this.o.onEnd(err);
  }

  /** One request with the session and authorization; answers a 401 challenge once per new nonce. */
  private async send(method: string, uri: string, headers: Record<string, string | undefined>, timeoutMs?: number): Promise<RtspResponse> {
    const conn = this.conn;
    if (!conn) throw new RtspError('transient', 'not connected');
    for (let attempt = 0; attempt < 3; attempt++) {
      const h = { ...headers, Session: this.session, Authorization: this.auth?.header(method, uri) };
      const r = await conn.request(method, uri, h, timeoutMs);
      if (r.status !== 401 || !this.auth) return r;
      if (!this.auth.accept(r.headers.get('www-authenticate') ?? [])) return r;
    }
    throw new RtspError('auth', 'the camera refused the user name or password (401 Unauthorized)', 401);
  }

  private async describe(url: string): Promise<{ sdp: Sdp; video: SdpVideo } | { redirect: string }> {
    await this.open(url);
    const opts = await this.send('OPTIONS', url, {});
    if (OK(opts)) {
      this.publicMethods = new Set((header(opts, 'public') ?? '').split(',').map((m) => m.trim().toUpperCase()).filter(Boolean));
    } else if (opts.status === 401 || opts.status === 403) throw statusError('OPTIONS', opts);
    else if (opts.status >= 300 && opts.status < 400) {
      const loc = header(opts, 'location');
      if (loc) return { redirect: this.checkRedirect(loc) };
    }
    const d = await this.send('DESCRIBE', url, { Accept: 'application/sdp' });
    if (d.status >= 300 && d.status < 400) {
      const loc = header(d, 'location');
      if (!loc) throw new RtspError('fatal', `DESCRIBE answered ${d.status} without a Location`);
      return { redirect: this.checkRedirect(loc) };
    }
    if (!OK(d)) throw statusError('DESCRIBE', d);
    if (d.body.length === 0) throw new RtspError('fatal', 'the camera sent no session description (empty DESCRIBE reply)');
    const type = header(d, 'content-type');
    if (type && !/application\/sdp/i.test(type)) throw new RtspError('fatal', `the camera sent ${type.slice(0, 40)} instead of SDP`);
    const base = header(d, 'content-base') ?? header(d, 'content-location') ?? url;
    const sdp = parseSdp(d.body.toString('utf8'), base);
    if (sdp.videos.length === 0) throw new RtspError('fatal', 'the stream has no video');
    const video = sdp.videos.find((v) => v.codec === 'h264' || v.codec === 'h265');
    if (!video) throw new RtspError('unsupported', `video codec ${sdp.videos[0].codec || 'unknown'} is not supported natively`);
    // aggregate control: the session-level a=control ("*" or absent: the base URL)
    this.playUrl = resolveControl(base, sdp.sessionControl);
    return { sdp, video };
  }

  private checkRedirect(loc: string): string {
    if (!/^rtsps?:\/\/[^\s]+$/i.test(loc)) throw new RtspError('fatal', 'redirected to something that is not an rtsp:// URL');
    const u = new URL(loc);
    u.username = '';
    u.password = '';
    return u.toString();
  }

  private async setupAndPlay(video: SdpVideo, transport: 'tcp' | 'udp'): Promise<void> {
    this.controlUrl = video.control;
    this.clockRate = video.clockRate;
    this.payloadType = video.payloadType;
    let transportHeader: string;
    let ports: [number, number] | undefined;
    if (transport === 'tcp') transportHeader = 'RTP/AVP/TCP;unicast;interleaved=0-1';
    else {
      ports = await this.bindUdp();
      transportHeader = `RTP/AVP;unicast;client_port=${ports[0]}-${ports[1]}`;
    }
    const s = await this.send('SETUP', video.control, { Transport: transportHeader });
    if (!OK(s)) throw statusError('SETUP', s);
    const sess = header(s, 'session');
    if (!sess) throw new RtspError('transient', 'the camera answered SETUP without a Session header');
    const [id, ...params] = sess.split(';');
    if (!id.trim() || id.length > 256) throw new RtspError('transient', 'the camera answered SETUP with an unusable Session header');
    this.session = id.trim();
    const to = params.map((p) => /^\s*timeout\s*=\s*(\d+)/i.exec(p)).find(Boolean);
    if (to) this.sessionTimeoutS = Math.max(5, Math.min(3600, Number(to[1])));
    const t = header(s, 'transport') ?? '';
    if (transport === 'tcp') {
      const il = /interleaved=(\d+)(?:-(\d+))?/i.exec(t);
      if (il) this.channels = { rtp: Number(il[1]), rtcp: il[2] !== undefined ? Number(il[2]) : Number(il[1]) + 1 };
      if (t && !/TCP/i.test(t)) throw new RtspError('unsupported', 'the camera answered an interleaved SETUP with another transport');
    } else {
      const sp = /server_port=(\d+)(?:-(\d+))?/i.exec(t);
      const src = /source=([^;\s]+)/i.exec(t);
      if (this.udp) {
        if (src) this.udp.serverHost = await this.resolveHost(src[1]);
        if (sp) this.udp.serverRtcpPort = sp[2] !== undefined ? Number(sp[2]) : Number(sp[1]) + 1;
        if (sp) this.punch(Number(sp[1]), this.udp.serverRtcpPort!);
      }
    }
    const playHeaders: Record<string, string> = { Range: this.o.range ? formatRange(this.o.range) : 'npt=0.000-' };
    if (this.o.scale !== undefined && this.o.scale !== 1) playHeaders.Scale = formatScale(this.o.scale);
    const p = await this.send('PLAY', this.playUrl, playHeaders);
    if (p.status === 457) throw new RtspError('fatal', `the camera refused the range ${playHeaders.Range} (457 Invalid Range)`, 457);
    if (!OK(p)) throw statusError('PLAY', p);
    const answeredRange = header(p, 'range');
    const answeredScale = Number(header(p, 'scale'));
    this.played = { ...(answeredRange ? { range: answeredRange.slice(0, 200) } : {}), ...(Number.isFinite(answeredScale) && header(p, 'scale') ? { scale: answeredScale } : {}) };
    if (playHeaders.Scale && this.played.scale !== undefined && Math.abs(this.played.scale - (this.o.scale ?? 1)) > 1e-3) {
      this.o.onInfo?.('the camera plays at another speed than asked', { asked: this.o.scale, granted: this.played.scale });
    }
    this.playing = true;
    if (this.conn) this.conn.playing = true;
    this.startKeepAlive();
    this.rtcpTimer = setInterval(() => this.sendReceiverReport(), this.o.rtcpIntervalMs);
    this.rtcpTimer.unref?.();
    if (transport === 'udp') await this.waitFirstUdpPacket();
  }

  private startKeepAlive(): void {
    // well inside the session timeout (RFC 2326 §12.37), never less often than every 30 s
    const every = Math.max(2000, Math.min(30_000, (this.sessionTimeoutS * 1000) / 2));
    const method = this.publicMethods.has('GET_PARAMETER') ? 'GET_PARAMETER' : 'OPTIONS';
    this.keepAliveTimer = setInterval(() => {
      if (this.closed) return;
      this.send(method, method === 'OPTIONS' ? this.o.url : this.playUrl, {}).then(
        (r) => {
          if (r.status === 454) this.end(new RtspError('transient', 'the camera lost the session (454 Session Not Found)'));
        },
        (err: RtspError) => this.end(new RtspError('transient', `keep-alive failed: ${err.message}`)),
      );
    }, every);
    this.keepAliveTimer.unref?.();
  }

  private onInterleaved(ch: number, payload: Buffer): void {
    if (!this.playing) return;
    if (ch === this.channels.rtp) this.onRtpPacket(payload);
    else if (ch === this.channels.rtcp) this.onRtcp(payload);
  }

  private onRtpPacket(buf: Buffer): void {
    const p = parseRtp(buf);
    if (!p || (this.payloadType >= 0 && p.payloadType !== this.payloadType)) return;
    this.packets++;
    this.stats.onPacket(p, Date.now(), this.clockRate);
    this.o.onRtp(p);
  }

  private onRtcp(buf: Buffer): void {
    // compound packet: find the sender report
    for (let o = 0; o + 4 <= buf.length; ) {
      const len = (buf.readUInt16BE(o + 2) + 1) * 4;
      if (buf[o + 1] === 200) this.stats.onSenderReport(buf.subarray(o, o + len), Date.now());
      o += len;
    }
  }

  private sendReceiverReport(): void {
    const rr = this.stats.receiverReport(this.ssrc, Date.now());
    if (!rr) return;
    if (this.udp && this.udp.serverRtcpPort) this.udp.rtcp.send(rr, this.udp.serverRtcpPort, this.udp.serverHost);
    else if (!this.udp) this.conn?.sendInterleaved(this.channels.rtcp, rr);
  }

  private async resolveHost(h: string): Promise<string> {
    if (isIP(h)) return h;
    return (await lookup(h)).address;
  }

  /** Bind an even/odd UDP port pair (RFC 3550 §11). */
  private async bindUdp(): Promise<[number, number]> {
    const host = await this.resolveHost(new URL(this.controlUrl).hostname.replace(/^\[|\]$/g, ''));
    const family = isIP(host) === 6 ? 'udp6' : 'udp4';
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = randomInt(20000, 60000) & ~1;
      const rtp = createSocket(family);
      const rtcp = createSocket(family);
      const bind = (s: UdpSocket, p: number) => new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(p, () => resolve(true));
      });
      if ((await bind(rtp, port)) && (await bind(rtcp, port + 1))) {
        rtp.on('error', () => {});
        rtcp.on('error', () => {});
        this.udp = { rtp, rtcp, serverHost: host };
        rtp.on('message', (msg, rinfo) => {
          // only the camera may feed this session (no injection from other hosts)
          if (rinfo.address !== this.udp?.serverHost) return;
          this.o.onData?.();
          if (this.playing) this.onRtpPacket(msg);
        });
        rtcp.on('message', (msg, rinfo) => {
          if (rinfo.address !== this.udp?.serverHost) return;
          this.onRtcp(msg);
        });
        return [port, port + 1];
      }
      for (const s of [rtp, rtcp]) try { s.close(); } catch { /* not bound */ }
    }
    throw new RtspError('transient', 'no free UDP port pair');
  }

  /** A first datagram to the server's ports opens NAT/firewall state for the way back. */
  private punch(rtpPort: number, rtcpPort: number): void {
    if (!this.udp) return;
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 0]);
    rr.writeUInt32BE(this.ssrc, 4);
    this.udp.rtp.send(Buffer.from([0x80, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), rtpPort, this.udp.serverHost);
    this.udp.rtcp.send(rr, rtcpPort, this.udp.serverHost);
  }

  private waitFirstUdpPacket(): Promise<void> {
    const start = this.packets;
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const tick = setInterval(() => {
        if (this.packets > start) {
          clearInterval(tick);
          resolve();
        } else if (this.closed) {
          clearInterval(tick);
          reject(new RtspError('transient', 'closed'));
        } else if (Date.now() - t0 > this.o.udpTimeoutMs) {
          clearInterval(tick);
          reject(new RtspError('network', `no RTP over UDP within ${this.o.udpTimeoutMs} ms`));
        }
      }, 50);
    });
  }
}
