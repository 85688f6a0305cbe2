/**
 * SIP over UDP and TCP on one port (RFC 3261 §18): datagrams are one message each; TCP streams are framed by
 * Content-Length (SipStreamFramer). Outgoing messages to a TCP peer reuse its connection (GB devices register over
 * the connection they keep open), or open one (client side: the simulator, StreetEye registering upward).
 *
 * Hostile peers: unparseable input is dropped (UDP) or closes the connection (TCP) with a log line and a counter;
 * each source address has a token bucket; TCP connections are capped and time out when idle.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { SipParseError, SipStreamFramer, parseMessage, serialize, type SipMessage } from './message.js';

export type SipTransportKind = 'udp' | 'tcp';

export interface SipPeer {
  transport: SipTransportKind;
  address: string;
  port: number;
}

export const peerKey = (p: SipPeer) => `${p.transport}:${p.address}:${p.port}`;

export interface TransportLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SipTransportOptions {
  host?: string;
  /** 0 = ephemeral (UDP and TCP get the same port) */
  port?: number;
  udp?: boolean;
  tcp?: boolean;
  log: TransportLog;
  onMessage: (msg: SipMessage, peer: SipPeer) => void;
  /** counters for dropped input (metrics) */
  onDrop?: (reason: 'malformed' | 'rate' | 'connections' | 'oversize', peer: SipPeer) => void;
  /** messages per second per source address (burst = 2×); 0 = no limit */
  ratePerAddress?: number;
  maxTcpConnections?: number;
  /** a TCP connection with no traffic this long is closed */
  tcpIdleMs?: number;
}

