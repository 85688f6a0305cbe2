/**
 * One HTTP server for every camera's ONVIF services (/onvif/<id>/device_service, /onvif/<id>/media_service,
 * /onvif/<id>/ptz_service: on a fixed camera PTZ requests there get ActionNotSupported; /onvif/<id>/event_service
 * and its pull points /onvif/<id>/pullpoint/<n>) and snapshots (/snapshot/<id>.jpg, HTTP Digest or Basic auth
 * like a real camera's snapshot URI).
 *
 * PullMessages is a long poll (up to minutes): those requests are tracked so that stop() can let the replies
 * the event state just released (sim.stop() answers every pending poll first) reach the wire before the
 * sockets are destroyed, without ever waiting for a poll's Timeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { SimCamera } from './camera.js';
import { handleEventSoap, handleSoap, soapFault, type EventReply, type OnvifCameraView } from './onvif-service.js';
import type { HttpAuth } from './rtsp-auth.js';

const MAX_BODY = 256 * 1024;
/** stop() waits at most this for replies to polls that were just answered (they are written at once; this is a bound, not a delay). */
const FLUSH_MS = 1000;

export interface HttpRegistry {
  camera(id: string): SimCamera | undefined;
  onvifView(cam: SimCamera): OnvifCameraView;
}

export class SimHttpServer {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** Event requests in progress (mostly pending PullMessages), settled once their reply is written or dropped. */
  private readonly inFlight = new Set<Promise<void>>();
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
    const onvif = /^\/onvif\/([^/]+)\/(device_service|media_service|ptz_service|event_service|pullpoint\/(\d{1,9}))$/.exec(path);
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
      if (onvif?.[2] === 'event_service' || onvif?.[3] !== undefined) {
        this.track(this.answerEvent(req, res, Buffer.concat(chunks).toString('utf8'), cam, onvif[3] === undefined ? undefined : Number(onvif[3])));
        return;
      }
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

  private async answerEvent(req: IncomingMessage, res: ServerResponse, xml: string, cam: SimCamera, pullPoint: number | undefined): Promise<void> {
    // A client that hangs up ends its long poll, so a later alarm is not "delivered" into a dead connection.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    let reply: EventReply;
    try {
      reply = await handleEventSoap(xml, this.registry.onvifView(cam), pullPoint, gone.signal);
    } catch (e) {
      this.log.warn({ err: (e as Error).message, camera: cam.id }, 'onvif event handler failed');
      reply = { status: 500, body: soapFault('Receiver', 'ter:Action', 'internal error') };
    }
    if ('drop' in reply) {
      if (reply.drop === 'reset') req.socket.resetAndDestroy(); // offline fault, like the camera's other connections
      return; // 'hang' (stall fault) leaves the request unanswered; 'aborted' has nobody to answer
    }
    if (res.destroyed) return;
    res.writeHead(reply.status, { 'content-type': 'application/soap+xml; charset=utf-8', 'content-length': Buffer.byteLength(reply.body) });
    await new Promise<void>((resolve) => {
      res.once('close', resolve);
      res.end(reply.body, resolve);
    });
  }

  private track(p: Promise<void>): void {
    const q = p.catch((e: Error) => this.log.warn({ err: e.message }, 'onvif event reply failed'));
    this.inFlight.add(q);
    void q.finally(() => this.inFlight.delete(q));
  }

  async stop(): Promise<void> {
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise<void>((r) => (timer = setTimeout(r, FLUSH_MS)))]);
      clearTimeout(timer);
    }
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
