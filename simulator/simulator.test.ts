/**
 * The simulator against real clients: ffprobe/ffmpeg over RTSP (TCP and UDP), the `onvif` npm client,
 * HTTP snapshots, a WS-Discovery probe, and every fault through the control API.
 */
import { createSocket } from 'node:dgram';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { minuteDelta, readClockStrip } from './clock-strip.js';
import { startSimulator, type SimCameraInfo, type Simulator } from './index.js';
import { RtspReader } from './rtsp-test-client.js';
import { authedUrl, call, grabFrame, onvifConnect, probe, rtspTimeoutOption, run, testCacheDir, withCreds } from './test-helpers.js';

const MAIN = { width: 320, height: 180 };
const SUB = { width: 160, height: 90 };

let sim: Simulator;
let cams: SimCameraInfo[];

beforeAll(async () => {
  sim = await startSimulator({
    cameras: 3,
    dataDir: testCacheDir,
    mainSize: MAIN,
    subSize: SUB,
    labelledCameras: 2, // the third camera exercises the shared fleet encode
    controlPort: 0,
    discoveryMulticast: false,
    logger: pino({ level: 'silent' }),
  });
  cams = sim.cameras();
});

afterAll(async () => {
  await sim?.stop();
});

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${sim.controlUrl}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: r.status, json: await r.json() };
}

describe('RTSP', () => {
  it('ffprobe reads H.264 at the right size from every main and sub stream over TCP', async () => {
    const results = await Promise.all(cams.flatMap((c) => [probe(authedUrl(c, 'main')), probe(authedUrl(c, 'sub'))]));
    for (const r of results) expect(r.ok, r.stderr).toBe(true);
    results.forEach((r, i) => {
      expect(r.codec).toBe('h264');
      expect({ width: r.width, height: r.height }).toEqual(i % 2 === 0 ? MAIN : SUB);
    });
  });

  it('serves RTP over UDP too', async () => {
    const r = await probe(authedUrl(cams[0], 'sub'), 'udp');
    expect(r.ok, r.stderr).toBe(true);
    expect({ width: r.width, height: r.height }).toEqual(SUB);
  });

  it('refuses wrong credentials and no credentials', async () => {
    const wrong = await probe(withCreds(cams[0].rtspMain, cams[0].username, 'not-the-password'));
    expect(wrong.ok).toBe(false);
    expect(wrong.stderr).toMatch(/401|Unauthorized/i);
    const none = await probe(cams[0].rtspMain);
    expect(none.ok).toBe(false);
    expect(none.stderr).toMatch(/401|Unauthorized/i);
    // Another camera's password must not open this one.
    const other = await probe(withCreds(cams[0].rtspMain, cams[1].username, cams[1].password));
    expect(other.ok).toBe(false);
  });

  it('sends the picture no earlier than its burnt-in clock says', async () => {
    const f = await grabFrame(authedUrl(cams[0], 'main'), MAIN.width, MAIN.height);
    expect(f).toBeDefined();
    const ms = readClockStrip(f!.rgb, MAIN.width, MAIN.height, 3);
    expect(ms).not.toBeNull();
    // The frame cannot show a time later than when it arrived.
    expect(minuteDelta(f!.receivedAt % 60_000, ms!)).toBeGreaterThanOrEqual(0);
  });
});

describe('RTP', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const waitFrames = async (r: RtspReader, n: number) => {
    for (let i = 0; i < 200 && r.frames < n; i++) await sleep(50);
  };

  it('starts every session on a keyframe with SPS in-band, RTP-Info matching the first packet, and steady timestamps', async () => {
    const c = cams[1];
    const a = new RtspReader(c.rtspSub, c.username, c.password);
    await a.start();
    await waitFrames(a, 10);
    a.stop();
    await sleep(1500); // the stream goes idle, then a new viewer arrives
    const b = new RtspReader(c.rtspSub, c.username, c.password);
    await b.start();
    await waitFrames(b, 5);
    const joiner = new RtspReader(c.rtspSub, c.username, c.password); // joins a stream already being sent
    await joiner.start();
    await waitFrames(joiner, 30);
    await waitFrames(b, 60);
    b.stop();
    joiner.stop();
    for (const r of [a, b, joiner]) {
      expect(r.first?.nalType).toBe(7); // SPS, then PPS and the IDR
      expect(r.rtpInfo).toEqual({ seq: r.first!.seq, rtptime: r.first!.ts });
      expect(r.regressions).toBe(0);
      // 90 kHz at 25 fps: 3600 per frame (a multiple if the scheduler ever had to skip).
      expect(r.steps.filter((s) => s % 3600 !== 0)).toEqual([]);
    }
    expect(b.frames).toBeGreaterThanOrEqual(60);
  });
});