class Bucket {
  tokens: number;
  at = Date.now();
  constructor(private readonly rate: number) {
    this.tokens = rate * 2;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.rate * 2, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class SipTransport {
  private udp?: UdpSocket;
  private tcp?: Server;
  private readonly conns = new Map<string, Socket>();
  private readonly buckets = new Map<string, Bucket>();
  private bucketSweep?: NodeJS.Timeout;
  private _port = 0;
  private closed = false;

  constructor(private readonly o: SipTransportOptions) {}

  get port(): number {
    return this._port;
  }
  get host(): string {
    return this.o.host ?? '0.0.0.0';
  }
  get tcpConnections(): number {
    return this.conns.size;
  }

  async start(): Promise<void> {
    const host = this.o.host ?? '0.0.0.0';
    const wantUdp = this.o.udp ?? true;
    const wantTcp = this.o.tcp ?? true;
    for (let attempt = 0; ; attempt++) {
      try {
        let port = this.o.port ?? 0;
        if (wantUdp) port = await this.bindUdp(host, port);
        if (wantTcp) port = await this.listenTcp(host, port);
        this._port = port;
        break;
      } catch (err) {
        // ephemeral port free for UDP but taken for TCP: try another one
        await this.closeSockets();
        if ((this.o.port ?? 0) !== 0 || attempt >= 5) throw err;
      }
    }
    this.bucketSweep = setInterval(() => {
      const cutoff = Date.now() - 10_000;
      for (const [k, b] of this.buckets) if (b.at < cutoff) this.buckets.delete(k);
    }, 10_000);
    this.bucketSweep.unref();
  }

  private bindUdp(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const sock = createSocket({ type: 'udp4', reuseAddr: false });
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        // a wave of keepalives during an event-loop stall (a catalog import, GC) waits in the kernel instead of being
        // dropped: 4 MB ≈ 8,000 keepalives (the kernel caps it at net.core.rmem_max)
        try { sock.setRecvBufferSize(4 * 1024 * 1024); } catch { /* capped or refused: the default stays */ }
        sock.on('error', (err) => this.o.log.warn({ err: err.message }, 'SIP UDP socket error'));
        sock.on('message', (buf, rinfo) => this.onDatagram(buf, { transport: 'udp', address: rinfo.address, port: rinfo.port }));
        this.udp = sock;
        resolve(sock.address().port);
      });
    });
  }

  private listenTcp(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((s) => this.onTcpConnection(s));
      server.maxConnections = this.o.maxTcpConnections ?? 20_000;
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.o.log.warn({ err: err.message }, 'SIP TCP server error'));
        server.on('drop', (d) => this.o.onDrop?.('connections', { transport: 'tcp', address: d?.remoteAddress ?? '?', port: d?.remotePort ?? 0 }));
        this.tcp = server;
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  private admit(peer: SipPeer): boolean {
    const rate = this.o.ratePerAddress ?? 0;
    if (!rate) return true;
    let b = this.buckets.get(peer.address);
    if (!b) {
      b = new Bucket(rate);
      this.buckets.set(peer.address, b);
    }
    if (b.take()) return true;
    this.o.onDrop?.('rate', peer);
    return false;
  }

  private onDatagram(buf: Buffer, peer: SipPeer): void {
    if (buf.length <= 4 && /^[\r\n]*$/.test(buf.toString('latin1'))) return; // keep-alive ping
    if (!this.admit(peer)) return;
    let msg: SipMessage;
    try {
      msg = parseMessage(buf);
    } catch (err) {
      this.o.onDrop?.(err instanceof SipParseError && /too large/.test(err.message) ? 'oversize' : 'malformed', peer);
      this.o.log.warn({ peer: peerKey(peer), err: (err as Error).message, bytes: buf.length }, 'dropped a malformed SIP datagram');
      return;
    }
    this.deliver(msg, peer);
  }

  private deliver(msg: SipMessage, peer: SipPeer): void {
    try {
      this.o.onMessage(msg, peer);
    } catch (err) {
      this.o.log.warn({ peer: peerKey(peer), err: (err as Error).message }, 'SIP message handler failed');
    }
  }

  private onTcpConnection(s: Socket, known?: SipPeer): void {
    const peer: SipPeer = known ?? { transport: 'tcp', address: s.remoteAddress ?? '?', port: s.remotePort ?? 0 };
    const key = peerKey(peer);
    this.conns.get(key)?.destroy();
    this.conns.set(key, s);
    s.setNoDelay(true);
    s.setTimeout(this.o.tcpIdleMs ?? 10 * 60_000, () => s.destroy());
    const framer = new SipStreamFramer();
    s.on('data', (chunk: Buffer) => {
      let msgs: SipMessage[];
      try {
        msgs = framer.push(chunk);
      } catch (err) {
        this.o.onDrop?.('malformed', peer);
        this.o.log.warn({ peer: key, err: (err as Error).message }, 'closing a SIP TCP connection: unframeable input');
        s.destroy();
        return;
      }
      for (const m of msgs) if (this.admit(peer)) this.deliver(m, peer);
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (this.conns.get(key) === s) this.conns.delete(key);
    });
  }

  /** Send a message; TCP peers get their open connection, or a new one. */
  async send(peer: SipPeer, msg: SipMessage): Promise<void> {
    if (this.closed) throw new Error('SIP transport closed');
    const data = serialize(msg);
    if (peer.transport === 'udp') {
      if (!this.udp) throw new Error('no UDP socket');
      await new Promise<void>((resolve, reject) => this.udp!.send(data, peer.port, peer.address, (err) => (err ? reject(err) : resolve())));
      return;
    }
    let s = this.conns.get(peerKey(peer));
    if (!s || s.destroyed) s = await this.connectTcp(peer);
    s.write(data);
  }

  private connectTcp(peer: SipPeer): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: peer.address, port: peer.port });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        this.onTcpConnection(s, peer);
        resolve(s);
      });
    });
  }

  /** Close one peer's TCP connection (a device that unregistered). */
  drop(peer: SipPeer): void {
    if (peer.transport === 'tcp') this.conns.get(peerKey(peer))?.destroy();
  }

  private async closeSockets(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    for (const s of this.conns.values()) s.destroy();
    this.conns.clear();
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.bucketSweep);
    await this.closeSockets();
  }
}
