import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import type { BusMessage } from '../bus.js';
import {
  CameraNetworkPolicy, formatAddress, installCameraNetworkPolicy, normaliseAddress, parseCameraNetworks,
} from './policy.js';
import { resolveCameraAddress } from './connect.js';
import { parseOnvifUrl, parseStreamUrl } from '../inventory/camera-url.js';
import { validateRtspUrl } from '../../ingest/rtsp-url.js';
import { RtspConnection } from '../../media/rtsp/connection.js';

const addr = (s: string) => { const b = normaliseAddress(s); return b ? formatAddress(b) : null; };

describe('camera network policy: every address form normalised, then checked', () => {
  it('reads IPv4 the way inet_aton (and so ffmpeg) does, and IPv4 carried in IPv6', () => {
    for (const s of ['127.0.0.1', '2130706433', '0x7f000001', '0x7f.1', '0177.0.0.1', '127.1', '[::ffff:127.0.0.1]', '::ffff:7f00:1', '::127.0.0.1', '127.0.0.1.']) {
      expect(addr(s), s).toBe('127.0.0.1');
    }
    expect(addr('64:ff9b::a9fe:a9fe')).toBe('169.254.169.254');
    expect(addr('0xa9.0376.43518')).toBe('169.254.169.254');
    expect(addr('fd00::')).toBe(addr('[fd00:0:0:0::0]'));
    expect(addr('camera-7.local')).toBeNull();
    expect(addr('cafe')).toBeNull(); // hex letters alone are a name, not an address
    expect(addr('256.1.1.1')).toBeNull();
  });

  it('default: private IPv4 only; link-local, metadata, "this host" refused even when CAMERA_NETWORKS allows everything', () => {
    const def = new CameraNetworkPolicy(parseCameraNetworks(undefined));
    expect(def.check('10.20.0.5', 554).ok).toBe(true);
    expect(def.check('192.168.1.64', 80).ok).toBe(true);
    for (const h of ['127.0.0.1', '2130706433', '[::ffff:127.0.0.1]', '8.8.8.8', 'fd00::', '::1']) expect(def.check(h, 80), h).toMatchObject({ ok: false, why: 'outside_networks' });
    const open = new CameraNetworkPolicy(parseCameraNetworks('0.0.0.0/0,::/0'));
    for (const h of ['169.254.169.254', '0xa9fea9fe', '[::ffff:169.254.169.254]', 'fe80::1', '0.0.0.0', '::', '255.255.255.255', '224.0.0.1']) {
      expect(open.check(h, 80), h).toMatchObject({ ok: false, why: 'always_refused' });
    }
    open.ownPorts.add(8080);
    expect(open.check('127.0.0.1', 8080)).toMatchObject({ ok: false, why: 'own_listener' });
    expect(open.check('[::ffff:127.0.0.1]', 8080)).toMatchObject({ ok: false, why: 'own_listener' });
    expect(open.check('127.0.0.1', 8554).ok).toBe(true);
    expect(() => parseCameraNetworks('10.0.0.0/8,not-a-net')).toThrow(/CAMERA_NETWORKS.*not-a-net/);
  });

  it('the demo fleet: its own loopback endpoints are allowed, nothing else on loopback', () => {
    const p = new CameraNetworkPolicy(parseCameraNetworks(undefined));
    p.allowEndpoint('127.0.0.1', 8554);
    expect(p.check('127.0.0.1', 8554).ok).toBe(true);
    expect(p.check('127.0.0.1', 5432).ok).toBe(false);
  });

  it('names are resolved and the answers checked', async () => {
    const p = new CameraNetworkPolicy(parseCameraNetworks(undefined));
    await expect(resolveCameraAddress('localhost', 80, p)).rejects.toThrow(/not a camera network address/);
    const loop = new CameraNetworkPolicy(parseCameraNetworks('127.0.0.0/8,::1/128'));
    expect(await resolveCameraAddress('localhost', 80, loop)).toMatch(/^(127\.0\.0\.1|::1)$/);
  });
});

describe('inventory and streams agree on valid camera URLs (one validator)', () => {
  it('refuses what the stream code would refuse later', () => {
    for (const u of ['rtsp://h/x|cat', 'rtsp://-i/x', 'rtsp://h/x`id`', 'rtsp://h\u2028/x']) {
      expect(() => validateRtspUrl(u), u).toThrow();
      expect(() => parseStreamUrl(u), u).toThrow(/Stream URL/);
    }
    expect(parseStreamUrl('rtsp://u:p@10.0.0.8:554/Streaming/101').url).toBe('rtsp://10.0.0.8:554/Streaming/101');
  });
});

