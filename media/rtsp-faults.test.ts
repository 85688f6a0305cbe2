/**
 * Bad RTSP servers (a raw TCP server in the test says exactly the wrong thing): garbage, a header that never ends,
 * a body that never ends, a 200 without a Session, silence. Each is a bounded, logged failure of one connect and a
 * retry by the session — never a crash, a hang or a growing buffer. Plus Digest with qop=auth against the
 * simulator's own authenticator, stale nonces, redirects, and SDP control URL resolution.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { CameraSession } from '../ingest/camera-session.js';
import { silentLog } from '../ingest/log.js';
import { HttpAuth } from '../simulator/rtsp-auth.js';
import { RtspAuthenticator } from './rtsp/auth.js';
import { RtspClient, RtspError } from './rtsp/client.js';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES } from './rtsp/connection.js';
import { parseSdp, resolveControl } from './rtsp/sdp.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server that answers every request with `respond(request, socket)`. Returns its rtsp:// URL. */
async function badServer(respond: (req: string, sock: Socket, n: number) => void): Promise<{ url: string; connections: () => number }> {
  let conns = 0;
  const srv = createServer((sock) => {
    conns++;
    let buf = '';
    let n = 0;
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        const req = buf.slice(0, i);
        buf = buf.slice(i + 4);
        respond(req, sock, n++);
      }
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { url: `rtsp://127.0.0.1:${port}/stream`, connections: () => conns };
}

const cseq = (req: string) => /CSeq:\s*(\d+)/i.exec(req)?.[1] ?? '0';
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n';

async function startFails(url: string, extra: Partial<ConstructorParameters<typeof RtspClient>[0]> = {}): Promise<RtspError> {
  const c = new RtspClient({ url, onRtp: () => {}, onEnd: () => {}, connectTimeoutMs: 2000, requestTimeoutMs: 2000, ...extra });
  try {
    await c.start();
  } catch (err) {
    await c.close();
    return err as RtspError;
  }
  await c.close();
  throw new Error('start() succeeded against a bad server');
}

describe('bounded failures against bad RTSP servers', () => {
  it('garbage instead of a reply', async () => {
    const s = await badServer((_req, sock) => sock.write('\x00\x01garbage garbage\r\n\r\n'));
    const err = await startFails(s.url);
    expect(err).toBeInstanceOf(RtspError);
    expect(err.message).toMatch(/not RTSP/);
  });

  it('a reply header that never ends is cut at the header limit', async () => {
    const s = await badServer((req, sock) => {
      sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq(req)}\r\n`);
      const line = `X-Filler: ${'a'.repeat(1000)}\r\n`;
      const pump = () => {
        if (sock.destroyed) return;
        sock.write(line.repeat(8), () => setImmediate(pump));
      };
      pump();
    });
    const heap0 = process.memoryUsage().heapUsed;
    const err = await startFails(s.url);
    expect(err.message).toContain(`larger than ${MAX_HEADER_BYTES} bytes`);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(32 * 1024 * 1024);
  });

  it('a body that never ends (huge Content-Length) is refused at once', async () => {
    const s = await badServer((req, sock) => {
      sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq(req)}\r\nContent-Length: 999999999\r\n\r\n`);
      const pump = () => {
        if (!sock.destroyed) sock.write(Buffer.alloc(64 * 1024, 0x41), () => setImmediate(pump));
      };
      pump();
    });
    const err = await startFails(s.url);
    expect(err.message).toContain(`larger than ${MAX_BODY_BYTES} bytes`);
  });

  it('200 to SETUP without a Session header', async () => {
    const s = await badServer((req, sock) => {
      const m = req.split(' ')[0];
      if (m === 'DESCRIBE') sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq(req)}\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`);
      else sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq(req)}\r\n\r\n`);
    });
    const err = await startFails(s.url);
    expect(err.message).toMatch(/without a Session header/);
  });

  it('silence: the request times out', async () => {
    const s = await badServer(() => {});
    const err = await startFails(s.url, { requestTimeoutMs: 300 });
    expect(err.kind).toBe('network');
    expect(err.message).toMatch(/no reply to OPTIONS/);
  });

  it('a session against a garbage server fails, logs, retries with backoff — and stays bounded', async () => {
    const s = await badServer((_req, sock) => sock.write('HTTP/1.1 400 Bad Request\r\n\r\n<html>' + 'x'.repeat(5000)));
    const warnings: unknown[] = [];
    const log = { ...silentLog, child: () => log, warn: (o: unknown) => warnings.push(o) } as unknown as typeof silentLog;
    const session = new CameraSession({ cameraId: 'bad', stream: 'sub', ffmpegPath: 'unused', logger: log, backoffMs: [100], jitter: 0, getSource: async () => ({ url: s.url }) });
    session.start();
    const t0 = Date.now();
    while (s.connections() < 3 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
    await session.stop();
    expect(s.connections()).toBeGreaterThanOrEqual(3);
    expect(session.stats.restarts).toBeGreaterThanOrEqual(2);
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(session.stats.engine).toBe('native'); // a broken camera is not "unsupported": no fall back to ffmpeg
  });

  it('an unsupported codec falls back to ffmpeg, logged with the reason', async () => {
    const mjpeg = SDP.replace('H264/90000', 'JPEG/90000');
    const s = await badServer((req, sock) => {
      if (req.startsWith('DESCRIBE')) sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq(req)}\r\nContent-Type: application/sdp\r\nContent-Length: ${mjpeg.length}\r\n\r\n${mjpeg}`);
      else sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq(req)}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n`);
    });
    const warnings: Array<Record<string, unknown>> = [];
    const log = { ...silentLog, child: () => log, warn: (o: Record<string, unknown>, msg: string) => warnings.push({ ...o, msg }) } as unknown as typeof silentLog;
    const session = new CameraSession({ cameraId: 'mjpeg', stream: 'sub', ffmpegPath: '/bin/false', logger: log, backoffMs: [5000], getSource: async () => ({ url: s.url }) });
    session.start();
    const t0 = Date.now();
    while (session.stats.engine !== 'ffmpeg' && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    await session.stop();
    expect(session.stats.engine).toBe('ffmpeg');
    expect(session.stats.fallbackReason).toMatch(/JPEG|jpeg/);
    expect(warnings.some((w) => /falling back to ffmpeg/.test(String(w.msg)))).toBe(true);
  });

  it('a redirect is followed (credentials only to the same host)', async () => {
    const target = await badServer((req, sock) => {
      if (req.startsWith('DESCRIBE')) sock.write(`RTSP/1.0 404 Not Found\r\nCSeq: ${cseq(req)}\r\n\r\n`);
      else sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq(req)}\r\n\r\n`);
    });
    const s = await badServer((req, sock) => sock.write(`RTSP/1.0 302 Moved\r\nCSeq: ${cseq(req)}\r\nLocation: ${target.url}\r\n\r\n`));
    const err = await startFails(s.url);
    expect(target.connections()).toBe(1);
    expect(err.kind).toBe('fatal');
    expect(err.message).toMatch(/404/);
  });
});

describe('Digest authentication (client) against the simulator\'s server side', () => {
  it('MD5 with qop=auth, without qop, and a stale nonce refresh', () => {
    const server = new HttpAuth('Login to Lobby, 2F');
    const creds = { username: 'admin', password: 'pa:ss"word' };
    for (const challenge of [server.challenges(), server.rtspChallenges()]) {
      const a = new RtspAuthenticator(creds.username, creds.password);
      expect(a.accept(challenge)).toBe(true);
      for (let i = 0; i < 3; i++) {
        const h = a.header('DESCRIBE', 'rtsp://127.0.0.1/cam/x/sub')!;
        expect(h).toMatch(/^Digest /);
        expect(server.check('DESCRIBE', h, creds)).toBe(true);
        expect(server.check('DESCRIBE', h, { ...creds, password: 'wrong' })).toBe(false);
      }
    }
    const a = new RtspAuthenticator('admin', 'x');
    expect(a.accept(['Digest realm="r", nonce="n1"'])).toBe(true);
    expect(a.accept(['Digest realm="r", nonce="n1"'])).toBe(false); // same nonce refused again: wrong password
    expect(a.accept(['Digest realm="r", nonce="n1", stale=TRUE'])).toBe(true); // stale: retry with the fresh nonce
    expect(a.accept(['digest realm=r,nonce=n2'])).toBe(true); // lower-case scheme, unquoted values
    expect(a.header('OPTIONS', '*')).toContain('nonce="n2"');
    const b = new RtspAuthenticator('admin', 'x');
    expect(b.accept(['Basic realm="cam"'])).toBe(true);
    expect(b.header('OPTIONS', '*')).toBe(`Basic ${Buffer.from('admin:x').toString('base64')}`);
  });
});

describe('SDP', () => {
  it('control URLs: relative, absolute, "*", session-level base; sprop parameter sets', () => {
    expect(resolveControl('rtsp://h/a/b', 'trackID=0')).toBe('rtsp://h/a/b/trackID=0');
    expect(resolveControl('rtsp://h/a/b/', 'trackID=0')).toBe('rtsp://h/a/b/trackID=0');
    expect(resolveControl('rtsp://h/a', 'rtsp://other:8554/x/track1')).toBe('rtsp://other:8554/x/track1');
    expect(resolveControl('rtsp://h/a', '*')).toBe('rtsp://h/a');
    const sdp = parseSdp(
      [
        'v=0', 'a=control:rtsp://h:554/live/', 'm=audio 0 RTP/AVP 8', 'a=control:audio',
        'm=video 0 RTP/AVP 97', 'a=rtpmap:97 H265/90000',
        'a=fmtp:97 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ; sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAQEAAAAMAQAAABkI=; sprop-pps=RAHBcrRiQA==',
        'a=control:video', 'a=framerate:25',
      ].join('\r\n'),
      'rtsp://h:554/live',
    );
    expect(sdp.videos).toHaveLength(1);
    expect(sdp.videos[0]).toMatchObject({ codec: 'h265', payloadType: 97, control: 'rtsp://h:554/live/video', framerate: 25 });
    expect(sdp.videos[0].vps[0][0] >> 1).toBe(32);
    expect(sdp.videos[0].sps[0][0] >> 1).toBe(33);
    expect(sdp.videos[0].pps[0][0] >> 1).toBe(34);
  });
});
