/**
 * Receives one INVITEd stream: RTP over UDP, TCP passive (we listen, the device connects) or TCP active (we connect),
 * checks the SSRC and the sender's address, tracks sequence numbers, and demuxes the PS payload to access units.
 * Packets with another SSRC or from an unexpected address are dropped and counted; a TCP connection from an
 * unexpected address is closed. Memory is bounded by the demuxer's limits.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Rfc4571Deframer, SeqTracker } from './rtp.js';
import { parseRtp } from '../media/rtp/rtp-packet.js';
import { PsDemuxer, type AccessUnit } from './ps.js';
import type { MediaTransport } from './sdp.js';

export interface ReceiverStats {
  packets: number;
  bytes: number;
  droppedSsrc: number;
  droppedAddress: number;
  droppedMalformed: number;
  lostPackets: number;
  lastPacketAt: number;
}

export interface RtpPsReceiverOptions {
  transport: MediaTransport;
  bindHost: string;
  /** UDP/TCP port range to take from; [0, 0] = ephemeral */
  ports?: [number, number];
  ssrc: number;
  onUnit: (au: AccessUnit) => void;
  onDrop?: (reason: 'ssrc' | 'address' | 'malformed') => void;
  log: { warn(obj: object, msg?: string): void };
}

let nextPort = 0;

export class RtpPsReceiver {
  readonly stats: ReceiverStats = { packets: 0, bytes: 0, droppedSsrc: 0, droppedAddress: 0, droppedMalformed: 0, lostPackets: 0, lastPacketAt: 0 };
  private udp?: UdpSocket;
  private server?: Server;
  private sock?: Socket;
  private expectedAddress?: string;
  private readonly seq = new SeqTracker();
  private lastTs?: number;
  private readonly demux: PsDemuxer;
  private closed = false;
  private warned = new Set<string>();
  port = 0;

  private constructor(private readonly o: RtpPsReceiverOptions) {
    this.demux = new PsDemuxer((au) => o.onUnit(au));
  }

  get demuxStats() {
    return this.demux.stats;
  }

  static async open(o: RtpPsReceiverOptions): Promise<RtpPsReceiver> {
    const r = new RtpPsReceiver(o);
    if (o.transport === 'tcp-active') return r; // we connect once the device answers with its port
    const [lo, hi] = o.ports ?? [0, 0];
    const span = hi >= lo && lo > 0 ? hi - lo + 1 : 0;
    for (let attempt = 0; attempt < Math.max(1, Math.min(span, 64)); attempt++) {
      const port = span ? lo + (nextPort++ % span) : 0;
      try {
        if (o.transport === 'udp') await r.bindUdp(port);
        else await r.listenTcp(port);
        return r;
      } catch (err) {
        if (!span || attempt === Math.min(span, 64) - 1) throw err;
      }
    }
    throw new Error('no free media port');
  }

  private bindUdp(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(port, this.o.bindHost, () => {
        s.off('error', reject);
        s.on('error', () => {});
        s.on('message', (b, rinfo) => this.onPacket(b, rinfo.address));
        this.udp = s;
        this.port = s.address().port;
        resolve();
      });
    });
  }

  private listenTcp(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((s) => {
        if (this.sock || !this.addressOk(s.remoteAddress ?? '')) {
          if (!this.sock) this.drop('address', s.remoteAddress ?? '?');
          s.destroy();
          return;
        }
        this.attach(s);
      });
      server.maxConnections = 2;
      server.once('error', reject);
      server.listen(port, this.o.bindHost, () => {
        server.off('error', reject);
        this.server = server;
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  /** After the device's answer: only this address may send (the device's media address). */
  expectFrom(address: string): void {
    this.expectedAddress = address.replace(/^::ffff:/, '');
  }

  /** TCP active: connect to the device's media port. */
  connectTo(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        this.attach(s);
        resolve();
      });
    });
  }

  private attach(s: Socket): void {
    this.sock = s;
    const deframer = new Rfc4571Deframer();
    const from = s.remoteAddress ?? '';
    s.on('data', (chunk: Buffer) => deframer.push(chunk, (p) => this.onPacket(p, from)));
    s.on('error', () => {});
  }

  private addressOk(addr: string): boolean {
    return !this.expectedAddress || addr.replace(/^::ffff:/, '') === this.expectedAddress;
  }

  private drop(reason: 'ssrc' | 'address' | 'malformed', detail: string): void {
    if (reason === 'ssrc') this.stats.droppedSsrc++;
    else if (reason === 'address') this.stats.droppedAddress++;
    else this.stats.droppedMalformed++;
    this.o.onDrop?.(reason);
    // one log line per reason and source, not one per packet
    const key = `${reason}:${detail}`;
    if (!this.warned.has(key) && this.warned.size < 32) {
      this.warned.add(key);
      this.o.log.warn({ reason, from: detail, port: this.port }, `GB28181 media: dropped RTP (${reason === 'ssrc' ? 'SSRC does not match the INVITE' : reason === 'address' ? 'unexpected sender address' : 'not RTP'})`);
    }
  }

  private onPacket(b: Buffer, from: string): void {
    if (this.closed) return;
    if (!this.addressOk(from)) return this.drop('address', from);
    const p = parseRtp(b);
    if (!p) return this.drop('malformed', from);
    if (p.ssrc !== this.o.ssrc >>> 0) return this.drop('ssrc', `${from}/${p.ssrc}`);
    const s = this.seq.accept(p.sequence);
    if (s === 'old') return;
    if (s === 'gap') {
      this.stats.lostPackets = this.seq.lostPackets;
      this.demux.lost();
    }
    this.stats.packets++;
    this.stats.bytes += b.length;
    this.stats.lastPacketAt = Date.now();
    if (this.lastTs !== undefined && p.timestamp !== this.lastTs) this.demux.endOfFrame();
    this.lastTs = p.timestamp;
    this.demux.push(p.payload);
    if (p.marker) this.demux.endOfFrame();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.udp?.close();
    this.sock?.destroy();
    this.server?.close();
  }
}
