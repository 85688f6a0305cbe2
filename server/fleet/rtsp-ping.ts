/**
 * A cheap reachability check for cameras without ONVIF: RTSP OPTIONS over TCP (no session, no media, so it
 * costs none of the camera's 2-5 RTSP sessions). Any RTSP status line counts as reachable; 401 is reachable
 * (OPTIONS rarely needs credentials and none are sent).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { cameraConnectOptions } from '../camera-network/connect.js';

export interface RtspPingResult {
  reachable: boolean;
  rttMs: number | null;
  /** RTSP status code of the answer */
  status: number | null;
  error: string | null;
}

export function rtspPing(rawUrl: string, timeoutMs = 4000): Promise<RtspPingResult> {
  let u: URL;
  try {
    u = new URL(rawUrl);
  } catch {
    return Promise.resolve({ reachable: false, rttMs: null, status: null, error: 'the stream URL is not valid' });
  }
  if (u.protocol !== 'rtsp:' && u.protocol !== 'rtsps:') return Promise.resolve({ reachable: false, rttMs: null, status: null, error: 'not an rtsp:// URL' });
  const secure = u.protocol === 'rtsps:';
  const port = u.port ? Number(u.port) : secure ? 322 : 554;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  u.username = '';
  u.password = '';
  const where = `${host}:${port}`;
  return new Promise((resolve) => {
    const t0 = Date.now();
    let done = false;
    let buf = '';
    const finish = (r: RtspPingResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ reachable: false, rttMs: null, status: null, error: `unreachable: no RTSP answer from ${where} within ${Math.round(timeoutMs / 100) / 10} s` }), timeoutMs);
    let target: ReturnType<typeof cameraConnectOptions>;
    try {
      target = cameraConnectOptions(host, port); // CAMERA_NETWORKS: a literal now, a name at lookup
    } catch (err) {
      resolve({ reachable: false, rttMs: null, status: null, error: (err as Error).message });
      clearTimeout(timer);
      done = true;
      return;
    }
    const socket: Socket = secure
      ? tlsConnect({ ...target, servername: /^[\d.:]+$/.test(host) ? undefined : host, rejectUnauthorized: false })
      : tcpConnect(target);
    socket.setEncoding('latin1');
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      socket.write(`OPTIONS ${u.toString()} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: StreetEye health check\r\n\r\n`);
    });
    socket.on('data', (chunk: string) => {
      buf += chunk;
      const m = /^RTSP\/1\.\d (\d{3})/.exec(buf);
      if (m) finish({ reachable: true, rttMs: Date.now() - t0, status: Number(m[1]), error: null });
      else if (buf.length > 256 || buf.includes('\n')) finish({ reachable: false, rttMs: null, status: null, error: `${where} answered, but not with RTSP` });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      const error = code === 'ECAMERANET' ? err.message
        : code === 'ECONNREFUSED' ? `unreachable: ${where} refused the connection (no RTSP server there)`
        : code === 'EHOSTUNREACH' || code === 'ENETUNREACH' ? `unreachable: no route to ${where} (${code})`
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `unreachable: host name ${host} does not resolve`
        : `unreachable: RTSP connection to ${where} failed (${code || err.message})`;
      finish({ reachable: false, rttMs: null, status: null, error });
    });
    socket.on('close', () => finish({ reachable: false, rttMs: null, status: null, error: `unreachable: ${where} closed the connection without an RTSP answer` }));
  });
}
