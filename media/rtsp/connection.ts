/**
 * One RTSP control connection (TCP or TLS): requests out, replies and interleaved binary frames in
 * (RFC 2326 §10.12: `$` channel length payload). Everything read is bounded — a reply header larger than
 * MAX_HEADER_BYTES, a body larger than MAX_BODY_BYTES, too many header lines, or bytes that are neither a reply nor
 * an interleaved frame end the connection with a clear error, never an unbounded buffer.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { cameraConnectOptions, isCameraNetworkRefusal } from '../../lib/camera-network/connect.js';

export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_BODY_BYTES = 256 * 1024;
const MAX_HEADER_LINES = 128;
/** stray bytes tolerated between interleaved frames while playing (some firmwares pad) before giving up */
const MAX_GARBAGE_BYTES = 64 * 1024;

export type RtspErrorKind = 'auth' | 'network' | 'fatal' | 'transient' | 'unsupported';

export class RtspError extends Error {
  constructor(
    readonly kind: RtspErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RtspError';
  }
}

export interface RtspResponse {
  status: number;
  reason: string;
  /** lower-case names; repeated headers keep every value */
  headers: Map<string, string[]>;
  body: Buffer;
}

export function header(r: RtspResponse, name: string): string | undefined {
  return r.headers.get(name.toLowerCase())?.[0];
}

function networkError(err: NodeJS.ErrnoException): RtspError {
  // outside CAMERA_NETWORKS: nothing was sent, and retrying will not change the policy
  if (isCameraNetworkRefusal(err)) return new RtspError('fatal', err.message);
  switch (err.code) {
    case 'ECONNREFUSED':
      return new RtspError('network', 'connection refused (camera or RTSP service down)');
    case 'ETIMEDOUT':
      return new RtspError('network', 'connection timed out');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new RtspError('network', 'camera unreachable (no route to host)');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RtspError('network', 'camera host name does not resolve');
    case 'ECONNRESET':
    case 'EPIPE':
      return new RtspError('transient', 'the camera closed the connection');
    default:
      if (/certificate|SSL|TLS/i.test(err.message)) return new RtspError('network', `TLS handshake failed: ${err.message}`);
      return new RtspError('transient', `connection error: ${err.code ?? err.message}`);
  }
}

interface Pending {
  cseq: number;
  resolve: (r: RtspResponse) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  tls: boolean;
  /** verify the camera's TLS certificate (cameras mostly have self-signed ones) */
  tlsVerify: boolean;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  userAgent: string;
  onInterleaved: (channel: number, payload: Buffer) => void;
  onClose: (err: RtspError) => void;
  /** every chunk received (watchdogs) */
  onData?: () => void;
}

export class RtspConnection {
  private socket?: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private cseq = 0;
  private pending = new Map<number, Pending>();
  private closed = false;
  private garbage = 0;
  /** set once PLAY succeeded: stray bytes are skipped (bounded) instead of ending the session */
  playing = false;
  bytesIn = 0;

