import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdirSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { createTestApp, type TestApp } from '../../test/app.js';
import type { BusMessage } from '../bus.js';
import { run } from '../../ingest/test-fixtures.js';
import { resolveFfmpeg, resolveFfprobe } from '../../media-tools/ffmpeg-path.js';
import { GbSimDevice } from '../../simulator/gb-device.js';
import type { GbService } from './service.js';
import { parsePtzCmd } from '../../gb28181/ptz-cmd.js';

// GB/T 28181 end to end against the simulated device/platform: register (digest) → catalog → approval → live
// (INVITE, PS over RTP, demux, fMP4, LL-HLS, ffprobe) → keepalive loss → alarms, and the bad input the issue names.

const SERVER_ID = '34020000002000000001';
const PLATFORM = '34020000002000000099'; // a lower platform (type 200)
const DEVICE = '34020000001180000001'; // an NVR (type 118)
const PASSWORD = 'gb-secret-12345';

/** A 4 s, 1 s-GOP H.264 Annex-B loop made once per machine (the simulator's pre-encoded stream). */
async function h264Loop(): Promise<string> {
  const dir = join(tmpdir(), 'streeteye-gb-fixtures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'loop-320x240-10fps.h264');
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  const r = await run(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:d=4',
    '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-f', 'h264', tmp]);
  if (r.code !== 0) throw new Error(r.stderr);
  renameSync(tmp, file);
  return file;
}

