/**
 * A minimal but real RTSP/RTP-over-TCP client (DESCRIBE with Digest auth, SETUP interleaved, PLAY, RTP
 * demux): used by the bench to pull hundreds of streams cheaply, and by tests to check what ffmpeg
 * does not show (RTP-Info against the first packet, in-band SPS, timestamp steps).
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** A minimal but real RTSP/RTP-over-TCP client: enough to pull a stream the way ingest's ffmpeg does. */
export class RtspReader {
  bytes = 0;
  frames = 0;
  regressions = 0;
  /** From the PLAY reply's RTP-Info. */
  rtpInfo?: { seq: number; rtptime: number };
  /** The first RTP packet: seq, timestamp and NAL type of its payload. */
  first?: { seq: number; ts: number; nalType: number };
  /** Timestamp step between consecutive frames (marker packets), in order. */
  readonly steps: number[] = [];
  private lastTs = -1;
  private cseq = 0;
  private sock?: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private pending?: (r: { status: number; headers: Record<string, string>; body: string }) => void;
  private auth?: string;

  constructor(
    private readonly url: string,
    private readonly user: string,
    private readonly pass: string,
  ) {}

  async start(): Promise<void> {
    const u = new URL(this.url);
    this.sock = connect(Number(u.port), u.hostname);
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('error', () => {});
    await new Promise<void>((r) => this.sock!.once('connect', () => r()));
    let r = await this.request('DESCRIBE', this.url, { Accept: 'application/sdp' });
    if (r.status === 401) {
      const ch = /Digest realm="([^"]+)", nonce="([^"]+)"/.exec(r.headers['www-authenticate'] ?? '');
      if (!ch) throw new Error('no digest challenge');
      const [, realm, nonce] = ch;
      this.auth = `${realm}\n${nonce}`;
      r = await this.request('DESCRIBE', this.url, { Accept: 'application/sdp' });
    }
    if (r.status !== 200) throw new Error(`DESCRIBE ${r.status}`);
    const track = `${this.url}/trackID=0`;
    r = await this.request('SETUP', track, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    if (r.status !== 200) throw new Error(`SETUP ${r.status}`);
    const session = (r.headers['session'] ?? '').split(';')[0];
    r = await this.request('PLAY', this.url, { Session: session, Range: 'npt=0.000-' });
    if (r.status !== 200) throw new Error(`PLAY ${r.status}`);
    const info = /seq=(\d+);rtptime=(\d+)/.exec(r.headers['rtp-info'] ?? '');
    if (info) this.rtpInfo = { seq: Number(info[1]), rtptime: Number(info[2]) };
  }

  private request(method: string, uri: string, headers: Record<string, string>) {
    let h = `${method} ${uri} RTSP/1.0\r\nCSeq: ${++this.cseq}\r\n`;
    if (this.auth) {
      const [realm, nonce] = this.auth.split('\n');
      const resp = md5(`${md5(`${this.user}:${realm}:${this.pass}`)}:${nonce}:${md5(`${method}:${uri}`)}`);
      h += `Authorization: Digest username="${this.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${resp}"\r\n`;
    }
    for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
    this.sock!.write(`${h}\r\n`);
    return new Promise<{ status: number; headers: Record<string, string>; body: string }>((r) => (this.pending = r));
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.buf.length === 0) return;
      if (this.buf[0] === 0x24) {
        if (this.buf.length < 4) return;
        const len = this.buf.readUInt16BE(2);
        if (this.buf.length < 4 + len) return;
        if (this.buf[1] === 0 && len >= 12) {
          this.bytes += len;
          this.first ??= { seq: this.buf.readUInt16BE(6), ts: this.buf.readUInt32BE(8), nalType: this.buf[16] & 0x1f };
          if (this.buf[5] & 0x80) {
            this.frames++;
            const ts = this.buf.readUInt32BE(8);
            if (this.lastTs >= 0) {
              const step = (ts - this.lastTs) | 0;
              if (step <= 0) this.regressions++;
              if (this.steps.length < 10_000) this.steps.push(step);
            }
            this.lastTs = ts;
          }
        }
        this.buf = this.buf.subarray(4 + len);
        continue;
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.buf.subarray(0, end).toString().split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i <= 0) continue;
        const k = l.slice(0, i).toLowerCase();
        // Repeated headers (one WWW-Authenticate per scheme) are kept, newline-separated.
        headers[k] = headers[k] ? `${headers[k]}\n${l.slice(i + 1).trim()}` : l.slice(i + 1).trim();
      }
      const clen = Number(headers['content-length'] ?? 0);
      if (this.buf.length < end + 4 + clen) return;
      const body = this.buf.subarray(end + 4, end + 4 + clen).toString();
      this.buf = this.buf.subarray(end + 4 + clen);
      const p = this.pending;
      this.pending = undefined;
      p?.({ status: Number(lines[0].split(' ')[1]), headers, body });
    }
  }

  stop(): void {
    this.sock?.destroy();
  }
}

