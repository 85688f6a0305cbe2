import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRtspUrl, urlWithCredentials, redactText, InvalidCameraUrlError } from './rtsp-url.js';
import { buildIngestArgs, PROTOCOL_WHITELIST } from './ffmpeg-args.js';
import { signLiveToken, verifyLiveToken } from './signed-url.js';
import { CameraSession } from './camera-session.js';
import { checkFfmpeg } from '../media-tools/ffmpeg-check.js';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { silentLog } from './log.js';

const HOSTILE = [
  'file:/etc/passwd',
  'file:///etc/passwd',
  '/etc/passwd',
  './camera.mp4',
  'concat:/etc/passwd|/etc/hosts',
  'subfile,,start,0,end,0,,:/etc/passwd',
  'lavfi',
  'testsrc=size=640x480',
  'http://127.0.0.1/x.m3u8',
  'https://example.com/a.mp4',
  'pipe:0',
  'data:video/mp4;base64,AAAA',
  'tcp://127.0.0.1:554',
  'udp://239.0.0.1:1234',
  'rtmp://host/live',
  'hls+http://host/x.m3u8',
  'crypto:file:/etc/passwd',
  '-f lavfi -i testsrc',
  '-i',
  'rtsp://',
  'rtsp:///nohost',
  'rtsp://host/a b',
  'rtsp://host/a\nb',
  'rtsp://host/a|b',
  'rtsp://host/`id`',
  ' rtsp://host/x',
  'RTSP:/host',
  'rtsp://host:99999/x',
  'rtsp://ho$t/x',
];

describe('camera URL validation and the ffmpeg argument array', () => {
  it('accepts rtsp/rtsps URLs with a host, moving credentials out of the URL', () => {
    const r = validateRtspUrl('rtsp://admin:p%40ss@10.1.2.3:554/cam/realmonitor?channel=1&subtype=0');
    expect(r).toEqual({ url: 'rtsp://10.1.2.3:554/cam/realmonitor?channel=1&subtype=0', username: 'admin', password: 'p@ss' });
    expect(validateRtspUrl('rtsps://cam.example/stream1').url).toBe('rtsps://cam.example/stream1');
    expect(validateRtspUrl('RTSP://[::1]:8554/main').url).toBe('rtsp://[::1]:8554/main');
    expect(urlWithCredentials({ url: 'rtsp://h/x', username: 'u', password: 'p@ss:w' })).toBe('rtsp://u:p%40ss%3Aw@h/x');
  });

  it('refuses everything that is not a plain rtsp(s) URL, so it can never reach ffmpeg', () => {
    for (const bad of HOSTILE) {
      expect(() => validateRtspUrl(bad), bad).toThrow(InvalidCameraUrlError);
      expect(() => buildIngestArgs({ url: bad }), bad).toThrow(InvalidCameraUrlError);
    }
  });

  it('builds an argument array: forced rtsp demuxer, protocol whitelist, copy only, fMP4 to stdout', () => {
    const args = buildIngestArgs({ url: 'rtsp://10.0.0.5/main', username: 'u', password: 'secret' });
    const i = args.indexOf('-i');
    expect(args[i + 1]).toBe('rtsp://u:secret@10.0.0.5/main');
    expect(args.slice(0, i)).toEqual(expect.arrayContaining(['-protocol_whitelist', PROTOCOL_WHITELIST, '-f', 'rtsp', '-rtsp_transport', 'tcp']));
    expect(args[args.indexOf('-protocol_whitelist') + 1].split(',')).not.toContain('file');
    expect(args[args.indexOf('-c') + 1]).toBe('copy');
    expect(args).not.toContain('-nostdin'); // `q` on stdin stops it
    expect(args).not.toContain('-vf');
    expect(args.at(-1)).toBe('pipe:1');
    expect(args.filter((a) => a === '-i').length).toBe(1);
  });

  it('real ffmpeg with the ingest input options cannot open a file even if validation were bypassed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-sec-'));
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'top secret\n');
    try {
      const args = buildIngestArgs({ url: 'rtsp://127.0.0.1:1/x' });
      for (const input of [`file:${secret}`, secret, `concat:${secret}|${secret}`]) {
        args[args.indexOf('-i') + 1] = input;
        const outFile = join(dir, 'out.mp4');
        const outArgs = [...args.slice(0, -1), '-y', outFile];
        const code = await new Promise<number | null>((resolve) => {
          const p = spawn(resolveFfmpeg(), outArgs, { stdio: ['ignore', 'ignore', 'ignore'] });
          p.on('close', (c) => resolve(c));
        });
        expect(code, input).not.toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a session with a hostile URL goes to error without spawning ffmpeg', async () => {
    const s = new CameraSession({
      cameraId: 'c1',
      stream: 'sub',
      ffmpegPath: '/nonexistent/ffmpeg-must-not-run',
      logger: silentLog,
      getSource: async () => ({ url: 'file:/etc/passwd' }),
      backoffMs: [60_000],
    });
    const states: string[] = [];
    s.on('state', (c) => states.push(c.state));
    s.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.state).toBe('error');
    expect(s.reason).toMatch(/only rtsp/);
    expect(s.pid).toBeUndefined();
    await s.stop();
    expect(states).toEqual(['connecting', 'error', 'idle']);
  });

  it('redacts credentials from text ffmpeg prints', () => {
    expect(redactText('rtsp://admin:hunter22@10.0.0.1/x: 401 Unauthorized')).toBe('rtsp://***@10.0.0.1/x: 401 Unauthorized');
    expect(redactText('auth with hunter22 failed', ['hunter22'])).toBe('auth with *** failed');
  });

  it('self-checks the resolved ffmpeg', async () => {
    const r = await checkFfmpeg();
    expect(r.missing).toEqual([]);
    expect(r.ok).toBe(true);
  });
});