describe('camera URLs cannot aim the server at itself (composed app, default CAMERA_NETWORKS)', () => {
  let t: TestApp;
  let tech: string;
  let listener: Server;
  let port: number;
  let connections = 0;
  const messages: BusMessage[] = [];

  beforeAll(async () => {
    installCameraNetworkPolicy(new CameraNetworkPolicy(parseCameraNetworks(undefined)));
    // something listening on loopback that a camera URL might aim at; it counts every connection
    listener = createServer((s) => { connections++; s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'); });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    port = (listener.address() as { port: number }).port;
    t = await createTestApp();
    t.ctx.bus.subscribe((m) => messages.push(m));
    tech = await t.cookie('technician');
  });
  afterAll(async () => {
    await t?.close();
    listener?.close();
    installCameraNetworkPolicy(new CameraNetworkPolicy(parseCameraNetworks(process.env.CAMERA_NETWORKS)));
  });

  const create = (payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: tech }, payload });

  it('refuses metadata, loopback in any spelling and addresses outside the camera networks at the door', async () => {
    const bad = [
      { onvifUrl: 'http://169.254.169.254/latest/meta-data/' },
      { onvifUrl: `http://[::ffff:127.0.0.1]:${port}/onvif/device_service` },
      { onvifUrl: `http://2130706433:${port}/` },
      { onvifUrl: 'http://0x7f.1/' },
      { onvifUrl: 'http://[fd00::]/' },
      { rtspMain: `rtsp://0177.0.0.1:${port}/x` },
      { rtspMain: 'rtsp://8.8.8.8/x' },
      { rtspMain: 'rtsp://h/x|cat' },
      { rtspMain: 'rtsp://-i/x' },
    ];
    for (const [i, f] of bad.entries()) {
      const r = await create({ name: `bad ${i}`, ...f });
      expect(r.statusCode, JSON.stringify(f) + r.body).toBe(400);
    }
    expect((await create({ name: 'ok cam', rtspMain: 'rtsp://10.1.2.3/ch1', onvifUrl: 'http://192.168.1.64/onvif/device_service' })).statusCode).toBe(201);
    const csv = `name,onvif_url\nimported,http://169.254.169.254/\n`;
    const imp = await t.app.inject({ method: 'POST', url: '/api/cameras/import', headers: { cookie: tech, 'content-type': 'text/csv' }, payload: csv });
    expect(imp.statusCode).toBe(422);
    expect(() => parseOnvifUrl('http://[::ffff:169.254.169.254]/')).toThrow(/may never be a camera/);
  });

  it('a name that resolves to loopback: the probe, the health ping and the stream refuse before connecting, in words that do not say whether it answered', async () => {
    const listening = (await create({ name: 'by name', onvifUrl: `http://localhost:${port}/onvif/device_service` })).json().id as string;
    const closedPort = await new Promise<number>((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
    const silent = (await create({ name: 'by name, nothing there', onvifUrl: `http://localhost:${closedPort}/onvif/device_service` })).json().id as string;
    const rtspOnly = (await create({ name: 'rtsp by name', rtspMain: `rtsp://localhost:${port}/x`, rtspSub: `rtsp://localhost:${port}/y` })).json().id as string;
    const probe = async (id: string) => (await t.app.inject({ method: 'POST', url: `/api/cameras/${id}/probe`, headers: { cookie: tech } })).json();
    const a = await probe(listening);
    const b = await probe(silent);
    expect(a.reachable).toBe(false);
    expect(a.error).toMatch(/not a camera network address/);
    expect(a.error.replace(String(port), 'P')).toBe(b.error.replace(String(closedPort), 'P').replace(String(port), 'P'));
    const ping = await probe(rtspOnly);
    expect(ping).toMatchObject({ method: 'rtsp', reachable: false });
    expect(ping.error).toMatch(/not a camera network address/);
    // the stream: ffmpeg is never started towards it
    const live = await t.app.inject({ url: `/api/cameras/${rtspOnly}/live?stream=sub`, headers: { cookie: await t.cookie('operator') } });
    expect(live.statusCode).toBe(200);
    await expect.poll(() => messages.some((m) => m.topic === 'camera.state' && m.cameraId === rtspOnly && /not a camera network address/.test(String((m.payload as { reason?: string }).reason))), { timeout: 20_000 }).toBe(true);
    // snapshots: the ONVIF snapshot URI is asked through the same policy
    const snap = await t.app.inject({ url: `/api/cameras/${listening}/snapshot`, headers: { cookie: await t.cookie('operator') } });
    expect(snap.statusCode).toBe(503);
    expect(connections).toBe(0);
  });

  it('the native RTSP engine connects only to checked addresses: a literal at once, a name at its lookup (every connection, so a redirect as well)', async () => {
    const dial = (host: string) => new RtspConnection({
      host, port, tls: false, tlsVerify: false, connectTimeoutMs: 5000, requestTimeoutMs: 5000, userAgent: 'test',
      onInterleaved: () => {}, onClose: () => {},
    }).connect();
    const before = connections;
    for (const host of ['127.0.0.1', '::ffff:127.0.0.1', 'localhost', '169.254.169.254']) {
      await expect(dial(host), host).rejects.toMatchObject({ kind: 'fatal', message: expect.stringMatching(/not a camera network address/) });
    }
    expect(connections).toBe(before);
  });

  it('discovery targets outside the camera networks are refused', async () => {
    for (const body of [{ mode: 'range', hosts: ['169.254.169.254'] }, { mode: 'range', from: '127.0.0.1', to: '127.0.0.3' }, { mode: 'range', hosts: ['0x7f000001'] }]) {
      const r = await t.app.inject({ method: 'POST', url: '/api/discovery/scans', headers: { cookie: tech }, payload: body });
      expect(r.statusCode, JSON.stringify(body) + r.body).toBe(400);
    }
    expect(connections).toBe(0);
  });
});
