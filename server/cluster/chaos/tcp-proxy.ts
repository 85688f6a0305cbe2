/**
 * A TCP relay between one node and PostgreSQL that the fault suite controls: cut() makes the link a black hole
 * (connections stay open, nothing passes either way: what a network partition looks like to the node, whose queries
 * then hang rather than fail), heal() lets traffic through again (what was held back flows on). Stands in for a
 * network namespace, which needs privileges this machine's tests do not have.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private server?: Server;
  private readonly links = new Set<{ a: Socket; b: Socket; held: Array<[Socket, Buffer]> }>();
  private isCut = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((a) => {
      const b = connect(this.target.port, this.target.host);
      const link = { a, b, held: [] as Array<[Socket, Buffer]> };
      this.links.add(link);
      const close = () => { a.destroy(); b.destroy(); this.links.delete(link); };
      for (const s of [a, b]) { s.on('error', close); s.on('close', close); }
      // while cut, bytes are held here (the peers see silence, not a reset) and delivered in order on heal()
      a.on('data', (d: Buffer) => (this.isCut ? link.held.push([b, d]) : b.write(d)));
      b.on('data', (d: Buffer) => (this.isCut ? link.held.push([a, d]) : a.write(d)));
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.port = (this.server!.address() as { port: number }).port;
  }

  /** The URL of `url` rewritten to go through this relay. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  cut(): void {
    this.isCut = true;
  }

  heal(): void {
    this.isCut = false;
    for (const link of this.links) {
      for (const [to, d] of link.held) to.write(d);
      link.held = [];
    }
  }

  async stop(): Promise<void> {
    for (const { a, b } of this.links) { a.destroy(); b.destroy(); }
    this.links.clear();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }
}
