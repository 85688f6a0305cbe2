/**
 * One HTTP server for every camera's ONVIF services (/onvif/<id>/device_service, /onvif/<id>/media_service,
 * /onvif/<id>/ptz_service: on a fixed camera PTZ requests there get ActionNotSupported) and snapshots
 * (/snapshot/<id>.jpg, HTTP Digest or Basic auth like a real camera's snapshot URI).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { SimCamera } from './camera.js';
import { handleSoap, soapFault, type OnvifCameraView } from './onvif-service.js';
import type { HttpAuth } from './rtsp-auth.js';

const MAX_BODY = 256 * 1024;

export interface HttpRegistry {
  camera(id: string): SimCamera | undefined;
  onvifView(cam: SimCamera): OnvifCameraView;
}

export class SimHttpServer {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly log: Logger;
  port = 0;

  constructor(
    private readonly registry: HttpRegistry,
    private readonly auth: HttpAuth,
    log: Logger,
  ) {
    this.log = log.child({ module: 'sim-http' });
  }

  async start(host: string, port: number): Promise<number> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : port;
    return this.port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const onvif = /^\/onvif\/([^/]+)\/(device_service|media_service|ptz_service)$/.exec(path);
    const snap = /^\/snapshot\/([^/]+)\.jpg$/.exec(path);
    const id = onvif?.[1] ?? snap?.[1];
    const cam = id ? this.registry.camera(decodeURIComponent(id)) : undefined;
    if (!cam) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (cam.faults.offline) {
      // Same choice as RTSP on the shared port: reset before any reply.
      req.socket.resetAndDestroy();
      return;
    }
    if (cam.faults.stall) return; // Never answered; the client's timeout decides.
    if (snap) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
        return;
      }
      if (cam.faults.authRefuse || !this.auth.check(req.method, req.headers.authorization, cam.ident)) {
        res.writeHead(401, { 'www-authenticate': this.auth.challenges(), 'content-type': 'text/plain' }).end('unauthorized\n');
        return;
      }
      const jpeg = cam.snapshot();
      if (!jpeg) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : jpeg);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      let status: number;
      let body: string;
      try {
        ({ status, body } = handleSoap(Buffer.concat(chunks).toString('utf8'), this.registry.onvifView(cam)));
      } catch (e) {
        this.log.warn({ err: (e as Error).message, camera: cam.id }, 'onvif handler failed');
        status = 500;
        body = soapFault('Receiver', 'ter:Action', 'internal error');
      }
      res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
