/**
 * One RTSP server (RFC 2326) for the whole fleet; the path picks camera and stream:
 * rtsp://host:port/cam/<id>/<main|sub>. RTP goes interleaved on the RTSP connection (TCP) or over UDP
 * from one shared socket pair.
 *
 * Faults on a shared port: a connection cannot be refused before the client says which camera it wants,
 * so "offline" resets the TCP connection (RST) as soon as a request names an offline camera, before any
 * reply, and resets the connections of its current viewers; "stall" reads requests and never answers,
 * and holds back media on open sessions.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { RtpSink, SimCamera, StreamChannel, StreamKind } from './camera.js';
import type { HttpAuth } from './rtsp-auth.js';
import { stampFrame, type RtpFrame } from './rtp-packetizer.js';
import { buildSdp } from './sdp.js';

/** A TCP viewer further behind than this skips to the next keyframe... */
const SKIP_BACKLOG_BYTES = 2 * 1024 * 1024;
/** ...and one this far behind is disconnected so it cannot hold memory. */
const DROP_BACKLOG_BYTES = 16 * 1024 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
const SESSION_TIMEOUT_S = 60;
const RTCP_INTERVAL_MS = 5000;

export interface RtspRegistry {
  camera(id: string): SimCamera | undefined;
}

interface ParsedRequest {
  method: string;
  uri: string;
  headers: Record<string, string>;
  body: Buffer;
}

function ntpFromMs(ms: number): [number, number] {
  const secs = Math.floor(ms / 1000) + 2208988800;
  const frac = Math.floor(((ms % 1000) / 1000) * 0x100000000);
  return [secs >>> 0, frac >>> 0];
}

class RtpSession implements RtpSink {
  readonly id = randomBytes(8).toString('hex');
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  seq = randomInt(0, 0x10000);
  readonly firstSeq = this.seq;
  /** Random RTP timestamp base announced in RTP-Info; rtptime(g) = rtpTime0 + (g - firstG) * ticks. */
  readonly rtpTime0 = randomBytes(4).readUInt32BE(0);
  firstG = -1;
  needKey = true;
  playing = false;
  playingSince = 0;
  packets = 0;
  octets = 0;
  lastRtcp = 0;
  lastSeen = Date.now();
  authed = false;
  skippedFrames = 0;

  constructor(
    readonly conn: RtspConnection,
    readonly camera: SimCamera,
    readonly channel: StreamChannel,
    readonly transport: { tcp: true; channel: number } | { tcp: false; host: string; rtpPort: number; rtcpPort: number },
  ) {}

  rtpTime(g: number): number {
    const d = ((g - this.firstG) * this.channel.ticksPerFrame) % 0x100000000;
    return (this.rtpTime0 + d + 0x100000000) % 0x100000000;
  }

  deliver(frame: RtpFrame, g: number, stream: StreamChannel, now: number): void {
    const sock = this.conn.socket;
    if (this.transport.tcp) {
      if (sock.writableLength > SKIP_BACKLOG_BYTES) {
        if (sock.writableLength > DROP_BACKLOG_BYTES) {
          this.conn.server.log.warn({ camera: this.camera.id, stream: stream.kind }, 'viewer too slow; disconnecting');
          this.kill(false);
          return;
        }
        this.needKey = true;
        this.skippedFrames++;
        return;
      }
    }
    this.needKey = false;
    // The first frame really sent carries the announced rtptime, even when a loaded event loop let
    // the predicted keyframe pass before the first pump (then the next keyframe opens the stream).
    if (this.packets === 0) this.firstG = g;
    const ts = this.rtpTime(g);
    const buf = Buffer.allocUnsafe(frame.template.length);
    const ch = this.transport.tcp ? this.transport.channel : 0;
    this.seq = stampFrame(frame, buf, ch, this.seq, ts, this.ssrc);
    this.packets += frame.offsets.length;
    this.octets += frame.payloadBytes;
    if (this.transport.tcp) {
      sock.write(buf);
    } else {
      const t = this.transport;
      const offs = frame.offsets;
      for (let i = 0; i < offs.length; i++) {
        const end = i + 1 < offs.length ? offs[i + 1] : buf.length;
        this.conn.server.udpRtp?.send(buf.subarray(offs[i] + 4, end), t.rtpPort, t.host);
      }
    }
    if (now - this.lastRtcp >= RTCP_INTERVAL_MS) {
      this.lastRtcp = now;
      this.sendSenderReport(g * stream.frameMs, ts);
    }
  }

