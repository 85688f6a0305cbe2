import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/**
 * A real local webhook receiver (node:http on port 0). `plan(n)` gives the status to answer the n-th request
 * (0-based); the default fails the first `failFirst` requests with 503, then answers 200.
 */
export async function startReceiver(opts: { failFirst?: number; plan?: (n: number, body: string) => number } = {}) {
  const received: Received[] = [];
  let n = 0;
  const plan = opts.plan ?? ((i: number) => (i < (opts.failFirst ?? 0) ? 503 : 200));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = plan(n++, body);
      received.push({ headers: req.headers, body, status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'try later');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Polls until fn returns a truthy value (bounded by attempts, not by wall-clock assertions). */
export async function until<T>(fn: () => Promise<T> | T, what: string, tries = 400, everyMs = 25): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