describe('ONVIF', () => {
  it('the onvif client gets device info, profiles, stream and snapshot URIs', async () => {
    const { err, cam } = await onvifConnect(cams[0]);
    expect(err).toBeUndefined();
    const info = await call<{ manufacturer: string; hardwareId: string }>((cb) => cam.getDeviceInformation(cb as never));
    expect(info.manufacturer).toBe('StreetEye');
    expect(info.hardwareId).toBe(cams[0].name);
    const profiles = (cam as unknown as { profiles: Array<{ $: { token: string }; videoEncoderConfiguration: { resolution: { width: number; height: number } } }> }).profiles;
    expect(profiles.map((p) => p.$.token)).toEqual(['main_profile', 'sub_profile']);
    expect(profiles[0].videoEncoderConfiguration.resolution).toEqual(MAIN);
    expect(profiles[1].videoEncoderConfiguration.resolution).toEqual(SUB);
    const main = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'main_profile' } as never, cb as never));
    const sub = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'sub_profile' } as never, cb as never));
    expect(main.uri).toBe(cams[0].rtspMain);
    expect(sub.uri).toBe(cams[0].rtspSub);
    const snap = await call<{ uri: string }>((cb) => cam.getSnapshotUri({ profileToken: 'main_profile' } as never, cb as never));
    expect(snap.uri).toBe(cams[0].snapshotUrl);
    // And the URIs it returned work with a real player.
    const p = await probe(withCreds(sub.uri, cams[0].username, cams[0].password));
    expect({ width: p.width, height: p.height }).toEqual(SUB);
  });

  it('refuses a wrong WS-Security password', async () => {
    const { err } = await onvifConnect(cams[0], 'wrong');
    expect(err?.message).toMatch(/not Authorized/i);
  });

  it('serves a snapshot JPEG with HTTP auth', async () => {
    const ok = await fetch(cams[1].snapshotUrl, { headers: { authorization: `Basic ${Buffer.from(`${cams[1].username}:${cams[1].password}`).toString('base64')}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await ok.arrayBuffer());
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect((await fetch(cams[1].snapshotUrl)).status).toBe(401);
  });

  it('answers a unicast WS-Discovery probe with every camera', async () => {
    const sock = createSocket('udp4');
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString()));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const probeXml =
      '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">' +
      '<s:Header><a:MessageID>urn:uuid:11111111-2222-3333-4444-555555555555</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
      '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header><s:Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery">' +
      '<d:Types xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dp0="http://www.onvif.org/ver10/network/wsdl">dp0:NetworkVideoTransmitter</d:Types></Probe></s:Body></s:Envelope>';
    sock.send(probeXml, sim.discoveryPort, '127.0.0.1');
    for (let i = 0; i < 50 && replies.length < cams.length; i++) await new Promise((r) => setTimeout(r, 50));
    sock.close();
    expect(replies).toHaveLength(cams.length);
    for (const c of cams) expect(replies.some((x) => x.includes(`<d:XAddrs>${c.onvifUrl}</d:XAddrs>`) && x.includes('urn:uuid:11111111-2222-3333-4444-555555555555'))).toBe(true);
  });
});

describe('faults', () => {
  it('lists cameras on the control API and rejects bad fault requests', async () => {
    const list = await control('GET', '/cameras');
    expect(list.status).toBe(200);
    expect((list.json as SimCameraInfo[]).map((c) => c.id)).toEqual(cams.map((c) => c.id));
    expect((await control('POST', `/cameras/${cams[0].id}/faults`, { kind: 'explode' })).status).toBe(400);
    expect((await control('POST', '/cameras/nope/faults', { kind: 'offline' })).status).toBe(404);
  });

  it('offline refuses RTSP and HTTP, and restores', async () => {
    const c = cams[2];
    expect((await control('POST', `/cameras/${c.id}/faults`, { kind: 'offline' })).status).toBe(200);
    const r = await probe(authedUrl(c, 'sub'));
    expect(r.ok).toBe(false);
    await expect(fetch(c.snapshotUrl)).rejects.toThrow();
    // Other cameras are unaffected.
    expect((await probe(authedUrl(cams[0], 'sub'))).ok).toBe(true);
    await control('DELETE', `/cameras/${c.id}/faults`);
    expect((await probe(authedUrl(c, 'sub'))).ok).toBe(true);
  });

  it('stall accepts and never answers, and restores', async () => {
    const c = cams[2];
    await control('POST', `/cameras/${c.id}/faults`, { kind: 'stall' });
    const r = await probe(authedUrl(c, 'sub'), 'tcp', 4000);
    expect(r.ok).toBe(false);
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), 1500);
    await expect(fetch(c.snapshotUrl, { signal: ctl.signal })).rejects.toThrow(/abort/i);
    clearTimeout(t);
    await control('DELETE', `/cameras/${c.id}/faults`);
    expect((await probe(authedUrl(c, 'sub'))).ok).toBe(true);
  });

  it('auth-refuse rejects the right credentials on RTSP and ONVIF, and restores', async () => {
    const c = cams[1];
    sim.fault(c.id, { kind: 'auth-refuse' });
    const r = await probe(authedUrl(c, 'main'));
    expect(r.ok).toBe(false);
    expect(r.stderr).toMatch(/401|Unauthorized/i);
    expect((await onvifConnect(c)).err?.message).toMatch(/not Authorized/i);
    sim.restore(c.id);
    expect((await probe(authedUrl(c, 'main'))).ok).toBe(true);
    expect((await onvifConnect(c)).err).toBeUndefined();
  });

  it('drop cuts streams mid-way, and restores', async () => {
    const c = cams[2];
    const ffmpeg = resolveFfmpeg();
    const timeoutOpt = await rtspTimeoutOption(ffmpeg);
    const pull = (seconds: number) =>
      run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-progress', 'pipe:1', '-rtsp_transport', 'tcp', timeoutOpt, '5000000', '-i', authedUrl(c, 'sub'), '-t', String(seconds), '-c', 'copy', '-f', 'null', '-'], 30_000);
    const frames = (out: Buffer) => Math.max(0, ...[...out.toString().matchAll(/frame=(\d+)/g)].map((m) => Number(m[1])));
    await control('POST', `/cameras/${c.id}/faults`, { kind: 'drop', afterMs: 1000 });
    const cut = await pull(6);
    // 6 s at 25 fps would be 150 frames; the drop ends the pull after about 1 s of video.
    expect(frames(cut.stdout)).toBeGreaterThan(0);
    expect(frames(cut.stdout)).toBeLessThan(100);
    await control('DELETE', `/cameras/${c.id}/faults`);
    const whole = await pull(3);
    // Restored: the 3 s pull runs to its end (75 frames) instead of being cut after ~25.
    expect(frames(whole.stdout)).toBeGreaterThanOrEqual(60);
  });

  it('resolution changes the main stream size, and restores', async () => {
    const c = cams[0];
    sim.fault(c.id, { kind: 'resolution', width: 256, height: 144 });
    let r = await probe(authedUrl(c, 'main'));
    for (let i = 0; i < 60 && r.width !== 256; i++) {
      await new Promise((res) => setTimeout(res, 500));
      r = await probe(authedUrl(c, 'main'));
    }
    expect({ width: r.width, height: r.height }).toEqual({ width: 256, height: 144 });
    expect(sim.cameras()[0].mainSize).toEqual({ width: 256, height: 144 });
    sim.restore(c.id);
    r = await probe(authedUrl(c, 'main'));
    expect({ width: r.width, height: r.height }).toEqual(MAIN);
  });

  it('delay holds the picture back by at least the delay, and restores', async () => {
    const c = cams[1];
    sim.fault(c.id, { kind: 'delay', ms: 3000, jitterMs: 200 });
    const f = await grabFrame(authedUrl(c, 'main'), MAIN.width, MAIN.height);
    const ms = readClockStrip(f!.rgb, MAIN.width, MAIN.height, 3);
    expect(ms).not.toBeNull();
    expect(minuteDelta(f!.receivedAt % 60_000, ms!)).toBeGreaterThanOrEqual(3000);
    sim.restore(c.id);
    expect((await probe(authedUrl(c, 'main'))).ok).toBe(true);
  });
});

describe('keyframes', () => {
  const keyframeSpacing = async (url: string): Promise<number[]> => {
    const r = await run(
      resolveFfmpeg(),
      ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-t', '5', '-c', 'copy', '-f', 'framecrc', '-'],
      30_000,
    );
    // framecrc lines: stream, dts, pts, duration, size, crc[, F=flags]; ffmpeg omits F= when the flags are
    // exactly "keyframe", so a line without it is a keyframe.
    const lines = r.stdout.toString().split('\n').filter((l) => /^\d+,/.test(l));
    const isKey = (l: string) => {
      const f = /F=(0x[0-9a-f]+)/i.exec(l);
      return f ? (Number(f[1]) & 1) === 1 : true;
    };
    const keys = lines.map((l, i) => (isKey(l) ? i : -1)).filter((i) => i >= 0);
    return keys.slice(1).map((k, i) => k - keys[i]);
  };

  it('sends a keyframe every second by default', async () => {
    const gaps = await keyframeSpacing(authedUrl(cams[0], 'sub'));
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    expect(new Set(gaps)).toEqual(new Set([25]));
  });

  it('honours keyframeIntervalS', async () => {
    const other = await startSimulator({ cameras: 1, dataDir: testCacheDir, mainSize: SUB, subSize: SUB, keyframeIntervalS: 2, discoveryMulticast: false, logger: pino({ level: 'silent' }) });
    try {
      const gaps = await keyframeSpacing(authedUrl(other.cameras()[0], 'sub'));
      expect(gaps.length).toBeGreaterThanOrEqual(1);
      expect(new Set(gaps)).toEqual(new Set([50]));
    } finally {
      await other.stop();
    }
  });
});
