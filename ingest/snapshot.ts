/**
 * Snapshots: the running session's latest keyframe decoded to JPEG (one short ffmpeg on init + first part of
 * the newest segment), cached per stream for about a second; otherwise the camera's ONVIF snapshot URI fetched
 * with Basic or Digest auth.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { buildSnapshotArgs } from './ffmpeg-args.js';
import type { CameraSession } from './camera-session.js';
import type { Log } from './log.js';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { redactText } from './rtsp-url.js';
import { cameraAgent, isCameraNetworkRefusal } from '../lib/camera-network/connect.js';

/** GET from a camera through the CAMERA_NETWORKS agent (fetch cannot take one), as a fetch Response. */
function cameraGet(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(u, { method: 'GET', headers, agent: cameraAgent(secure), timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
      const status = res.statusCode ?? 502;
      const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      resolve(new Response(body, { status: status < 200 || status > 599 ? 502 : status, headers: h }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

export class SnapshotUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotUnavailableError';
  }
}

export interface SnapshotOptions {
  ffmpegPath: string;
  logger: Log;
  cacheMs?: number;
  timeoutMs?: number;
  /** concurrent decodes node-wide (each is a short ffmpeg) */
  maxConcurrent?: number;
  maxWidth?: number;
  /** largest JPEG accepted from a camera's snapshot URI */
  maxBytes?: number;
}

export class SnapshotService {
  private cache = new Map<string, { key: string; at: number; jpeg: Promise<Buffer> }>();
  private active = 0;
  private queue: Array<() => void> = [];
  private readonly log: Log;

  constructor(private readonly o: SnapshotOptions) {
    this.log = o.logger.child({ module: 'ingest', part: 'snapshot' });
  }

  /** JPEG of the latest keyframe of a running session; undefined when it has no media yet. */
  fromSession(session: CameraSession): Promise<Buffer> | undefined {
    const kf = session.muxer.latestKeyframe();
    if (!kf) return undefined;
    const id = `${session.cameraId}/${session.stream}`;
    const key = `${session.muxer.currentInitId}:${kf.part.msn}`;
    const hit = this.cache.get(id);
    const now = Date.now();
    if (hit && (hit.key === key || now - hit.at < (this.o.cacheMs ?? 1000))) return hit.jpeg;
    const jpeg = this.limited(() => this.decode(Buffer.concat([kf.init, kf.part.data])));
    this.cache.set(id, { key, at: now, jpeg });
    jpeg.catch(() => this.cache.get(id)?.jpeg === jpeg && this.cache.delete(id));
    if (this.cache.size > 4096) this.cache.delete(this.cache.keys().next().value!);
    return jpeg;
  }

  forget(cameraId: string): void {
    for (const k of this.cache.keys()) if (k.startsWith(`${cameraId}/`)) this.cache.delete(k);
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    const max = this.o.maxConcurrent ?? 2;
    if (this.active >= max) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }

  /** fMP4 (init + an independent fragment) → one JPEG. */
  decode(fmp4: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.ffmpegPath, buildSnapshotArgs({ maxWidth: this.o.maxWidth }), { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), this.o.timeoutMs ?? 5000);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
      child.stdin.on('error', () => {});
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const jpeg = Buffer.concat(out);
        if (code === 0 && jpeg.length > 2 && jpeg[0] === 0xff && jpeg[1] === 0xd8) resolve(jpeg);
        else reject(new SnapshotUnavailableError(`keyframe decode failed (${code}): ${err.trim().split('\n').pop() ?? ''}`));
      });
      child.stdin.end(fmp4);
    });
  }

  /** GET a camera's snapshot URI (http/https only) with Basic or Digest auth. */
  async fromUri(uri: string, creds: { username?: string | null; password?: string | null } = {}): Promise<Buffer> {
    let u: URL;
    try {
      u = new URL(uri);
    } catch {
      throw new SnapshotUnavailableError('snapshot URI is not a URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SnapshotUnavailableError('snapshot URI must be http(s)');
    const user = creds.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
    const pass = creds.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
    u.username = '';
    u.password = '';
    const url = u.toString();
    const timeout = this.o.timeoutMs ?? 5000;
    const get = (authorization?: string) =>
      cameraGet(url, authorization ? { authorization } : {}, timeout); // redirects are not followed
    try {
      let res = await get(user ? basic(user, pass ?? '') : undefined);
      if (res.status === 401 && user) {
        const challenge = res.headers.get('www-authenticate') ?? '';
        await res.body?.cancel();
        if (/^\s*digest\s/i.test(challenge)) res = await get(digest(challenge, 'GET', u.pathname + u.search, user, pass ?? ''));
      }
      if (res.status === 401) throw new SnapshotUnavailableError('the camera refused the snapshot credentials (401)');
      if (!res.ok) throw new SnapshotUnavailableError(`camera snapshot answered HTTP ${res.status}`);
      const buf = await readCapped(res, this.o.maxBytes ?? 10 * 1024 * 1024);
      if (!(buf[0] === 0xff && buf[1] === 0xd8)) throw new SnapshotUnavailableError('camera snapshot is not a JPEG');
      return buf;
    } catch (err) {
      if (err instanceof SnapshotUnavailableError) throw err;
      if (isCameraNetworkRefusal(err)) throw new SnapshotUnavailableError(`camera snapshot ${(err as Error).message}`);
      const msg = redactText(String((err as Error).message ?? err), [pass ?? undefined]);
      this.log.warn({ uri: redactText(uri), err: msg }, 'snapshot fetch failed');
      throw new SnapshotUnavailableError(`camera snapshot failed: ${msg}`);
    }
  }
}

async function readCapped(res: Response, max: number): Promise<Buffer> {
  const len = Number(res.headers.get('content-length') ?? 0);
  if (len > max) throw new SnapshotUnavailableError('camera snapshot too large');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += c.length;
    if (total > max) throw new SnapshotUnavailableError('camera snapshot too large');
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks);
}

function basic(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

/** RFC 7616 Digest (MD5 / MD5-sess / SHA-256, qop=auth or none). */
export function digest(challenge: string, method: string, uri: string, user: string, pass: string): string {
  const params: Record<string, string> = {};
  for (const m of challenge.replace(/^\s*digest\s+/i, '').matchAll(/(\w+)=("([^"]*)"|[^,\s]+)/g)) params[m[1].toLowerCase()] = m[3] ?? m[2];
  const algo = (params.algorithm ?? 'MD5').toUpperCase();
  const h = (s: string) => createHash(algo.startsWith('SHA-256') ? 'sha256' : 'md5').update(s).digest('hex');
  const realm = params.realm ?? '';
  const nonce = params.nonce ?? '';
  const qop = (params.qop ?? '').split(',').map((s) => s.trim()).includes('auth') ? 'auth' : undefined;
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  let ha1 = h(`${user}:${realm}:${pass}`);
  if (algo.endsWith('-SESS')) ha1 = h(`${ha1}:${nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const response = qop ? h(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : h(`${ha1}:${nonce}:${ha2}`);
  const parts = [`username="${user}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${uri}"`, `response="${response}"`, `algorithm=${params.algorithm ?? 'MD5'}`];
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  if (params.opaque) parts.push(`opaque="${params.opaque}"`);
  return `Digest ${parts.join(', ')}`;
}