describe('signed live URLs', () => {
  const key = Buffer.alloc(32, 7);
  const grant = { cameraId: 'cam-1', stream: 'sub', userId: 'u-42', exp: 2_000_000_000 };

  it('verifies a token for the same camera, stream and time', () => {
    const token = signLiveToken(key, grant);
    expect(verifyLiveToken(key, { cameraId: 'cam-1', stream: 'sub', token }, 1_900_000_000)).toEqual({ ok: true, userId: 'u-42', exp: grant.exp });
  });

  it('keeps UUID user ids compact (one path parameter stays under the router limit of 100)', () => {
    const uid = '01a1b2c3-2f5d-431f-90f3-66a3f18e0015';
    const token = signLiveToken(key, { ...grant, userId: uid });
    expect(token.length).toBeLessThan(70);
    expect(verifyLiveToken(key, { cameraId: 'cam-1', stream: 'sub', token }, 1_900_000_000)).toEqual({ ok: true, userId: uid, exp: grant.exp });
  });

  it('refuses tampered, foreign, expired and malformed tokens', () => {
    const token = signLiveToken(key, grant);
    const at = 1_900_000_000;
    expect(verifyLiveToken(key, { cameraId: 'cam-2', stream: 'sub', token }, at)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyLiveToken(key, { cameraId: 'cam-1', stream: 'main', token }, at)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyLiveToken(Buffer.alloc(32, 8), { cameraId: 'cam-1', stream: 'sub', token }, at)).toMatchObject({ ok: false, reason: 'bad_signature' });
    const later = token.replace(/^\d+/, String(grant.exp + 3600));
    expect(verifyLiveToken(key, { cameraId: 'cam-1', stream: 'sub', token: later }, at)).toMatchObject({ ok: false, reason: 'bad_signature' });
    const other = signLiveToken(key, { ...grant, userId: 'u-1' });
    const swapped = [token.split('.')[0], other.split('.')[1], token.split('.')[2]].join('.');
    expect(verifyLiveToken(key, { cameraId: 'cam-1', stream: 'sub', token: swapped }, at)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyLiveToken(key, { cameraId: 'cam-1', stream: 'sub', token }, grant.exp)).toMatchObject({ ok: false, reason: 'expired' });
    for (const t of ['', 'x', '1.2.3', `${grant.exp}..${token.split('.')[2]}`]) expect(verifyLiveToken(key, { cameraId: 'cam-1', stream: 'sub', token: t }, at).ok).toBe(false);
  });
});