  constructor(private readonly o: ConnectionOptions) {}

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new RtspError('network', 'connection timed out'));
      }, this.o.connectTimeoutMs);
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(networkError(err));
      };
      // CAMERA_NETWORKS: a literal address is checked now, a name at the socket's lookup (the connected address is the
      // checked one), so redirects and re-resolved names cannot reach outside the camera networks either
      let target: ReturnType<typeof cameraConnectOptions>;
      try {
        target = cameraConnectOptions(this.o.host, this.o.port);
      } catch (err) {
        clearTimeout(timer);
        reject(networkError(err as NodeJS.ErrnoException));
        return;
      }
      const sock: Socket = this.o.tls
        ? tlsConnect({ ...target, servername: /^[\d.]+$|:/.test(this.o.host) ? undefined : this.o.host, rejectUnauthorized: this.o.tlsVerify }, () => done())
        : tcpConnect(target, () => done());
      const done = () => {
        clearTimeout(timer);
        sock.off('error', onError);
        sock.setNoDelay(true);
        sock.on('error', (err) => this.fail(networkError(err)));
        sock.on('close', () => this.fail(new RtspError('transient', this.playing ? 'the camera closed the connection' : 'the camera closed the connection before the stream started')));
        sock.on('data', (c: Buffer) => this.onData(c));
        this.socket = sock;
        resolve();
      };
      sock.once('error', onError);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Send a request; resolves with the reply (any status), rejects on timeout or a closed connection. */
  request(method: string, uri: string, headers: Record<string, string | undefined>, timeoutMs = this.o.requestTimeoutMs): Promise<RtspResponse> {
    if (this.closed || !this.socket) return Promise.reject(new RtspError('transient', 'connection closed'));
    const cseq = ++this.cseq;
    let text = `${method} ${uri} RTSP/1.0\r\nCSeq: ${cseq}\r\nUser-Agent: ${this.o.userAgent}\r\n`;
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) text += `${k}: ${v.replace(/[\r\n]/g, '')}\r\n`;
    text += '\r\n';
    return new Promise<RtspResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cseq);
        reject(new RtspError('network', `no reply to ${method} within ${Math.round(timeoutMs / 100) / 10} s`));
      }, timeoutMs);
      this.pending.set(cseq, { cseq, resolve, reject, timer });
      this.socket!.write(text);
    });
  }

  /** Send an interleaved frame (RTCP receiver reports). */
  sendInterleaved(channel: number, payload: Buffer): void {
    if (this.closed || !this.socket || payload.length > 0xffff) return;
    const h = Buffer.from([0x24, channel, payload.length >> 8, payload.length & 0xff]);
    this.socket.write(Buffer.concat([h, payload]));
  }

  close(reason: RtspError = new RtspError('transient', 'connection closed')): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.pending.clear();
    this.socket?.destroy();
  }

  private fail(err: RtspError): void {
    if (this.closed) return;
    this.close(err);
    this.o.onClose(err);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesIn += chunk.length;
    this.o.onData?.();
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      this.parse();
    } catch (err) {
      this.fail(err instanceof RtspError ? err : new RtspError('transient', (err as Error).message));
    }
  }

  private parse(): void {
    let off = 0;
    const b = this.buf;
    while (off < b.length && !this.closed) {
      if (b[off] === 0x24) {
        if (b.length - off < 4) break;
        const len = b.readUInt16BE(off + 2);
        if (b.length - off < 4 + len) break;
        const ch = b[off + 1];
        const payload = b.subarray(off + 4, off + 4 + len);
        off += 4 + len;
        this.garbage = 0;
        this.o.onInterleaved(ch, payload);
        continue;
      }
      if (b[off] === 0x52 /* R */ || (b[off] >= 0x41 && b[off] <= 0x5a)) {
        // a reply (RTSP/1.0 …) or a request from the server (ANNOUNCE, GET_PARAMETER, …)
        const probe = b.toString('latin1', off, Math.min(b.length, off + 5));
        const isReply = 'RTSP/'.startsWith(probe) || probe === 'RTSP/';
        const headEnd = b.indexOf('\r\n\r\n', off, 'latin1');
        if (headEnd < 0) {
          if (b.length - off > MAX_HEADER_BYTES) throw new RtspError('transient', `reply header larger than ${MAX_HEADER_BYTES} bytes`);
          if (isReply || /^[A-Z_]+$/.test(probe)) break; // wait for the rest of the header
        } else {
          if (headEnd - off > MAX_HEADER_BYTES) throw new RtspError('transient', `reply header larger than ${MAX_HEADER_BYTES} bytes`);
          const head = b.toString('latin1', off, headEnd);
          const msg = this.parseHead(head);
          if (msg) {
            const clen = Number(msg.headers.get('content-length')?.[0] ?? '0');
            if (!Number.isFinite(clen) || clen < 0) throw new RtspError('transient', 'bad Content-Length in the reply');
            if (clen > MAX_BODY_BYTES) throw new RtspError('transient', `reply body larger than ${MAX_BODY_BYTES} bytes`);
            const bodyStart = headEnd + 4;
            if (b.length - bodyStart < clen) break; // the body is still coming (bounded by MAX_BODY_BYTES)
            const body = Buffer.from(b.subarray(bodyStart, bodyStart + clen));
            off = bodyStart + clen;
            this.garbage = 0;
            this.onMessage(msg, body);
            continue;
          }
        }
      }
      // neither an interleaved frame nor a message
      if (!this.playing) throw new RtspError('transient', 'unreadable reply from the camera (not RTSP)');
      const next = b.indexOf(0x24, off + 1);
      const skip = (next < 0 ? b.length : next) - off;
      this.garbage += skip;
      if (this.garbage > MAX_GARBAGE_BYTES) throw new RtspError('transient', 'unreadable data from the camera (not RTSP or RTP)');
      off += skip;
    }
    this.buf = off >= b.length ? Buffer.alloc(0) : off === 0 ? b : Buffer.from(b.subarray(off));
  }

  private parseHead(head: string): { kind: 'reply'; status: number; reason: string; headers: Map<string, string[]> } | { kind: 'request'; method: string; headers: Map<string, string[]> } | undefined {
    const lines = head.split('\r\n');
    if (lines.length > MAX_HEADER_LINES) throw new RtspError('transient', 'too many header lines in the reply');
    const first = lines[0];
    const headers = new Map<string, string[]>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const c = line.indexOf(':');
      if (c <= 0) continue;
      const k = line.slice(0, c).trim().toLowerCase();
      const v = line.slice(c + 1).trim();
      const list = headers.get(k);
      if (list) list.push(v);
      else headers.set(k, [v]);
    }
    const reply = /^RTSP\/\d\.\d\s+(\d{3})\s*(.*)$/.exec(first);
    if (reply) return { kind: 'reply', status: Number(reply[1]), reason: reply[2], headers };
    const req = /^([A-Z_]+)\s+\S+\s+RTSP\/\d\.\d$/.exec(first);
    if (req) return { kind: 'request', method: req[1], headers };
    return undefined;
  }

  private onMessage(msg: NonNullable<ReturnType<RtspConnection['parseHead']>>, body: Buffer): void {
    const cseqHeader = msg.headers.get('cseq')?.[0];
    if (msg.kind === 'request') {
      // servers may ping (GET_PARAMETER/OPTIONS) or announce; answer politely, ignore the rest
      const ok = msg.method === 'GET_PARAMETER' || msg.method === 'OPTIONS' || msg.method === 'SET_PARAMETER';
      this.socket?.write(`RTSP/1.0 ${ok ? '200 OK' : '501 Not Implemented'}\r\nCSeq: ${cseqHeader ?? '0'}\r\n\r\n`);
      return;
    }
    const cseq = Number(cseqHeader);
    // a reply without (or with a wrong) CSeq answers the oldest request (some firmwares drop the header)
    const p = this.pending.get(cseq) ?? [...this.pending.values()][0];
    if (!p) return;
    this.pending.delete(p.cseq);
    clearTimeout(p.timer);
    p.resolve({ status: msg.status, reason: msg.reason, headers: msg.headers, body });
  }
}