describe('GB/T 28181 access', () => {
  let t: TestApp;
  let gb: GbService;
  let platform: GbSimDevice;
  let h264: string;
  const messages: BusMessage[] = [];
  const server = () => ({ host: '127.0.0.1', port: gb.server.port, id: SERVER_ID, realm: '3402000000' });

  beforeAll(async () => {
    h264 = await h264Loop();
    t = await createTestApp({
      node: {
        gb: {
          serverId: SERVER_ID, realm: '3402000000', sipHost: '127.0.0.1', sipPort: 0, advertiseHost: '127.0.0.1',
          password: undefined, acceptNew: false, keepaliveTimeoutMs: 2500, mediaTransport: 'udp', rtpPorts: [0, 0], inviteTimeoutMs: 4000,
        },
      },
    });
    gb = t.ctx.gb;
    t.ctx.bus.subscribe((m) => messages.push(m));
    await gb.start();
  });
  afterAll(async () => {
    await platform?.stop();
    await gb?.stop();
    await t?.close();
  });

  it('expects devices only through the API (technician), with sealed passwords never returned', async () => {
    const tech = await t.cookie('technician');
    expect((await t.app.inject({ method: 'PUT', url: `/api/gb28181/devices/${PLATFORM}`, headers: { cookie: await t.cookie('operator') }, payload: { password: PASSWORD } })).statusCode).toBe(403);
    const bad = await t.app.inject({ method: 'PUT', url: `/api/gb28181/devices/${PLATFORM}`, headers: { cookie: tech }, payload: { name: 'x' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/password/);
    expect((await t.app.inject({ method: 'PUT', url: '/api/gb28181/devices/123', headers: { cookie: tech }, payload: { password: PASSWORD } })).statusCode).toBe(400);
    const ok = await t.app.inject({ method: 'PUT', url: `/api/gb28181/devices/${PLATFORM}`, headers: { cookie: tech }, payload: { name: '市公安视频平台', password: PASSWORD } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ deviceId: PLATFORM, hasPassword: true, online: false });
    expect(ok.body).not.toContain(PASSWORD);
    const row = await t.db.query<{ password_enc: string }>('SELECT password_enc FROM gb_devices WHERE device_id = $1', [PLATFORM]);
    expect(row.rows[0].password_enc).toMatch(/^v1\./);
    expect(row.rows[0].password_enc).not.toContain(PASSWORD);
  });

  it('refuses wrong passwords and unknown device IDs, with a log line and a counter', async () => {
    const wrong = new GbSimDevice({ deviceId: PLATFORM, password: 'not-the-password', server: server(), channels: 0 });
    const stranger = new GbSimDevice({ deviceId: '34020000001320009999', password: PASSWORD, server: server(), channels: 0 });
    await wrong.start();
    await stranger.start();
    try {
      expect(await wrong.register()).toBe(403);
      expect(await stranger.register()).toBe(403);
      // not registered: its messages are refused too
      expect((await stranger.keepalive())).toBe(403);
    } finally {
      await wrong.stop();
      await stranger.stop();
    }
    expect(gb.counters.register_bad_password).toBeGreaterThanOrEqual(1);
    expect(gb.counters.register_unknown_device).toBeGreaterThanOrEqual(1);
    expect(gb.counters.message_unregistered).toBeGreaterThanOrEqual(1);
    expect(t.logLines.join('')).toMatch(/REGISTER refused: wrong password/);
    expect(t.logLines.join('')).not.toContain(PASSWORD);
    expect(gb.server.registrations.size).toBe(0);
  });

  it('a technician\'s edit takes effect at the next REGISTER: disabled is refused, a new password replaces the old at once', async () => {
    const id = '34020000001320000777';
    const tech = await t.cookie('technician');
    const put = (payload: object) => t.app.inject({ method: 'PUT', url: `/api/gb28181/devices/${id}`, headers: { cookie: tech }, payload });
    expect((await put({ name: '临时设备', password: 'first-pass-1' })).statusCode).toBe(200);
    const first = new GbSimDevice({ deviceId: id, password: 'first-pass-1', server: server(), channels: 0 });
    const second = new GbSimDevice({ deviceId: id, password: 'second-pass-2', server: server(), channels: 0 });
    await first.start();
    await second.start();
    try {
      expect(await first.register()).toBe(200); // its credentials are now cached
      expect(gb.server.registrations.has(id)).toBe(true);
      expect((await put({ enabled: false })).statusCode).toBe(200);
      await vi.waitFor(() => expect(gb.server.registrations.has(id)).toBe(false)); // dropped at once, offline on the consoles
      expect(await first.register()).toBe(403);
      expect((await put({ enabled: true, password: 'second-pass-2' })).statusCode).toBe(200);
      expect(await first.register()).toBe(403);
      expect(await second.register()).toBe(200);
      expect((await t.app.inject({ method: 'DELETE', url: `/api/gb28181/devices/${id}`, headers: { cookie: tech } })).statusCode).toBe(204);
      expect(await second.register()).toBe(403);
    } finally {
      await first.stop();
      await second.stop();
    }
    expect(gb.server.registrations.has(id)).toBe(false);
  });

  it('registers a lower platform (digest), reads its info and its paged GB2312 catalog into gb_channels', async () => {
    platform = new GbSimDevice({ deviceId: PLATFORM, password: PASSWORD, server: server(), channels: 23, mode: 'platform', h264File: h264, pageSize: 4, keepaliveMs: 400 });
    await platform.start();
    expect(await platform.register()).toBe(200);
    platform.startKeepalive();
    const tech = await t.cookie('technician');
    await expect.poll(async () => (await t.app.inject({ url: `/api/gb28181/channels?deviceId=${PLATFORM}&limit=1000`, headers: { cookie: tech } })).json().total, { timeout: 20_000 }).toBe(25);
    const devs = (await t.app.inject({ url: '/api/gb28181/devices', headers: { cookie: tech } })).json().items;
    expect(devs[0]).toMatchObject({ deviceId: PLATFORM, online: true, transport: 'udp', edition: '2016', catalogSum: 25, model: 'SIM-PLATFORM' });
    const cams = (await t.app.inject({ url: `/api/gb28181/channels?deviceId=${PLATFORM}&kind=camera&limit=1000`, headers: { cookie: tech } })).json();
    expect(cams.total).toBe(23);
    expect(cams.items[0]).toMatchObject({ channelId: platform.channels[0].id, name: platform.channels[0].name, civilCode: '340200', ptzType: 1, cameraId: null });
    expect(cams.items[0].lng).toBeCloseTo(117, 3);
    const civil = (await t.app.inject({ url: `/api/gb28181/channels?deviceId=${PLATFORM}&kind=civil`, headers: { cookie: tech } })).json();
    expect(civil.items[0]).toMatchObject({ channelId: '340200', name: '模拟区 Sim district' });
    expect(messages.some((m) => m.topic === 'gb.device' && (m.payload as { online: boolean }).online)).toBe(true);
    // device info / status asked on demand
    const info = await t.app.inject({ url: `/api/gb28181/devices/${PLATFORM}/info`, headers: { cookie: tech } });
    expect(info.statusCode, info.body).toBe(200);
    expect(info.json()).toMatchObject({ info: { manufacturer: 'StreetEye', channels: 23 }, status: { online: 'ONLINE', status: 'OK' } });
  });

  let cameraId: string;
  it('a technician approves channels: cameras with the 20-digit IDs, district from the civil code, one transaction', async () => {
    const tech = await t.cookie('technician');
    const ids = platform.channels.slice(0, 2).map((c) => c.id);
    // a region item cannot become a camera, and nothing of the request is written
    const refused = await t.app.inject({ method: 'POST', url: '/api/gb28181/channels/approve', headers: { cookie: tech }, payload: { deviceId: PLATFORM, channelIds: [...ids, `${PLATFORM.slice(0, 10)}21500000001`] } });
    expect(refused.statusCode).toBe(400);
    const unknown = await t.app.inject({ method: 'POST', url: '/api/gb28181/channels/approve', headers: { cookie: tech }, payload: { deviceId: PLATFORM, channelIds: [...ids, '34020000001319999999'] } });
    expect(unknown.statusCode).toBe(404);
    expect((await t.db.query('SELECT 1 FROM cameras')).rows.length).toBe(0);
    expect((await t.app.inject({ method: 'POST', url: '/api/gb28181/channels/approve', headers: { cookie: await t.cookie('operator') }, payload: { deviceId: PLATFORM, channelIds: ids } })).statusCode).toBe(403);
    const ok = await t.app.inject({ method: 'POST', url: '/api/gb28181/channels/approve', headers: { cookie: tech }, payload: { deviceId: PLATFORM, channelIds: ids, sharing: 'shared' } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ created: 2, linked: 0 });
    cameraId = ok.json().cameras[0].cameraId;
    const cam = (await t.app.inject({ url: `/api/cameras/${cameraId}`, headers: { cookie: await t.cookie('operator') } })).json();
    expect(cam).toMatchObject({ nationalId: ids[0], name: platform.channels[0].name, district: '模拟区 Sim district', sharing: 'shared', status: 'reachable' });
    // approving again changes nothing
    expect((await t.app.inject({ method: 'POST', url: '/api/gb28181/channels/approve', headers: { cookie: tech }, payload: { deviceId: PLATFORM, channelIds: ids } })).json()).toMatchObject({ created: 0, linked: 0 });
    const audit = await t.db.query(`SELECT 1 FROM audit_log WHERE action = 'gb28181.approve'`);
    expect(audit.rows.length).toBe(1);
  });

  it('plays live: one INVITE, PS over RTP demuxed into the session pipeline, LL-HLS parts that ffprobe reads as H.264', async () => {
    const op = await t.cookie('operator');
    const res = await t.app.inject({ url: `/api/cameras/${cameraId}/live`, headers: { cookie: op } });
    expect(res.statusCode, res.body).toBe(200);
    const { url } = res.json() as { url: string };
    // a second viewer on the same camera rides the same INVITE
    await t.app.inject({ url: `/api/cameras/${cameraId}/live`, headers: { cookie: await t.cookie('admin') } });
    const pl = await t.app.inject({ url });
    expect(pl.statusCode, pl.body).toBe(200);
    const p = new Parser();
    p.push(pl.body);
    p.end();
    const parts = [...p.manifest.segments.flatMap((s: { parts?: unknown[] }) => s.parts ?? []), ...(p.manifest.preloadSegment?.parts ?? [])] as { uri: string }[];
    expect(parts.length).toBeGreaterThan(0);
    const dir = url.replace(/index\.m3u8$/, '');
    const init = await t.app.inject({ url: dir + 'init0.mp4' });
    expect(init.statusCode).toBe(200);
    const bodies = [init.rawPayload];
    for (const part of parts.slice(0, 6)) {
      const r = await t.app.inject({ url: dir + part.uri });
      expect(r.statusCode).toBe(200);
      bodies.push(r.rawPayload);
    }
    const file = join(tmpdir(), `gb-live-${process.pid}.mp4`);
    writeFileSync(file, Buffer.concat(bodies));
    const probe = await run(resolveFfprobe(), ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file]);
    expect(probe.code, probe.stderr).toBe(0);
    const stream = JSON.parse(probe.stdout.toString()).streams[0];
    expect(stream).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    expect(Number(stream.nb_read_frames)).toBeGreaterThan(0);
    expect(platform.invites).toBe(1);
    expect(gb.streams()).toHaveLength(1);
    expect(gb.streams()[0].packets).toBeGreaterThan(0);
    expect(messages.some((m) => m.topic === 'camera.state' && m.cameraId === cameraId && (m.payload as { state: string }).state === 'live')).toBe(true);
  });

  it('steers a GB dome through the PTZ API (DeviceControl PTZCmd, presets, dead man\'s stop), locked and audited', async () => {
    const op = await t.cookie('operator');
    const info = await t.app.inject({ url: `/api/cameras/${cameraId}/ptz`, headers: { cookie: op } });
    expect(info.statusCode, info.body).toBe(200);
    expect(info.json()).toMatchObject({ available: true, presets: [{ token: '1', name: '东门 East gate' }, { token: '2', name: '路口 Crossing' }] });
    const mv = await t.app.inject({ method: 'POST', url: `/api/cameras/${cameraId}/ptz/move`, headers: { cookie: op }, payload: { pan: 1, tilt: 0, zoom: 0, timeoutMs: 300 } });
    expect(mv.statusCode, mv.body).toBeLessThan(300);
    await expect.poll(() => platform.ptzCommands.map((c) => parsePtzCmd(c.cmd)?.instruction), { timeout: 10_000 }).toEqual([0x01, 0x00]);
    expect(platform.ptzCommands[0]).toMatchObject({ channelId: platform.channels[0].id });
    expect(parsePtzCmd(platform.ptzCommands[0].cmd)?.b5).toBe(255);
    const pre = await t.app.inject({ method: 'POST', url: `/api/cameras/${cameraId}/ptz/preset`, headers: { cookie: op }, payload: { token: '2' } });
    expect(pre.statusCode, pre.body).toBeLessThan(300);
    await expect.poll(() => platform.ptzCommands.length, { timeout: 10_000 }).toBe(3);
    expect(parsePtzCmd(platform.ptzCommands[2].cmd)).toMatchObject({ instruction: 0x82, b6: 2 });
    // the police outrank the center: they take the controls, and the operator is refused while they hold them
    expect((await t.app.inject({ method: 'POST', url: `/api/cameras/${cameraId}/ptz/stop`, headers: { cookie: await t.cookie('police110') } })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'POST', url: `/api/cameras/${cameraId}/ptz/stop`, headers: { cookie: op } })).statusCode).toBe(409);
    expect((await t.db.query(`SELECT username FROM audit_log WHERE action = 'ptz.control' AND target_id = $1 ORDER BY id`, [cameraId])).rows).toEqual([{ username: 'operator' }, { username: 'police110' }]);
    // a fixed channel (PTZType 3) has none
    const fixed = (await t.db.query<{ id: string }>('SELECT id FROM cameras WHERE national_id = $1', [platform.channels[1].id])).rows[0].id;
    expect((await t.app.inject({ url: `/api/cameras/${fixed}/ptz`, headers: { cookie: op } })).json()).toMatchObject({ available: false });
  });

  it('records GB alarms as camera alarm rows and pushes them to the wall', async () => {
    const ch = platform.channels[0].id;
    expect((await platform.alarm(ch, { method: 5, type: 2, description: '移动侦测' })).status).toBe(200);
    await expect.poll(async () => (await t.db.query<{ kind: string }>('SELECT kind FROM camera_alarms WHERE camera_id = $1', [cameraId])).rows.map((r) => r.kind), { timeout: 10_000 }).toEqual(['motion']);
    expect(messages.some((m) => m.topic === 'camera.alarm' && m.cameraId === cameraId)).toBe(true);
  });

  it('applies catalog NOTIFY events: OFF marks the camera offline, ON brings it back, DEL removes the channel', async () => {
    const [a, b] = platform.channels;
    await platform.catalogEvent('OFF', [a.id]);
    await expect.poll(async () => (await t.db.query<{ status: string }>('SELECT status FROM cameras WHERE id = $1', [cameraId])).rows[0].status, { timeout: 10_000 }).toBe('offline');
    await platform.catalogEvent('ON', [a.id]);
    await expect.poll(async () => (await t.db.query<{ status: string }>('SELECT status FROM gb_channels WHERE channel_id = $1', [a.id])).rows[0].status, { timeout: 10_000 }).toBe('ON');
    await platform.catalogEvent('DEL', [platform.channels[22].id]);
    await expect.poll(async () => (await t.db.query<{ removed: boolean }>('SELECT removed FROM gb_channels WHERE channel_id = $1', [platform.channels[22].id])).rows[0].removed, { timeout: 10_000 }).toBe(true);
    void b;
  });

  it('refuses malformed and hostile MANSCDP bodies with 400 and counts them; the device stays registered', async () => {
    const before = gb.counters.manscdp_malformed ?? 0;
    for (const body of [
      Buffer.from('<?xml version="1.0"?><Notify><CmdType>Keepalive</CmdType>'),
      Buffer.from(`<Notify>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</Notify>`),
      Buffer.from('<!DOCTYPE x [<!ENTITY e "boom">]><Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>&e;</DeviceID></Notify>'),
      Buffer.from([0xff, 0xfe, 0x00, 0x3c, 0x00]),
    ]) expect((await platform.sendRawMessage(body)).status).toBe(400);
    expect(gb.counters.manscdp_malformed - before).toBe(4);
    expect(gb.server.isOnline(PLATFORM)).toBe(true);
  });

  it('refuses an INVITE answer whose SSRC does not match (BYE, counter), and plays again when the device behaves', async () => {
    const cam2 = (await t.db.query<{ id: string }>('SELECT id FROM cameras WHERE national_id = $1', [platform.channels[1].id])).rows[0].id;
    platform.faults.answerSsrc = '0999999999';
    const before = gb.counters.invite_ssrc_mismatch ?? 0;
    const { url } = (await t.app.inject({ url: `/api/cameras/${cam2}/live`, headers: { cookie: await t.cookie('operator') } })).json() as { url: string };
    await expect.poll(() => gb.counters.invite_ssrc_mismatch ?? 0, { timeout: 15_000 }).toBeGreaterThan(before);
    expect(t.logLines.join('')).toMatch(/SSRC does not match/);
    await expect.poll(() => [...platform.streams.values()].filter((s) => s.channelId === platform.channels[1].id).length, { timeout: 10_000 }).toBe(0); // BYE'd
    platform.faults.answerSsrc = undefined;
    const pl = await t.app.inject({ url });
    expect(pl.statusCode).toBe(200);
  });

  it('plays over TCP too: passive (the device connects to us) and active (we connect to the device)', async () => {
    const tech = await t.cookie('technician');
    const op = await t.cookie('operator');
    const ids = [platform.channels[2].id, platform.channels[3].id, platform.channels[4].id];
    const ok = await t.app.inject({ method: 'POST', url: '/api/gb28181/channels/approve', headers: { cookie: tech }, payload: { deviceId: PLATFORM, channelIds: ids, sharing: 'shared' } });
    expect(ok.statusCode, ok.body).toBe(200);
    const camOf = (ch: string) => (ok.json() as { cameras: Array<{ channelId: string; cameraId: string }> }).cameras.find((c) => c.channelId === ch)!.cameraId;
    try {
      for (const [ch, mode] of [[ids[0], 'tcp-passive'], [ids[1], 'tcp-active']] as const) {
        gb.settings.mediaTransport = mode;
        const { url } = (await t.app.inject({ url: `/api/cameras/${camOf(ch)}/live`, headers: { cookie: op } })).json() as { url: string };
        const pl = await t.app.inject({ url });
        expect(pl.statusCode, `${mode}: ${pl.body}`).toBe(200);
        expect(pl.body).toContain('#EXT-X-PART');
        expect(gb.streams().find((s) => s.channelId === ch)?.packets).toBeGreaterThan(0);
      }
    } finally {
      gb.settings.mediaTransport = 'udp';
    }
    // RTP from an address the device's answer did not name is dropped (log line, counter), never played
    platform.faults.rtpFromAddress = '127.0.0.2';
    try {
      await t.app.inject({ url: `/api/cameras/${camOf(ids[2])}/live`, headers: { cookie: op } });
      await expect.poll(() => gb.counters.rtp_dropped_address ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);
      expect(gb.streams().find((s) => s.channelId === ids[2])?.packets ?? 0).toBe(0);
      expect(t.logLines.join('')).toMatch(/unexpected sender address/);
    } finally {
      platform.faults.rtpFromAddress = undefined;
    }
  });

  it('marks the platform and its cameras offline when keepalives stop, and online again when they resume', async () => {
    platform.stopKeepalive();
    await expect.poll(async () => (await t.db.query<{ online: boolean }>('SELECT online FROM gb_devices WHERE device_id = $1', [PLATFORM])).rows[0].online, { timeout: 15_000 }).toBe(false);
    await expect.poll(async () => (await t.db.query<{ status: string }>('SELECT status FROM cameras WHERE id = $1', [cameraId])).rows[0].status, { timeout: 10_000 }).toBe('offline');
    expect(gb.counters.keepalive_missed).toBeGreaterThanOrEqual(1);
    expect(messages.some((m) => m.topic === 'gb.device' && !(m.payload as { online: boolean }).online)).toBe(true);
    platform.startKeepalive();
    await expect.poll(async () => (await t.db.query<{ online: boolean }>('SELECT online FROM gb_devices WHERE device_id = $1', [PLATFORM])).rows[0].online, { timeout: 15_000 }).toBe(true);
  });

  it('registers a device over TCP (2022 edition) and unregisters it with Expires: 0', async () => {
    const tech = await t.cookie('technician');
    expect((await t.app.inject({ method: 'PUT', url: `/api/gb28181/devices/${DEVICE}`, headers: { cookie: tech }, payload: { password: 'nvr-pass-678' } })).statusCode).toBe(200);
    const nvr = new GbSimDevice({ deviceId: DEVICE, password: 'nvr-pass-678', server: server(), channels: 3, transport: 'tcp', edition: '2022', charset: 'utf8' });
    await nvr.start();
    try {
      expect(await nvr.register()).toBe(200);
      await expect.poll(async () => (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM gb_channels WHERE device_id = $1', [DEVICE])).rows[0].n, { timeout: 15_000 }).toBe(3);
      const d = (await t.db.query<{ transport: string; edition: string; online: boolean }>('SELECT transport, edition, online FROM gb_devices WHERE device_id = $1', [DEVICE])).rows[0];
      expect(d).toEqual({ transport: 'tcp', edition: '2022', online: true });
      expect(await nvr.register(0)).toBe(200);
      await expect.poll(async () => (await t.db.query<{ online: boolean }>('SELECT online FROM gb_devices WHERE device_id = $1', [DEVICE])).rows[0].online, { timeout: 10_000 }).toBe(false);
      expect(gb.server.registrations.has(DEVICE)).toBe(false);
    } finally {
      await nvr.stop();
    }
  });

  it('exposes its counters as Prometheus metrics', async () => {
    const m = await t.app.inject({ url: '/metrics' });
    expect(m.body).toMatch(/streeteye_gb28181_events_total\{event="register_bad_password"\} [1-9]/);
    expect(m.body).toMatch(/streeteye_gb28181_devices_online 1/);
  });
});