  /** RTCP SR: maps this RTP timestamp to the picture's wall-clock time, so clients can measure latency. */
  private sendSenderReport(pictureMs: number, ts: number): void {
    const sr = Buffer.alloc(32);
    sr[4] = 0x80;
    sr[5] = 200;
    sr.writeUInt16BE(6, 6);
    sr.writeUInt32BE(this.ssrc, 8);
    const [msw, lsw] = ntpFromMs(pictureMs);
    sr.writeUInt32BE(msw, 12);
    sr.writeUInt32BE(lsw, 16);
    sr.writeUInt32BE(ts >>> 0, 20);
    sr.writeUInt32BE(this.packets >>> 0, 24);
    sr.writeUInt32BE(this.octets >>> 0, 28);
    if (this.transport.tcp) {
      sr[0] = 0x24;
      sr[1] = this.transport.channel + 1;
      sr.writeUInt16BE(28, 2);
      this.conn.socket.write(sr);
    } else {
      this.conn.server.udpRtcp?.send(sr.subarray(4), this.transport.rtcpPort, this.transport.host);
    }
  }

  stopPlaying(): void {
    if (!this.playing) return;
    this.playing = false;
    this.channel.remove(this);
  }

  kill(reset: boolean): void {
    this.stopPlaying();
    this.conn.close(reset);
  }
}

class RtspConnection {
  private buf: Buffer = Buffer.alloc(0);
  readonly sessions = new Map<string, RtpSession>();
  private closed = false;

  constructor(
    readonly server: RtspServer,
    readonly socket: Socket,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => this.close(false));
    socket.on('close', () => this.close(false));
  }

  close(reset: boolean): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sessions.values()) s.stopPlaying();
    this.sessions.clear();
    this.server.connections.delete(this);
    if (reset && !this.socket.destroyed) this.socket.resetAndDestroy();
    else this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length > 0 && !this.closed) {
      if (this.buf[0] === 0x24) {
        // Interleaved RTCP receiver reports from the client: not needed.
        if (this.buf.length < 4) return;
        const len = this.buf.readUInt16BE(2);
        if (this.buf.length < 4 + len) return;
        this.buf = this.buf.subarray(4 + len);
        continue;
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buf.length > MAX_HEADER_BYTES) this.close(false);
        return;
      }
      const head = this.buf.subarray(0, end).toString('latin1');
      const lines = head.split('\r\n');
      const [method, uri] = lines[0].split(' ');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const clen = parseInt(headers['content-length'] ?? '0', 10) || 0;
      if (this.buf.length < end + 4 + clen) return;
      const body = this.buf.subarray(end + 4, end + 4 + clen);
      this.buf = this.buf.subarray(end + 4 + clen);
      this.handle({ method: method ?? '', uri: uri ?? '', headers, body });
    }
  }

  reply(req: ParsedRequest, status: number, reason: string, headers: Array<[string, string]> = [], body?: string): void {
    if (this.closed) return;
    let out = `RTSP/1.0 ${status} ${reason}\r\nCSeq: ${req.headers['cseq'] ?? '0'}\r\nServer: StreetEye-Sim/1.0\r\nDate: ${new Date().toUTCString()}\r\n`;
    for (const [k, v] of headers) out += `${k}: ${v}\r\n`;
    if (body !== undefined) out += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    else out += '\r\n';
    this.socket.write(out);
  }

  private target(uri: string): { camera?: SimCamera; stream?: StreamKind; base: string } {
    let path: string;
    try {
      path = new URL(uri).pathname;
    } catch {
      return { base: uri };
    }
    const m = /^\/cam\/([^/]+)\/(main|sub)(?:\/.*)?$/.exec(path);
    if (!m) return { base: uri };
    const camera = this.server.registry.camera(decodeURIComponent(m[1]));
    const base = uri.replace(/\/trackID=\d+\/?$/, '').replace(/\/$/, '');
    return { camera, stream: m[2] as StreamKind, base };
  }

  private sessionOf(req: ParsedRequest): RtpSession | undefined {
    const id = req.headers['session']?.split(';')[0].trim();
    return id ? this.sessions.get(id) : undefined;
  }

  private handle(req: ParsedRequest): void {
    const { method } = req;
    if (method === 'OPTIONS' && (req.uri === '*' || !this.target(req.uri).camera)) {
      this.reply(req, 200, 'OK', [['Public', 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER']]);
      return;
    }
    const t = this.target(req.uri);
    const session = this.sessionOf(req);
    const camera = t.camera ?? session?.camera;
    if (!camera || (!t.stream && !session)) {
      this.reply(req, 404, 'Not Found');
      return;
    }
    const f = camera.faults;
    if (f.offline) {
      this.close(true);
      return;
    }
    if (f.stall) return; // Accepted, read, never answered.
    if (method === 'OPTIONS') {
      this.reply(req, 200, 'OK', [['Public', 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER']]);
      return;
    }
    if (session) session.lastSeen = Date.now();
    const authed =
      !f.authRefuse &&
      ((session?.authed ?? false) || this.server.auth.check(method, req.headers['authorization'], camera.ident));
    if (!authed) {
      this.reply(req, 401, 'Unauthorized', this.server.auth.rtspChallenges().map((c) => ['WWW-Authenticate', c] as [string, string]));
      return;
    }
    switch (method) {
      case 'DESCRIBE': {
        const ch = camera.streams[t.stream!];
        const sdp = buildSdp({
          sessionName: `${camera.ident.name} ${t.stream}`,
          host: this.socket.localAddress?.replace(/^::ffff:/, '') ?? '0.0.0.0',
          codec: ch.media.codec,
          vps: ch.media.vps,
          sps: ch.media.sps,
          pps: ch.media.pps,
          fps: ch.media.fps,
          width: ch.media.width,
          height: ch.media.height,
          sessionId: String(Date.now()),
        });
        this.reply(req, 200, 'OK', [['Content-Base', `${t.base}/`], ['Content-Type', 'application/sdp']], sdp);
        return;
      }
      case 'SETUP': {
        if (session) {
          this.reply(req, 459, 'Aggregate Operation Not Allowed');
          return;
        }
        const transport = req.headers['transport'] ?? '';
        const ch = camera.streams[t.stream!];
        let spec: RtpSession['transport'];
        let reply: string;
        if (/RTP\/AVP\/TCP/i.test(transport)) {
          const m = /interleaved=(\d+)(?:-(\d+))?/.exec(transport);
          const c = m ? parseInt(m[1], 10) : 0;
          spec = { tcp: true, channel: c };
          reply = `RTP/AVP/TCP;unicast;interleaved=${c}-${c + 1}`;
        } else {
          const m = /client_port=(\d+)(?:-(\d+))?/.exec(transport);
          const udp = this.server.udpPorts();
          if (!m || !udp) {
            this.reply(req, 461, 'Unsupported Transport');
            return;
          }
          const rtpPort = parseInt(m[1], 10);
          const rtcpPort = m[2] ? parseInt(m[2], 10) : rtpPort + 1;
          spec = { tcp: false, host: (this.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''), rtpPort, rtcpPort };
          reply = `RTP/AVP;unicast;client_port=${rtpPort}-${rtcpPort};server_port=${udp[0]}-${udp[1]}`;
        }
        const s = new RtpSession(this, camera, ch, spec);
        s.authed = true;
        this.sessions.set(s.id, s);
        this.reply(req, 200, 'OK', [
          ['Transport', `${reply};ssrc=${s.ssrc.toString(16).toUpperCase().padStart(8, '0')};mode="PLAY"`],
          ['Session', `${s.id};timeout=${SESSION_TIMEOUT_S}`],
        ]);
        return;
      }
      case 'PLAY': {
        if (!session) {
          this.reply(req, 454, 'Session Not Found');
          return;
        }
        if (session.playing) {
          this.reply(req, 200, 'OK', [['Session', session.id]]);
          return;
        }
        const now = Date.now();
        // Announce exactly what the first packet will carry: the next keyframe's timestamp and our seq base.
        const ch = session.channel;
        const frames = ch.media.frames;
        let g = ch.nextFrameIndex(now);
        for (let i = 0; i < frames.length && !frames[g % frames.length].key; i++) g++;
        session.firstG = g;
        session.needKey = true;
        const trackUrl = `${t.base || req.uri}/trackID=0`;
        this.reply(req, 200, 'OK', [
          ['Session', session.id],
          ['Range', 'npt=0.000-'],
          ['RTP-Info', `url=${trackUrl};seq=${session.firstSeq};rtptime=${session.rtpTime0}`],
        ]);
        session.playing = true;
        session.playingSince = now;
        ch.add(session);
        return;
      }
      case 'PAUSE': {
        session?.stopPlaying();
        this.reply(req, session ? 200 : 454, session ? 'OK' : 'Session Not Found', session ? [['Session', session.id]] : []);
        return;
      }
      case 'TEARDOWN': {
        if (session) {
          session.stopPlaying();
          this.sessions.delete(session.id);
        }
        this.reply(req, 200, 'OK', session ? [['Session', session.id]] : []);
        return;
      }
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        this.reply(req, 200, 'OK', session ? [['Session', session.id]] : []);
        return;
      default:
        this.reply(req, 405, 'Method Not Allowed', [['Allow', 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER']]);
    }
  }
}

export class RtspServer {
  readonly connections = new Set<RtspConnection>();
  private server?: Server;
  udpRtp?: UdpSocket;
  udpRtcp?: UdpSocket;
  private sweep?: NodeJS.Timeout;
  readonly log: Logger;
  port = 0;

  constructor(
    readonly registry: RtspRegistry,
    readonly auth: HttpAuth,
    log: Logger,
  ) {
    this.log = log.child({ module: 'sim-rtsp' });
  }

  udpPorts(): [number, number] | undefined {
    if (!this.udpRtp || !this.udpRtcp) return undefined;
    return [this.udpRtp.address().port, this.udpRtcp.address().port];
  }

  async start(host: string, port: number): Promise<number> {
    this.server = createServer((sock) => this.connections.add(new RtspConnection(this, sock)));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : port;
    await this.bindUdp(host);
    // UDP viewers have no connection to lose: expire those whose keep-alives stopped.
    this.sweep = setInterval(() => {
      const limit = Date.now() - SESSION_TIMEOUT_S * 1000 * 1.5;
      for (const c of this.connections) for (const s of c.sessions.values()) if (!s.transport.tcp && s.lastSeen < limit) s.kill(false);
    }, 10_000);
    this.sweep.unref();
    return this.port;
  }

  private async bindUdp(host: string): Promise<void> {
    const bind = (p: number) =>
      new Promise<UdpSocket>((resolve, reject) => {
        const s = createSocket('udp4');
        s.once('error', (e) => {
          s.close();
          reject(e);
        });
        s.bind(p, host, () => {
          s.removeAllListeners('error');
          s.on('error', (e) => this.log.debug({ err: e.message }, 'udp send error'));
          resolve(s);
        });
      });
    try {
      // RTP on an even port and RTCP on the next one, as RFC 3550 suggests; any pair works for clients.
      for (let i = 0; i < 20; i++) {
        const rtp = await bind(0);
        const p = rtp.address().port;
        if (p % 2 === 0) {
          try {
            this.udpRtcp = await bind(p + 1);
            this.udpRtp = rtp;
            return;
          } catch {
            /* taken */
          }
        }
        rtp.close();
      }
      this.udpRtp = await bind(0);
      this.udpRtcp = await bind(0);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'no UDP transport');
    }
  }

  /** Offline/drop: close this camera's viewers now (reset = RST instead of FIN). */
  killCamera(id: string, reset: boolean): void {
    for (const c of [...this.connections]) {
      for (const s of c.sessions.values()) {
        if (s.camera.id === id) {
          c.close(reset);
          break;
        }
      }
    }
  }

  sessionCount(): number {
    let n = 0;
    for (const c of this.connections) n += c.sessions.size;
    return n;
  }

  async stop(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    for (const c of [...this.connections]) c.close(false);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.udpRtp?.close();
    this.udpRtcp?.close();
  }
}
