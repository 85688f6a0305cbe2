import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createTestApp, type TestApp } from '../../test/app.js';
import { fragmentedMp4, h264Loop, run } from '../../ingest/test-fixtures.js';
import { resolveFfmpeg, resolveFfprobe } from '../../media-tools/ffmpeg-path.js';
import { fragmentUnits, readTrackConfig } from '../../gb28181/fmp4-units.js';
import { PsDemuxer, muxPsFrame, type AccessUnit } from '../../gb28181/ps.js';
import { GbError } from '../../gb28181/server.js';
import { startSimulator } from '../../simulator/index.js';
import { GbSimDevice } from '../../simulator/gb-device.js';
import { GbCascade, cascadeSettingsFromEnv } from './cascade.js';
import type { GbService } from './service.js';
import type { NodeContext } from '../node.js';

// StreetEye as a lower platform (级联): the PS muxer (fMP4 access units → PS, round trip through the demuxer,
// ffprobe reads it), strict config, and end to end with StreetEye's own GB server as the upper platform: our lower
// platform client registers (digest), the upper imports its catalog (shared cameras only), INVITEs (UDP, TCP
// passive, TCP active) and gets PS that ffprobe decodes.

async function probePs(ps: Buffer, name: string): Promise<{ codec_name: string; width: number; height: number; nb_read_frames: string }> {
  const file = join(tmpdir(), `gb-${name}-${process.pid}.ps`);
  writeFileSync(file, ps);
  const probe = await run(resolveFfprobe(), ['-v', 'error', '-f', 'mpeg', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file]);
  expect(probe.code, probe.stderr).toBe(0);
  return JSON.parse(probe.stdout.toString()).streams[0];
}

async function h265Mp4(): Promise<string> {
  const dir = join(tmpdir(), 'streeteye-gb-fixtures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'loop-320x240-10fps-h265.mp4');
  if (existsSync(file)) return file;
  const r = await run(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:d=3',
    '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'bframes=0:keyint=10:min-keyint=10:log-level=error', '-pix_fmt', 'yuv420p', '-tag:v', 'hvc1', file]);
  if (r.code !== 0) throw new Error(r.stderr);
  return file;
}

describe('PS muxer: the session\'s fMP4 access units into MPEG-PS', () => {
  for (const codec of ['h264', 'h265'] as const) {
    it(`${codec}: round trip through the PS demuxer is lossless, and ffprobe reads the PS`, async () => {
      const src = codec === 'h264' ? await h264Loop() : await h265Mp4();
      const fmp4 = await fragmentedMp4(src);
      const moof = fmp4.indexOf('moof') - 4;
      const cfg = readTrackConfig(fmp4.subarray(0, moof));
      expect(cfg).toMatchObject({ codec, timescale: expect.any(Number), lengthSize: 4 });
      // H.264: SPS, PPS; H.265: VPS, SPS, PPS (and the SEI x265 stores in hvcC)
      expect(cfg!.parameterSets.length).toBeGreaterThanOrEqual(codec === 'h264' ? 2 : 3);
      const units = fragmentUnits(fmp4.subarray(moof), cfg!);
      expect(units.length).toBe(codec === 'h264' ? 40 : 30);
      expect(units[0].key).toBe(true);
      expect(units.filter((u) => u.key).length).toBe(codec === 'h264' ? 4 : 3);
      // timestamps in 90 kHz ticks, rising at a steady frame interval (after the first frame), PTS = DTS without B-frames
      const steps = units.slice(1).map((u, i) => u.dts - units[i].dts);
      expect(steps.every((x) => x > 0)).toBe(true);
      expect(new Set(steps.slice(1)).size).toBe(1);
      expect(units.every((u) => u.pts === u.dts)).toBe(true);
      const ps = Buffer.concat(units.map((u) => muxPsFrame(u)));
      const back: AccessUnit[] = [];
      const d = new PsDemuxer((u) => back.push(u));
      // fed in RTP-sized chunks, as it arrives
      for (let i = 0; i < ps.length; i += 1400) d.push(ps.subarray(i, i + 1400));
      d.endOfFrame();
      expect(back.length).toBe(units.length);
      for (let i = 0; i < units.length; i++) {
        expect(back[i].codec).toBe(codec);
        expect(back[i].key).toBe(units[i].key);
        expect(back[i].pts).toBe(units[i].pts);
        expect(back[i].dts).toBe(units[i].dts);
        expect(back[i].data.equals(units[i].data)).toBe(true);
      }
      const st = await probePs(ps, codec);
      expect(st).toMatchObject({ codec_name: codec === 'h264' ? 'h264' : 'hevc', width: 320, height: 240 });
      expect(Number(st.nb_read_frames)).toBe(units.length);
    });
  }
});

describe('cascade config (GB28181_UPPER_*) is validated strictly', () => {
  const ok = { GB28181_UPPER_ID: '34010000002000000001', GB28181_UPPER_HOST: '10.1.2.3', GB28181_UPPER_PASSWORD: 'upper-pass-1' };
  const local = '34020000002000000001';
  it('off without an upper ID; defaults for the rest', () => {
    expect(cascadeSettingsFromEnv({}, local)).toBeNull();
    expect(cascadeSettingsFromEnv(ok, local)).toMatchObject({ upperId: ok.GB28181_UPPER_ID, upperRealm: '3401000000', upperPort: 5060, upperTransport: 'udp', localId: local, keepaliveS: 60, expiresS: 3600, stream: 'main' });
  });
  it.each([
    [{ GB28181_UPPER_ID: '3401' }, /20 digits/],
    [{ GB28181_UPPER_HOST: 'upper.example.com' }, /IPv4/],
    [{ GB28181_UPPER_HOST: '' }, /IPv4/],
    [{ GB28181_UPPER_PASSWORD: '123' }, /6 to 64/],
    [{ GB28181_UPPER_PORT: '70000' }, /GB28181_UPPER_PORT/],
    [{ GB28181_UPPER_PORT: '50; rm -rf /' }, /GB28181_UPPER_PORT/],
    [{ GB28181_UPPER_TRANSPORT: 'sctp' }, /udp or tcp/],
    [{ GB28181_UPPER_REALM: 'abc' }, /REALM/],
    [{ GB28181_UPPER_LOCAL_ID: '34010000002000000001' }, /differ/],
    [{ GB28181_UPPER_LOCAL_ID: '12' }, /LOCAL_ID/],
    [{ GB28181_UPPER_KEEPALIVE_S: '1' }, /KEEPALIVE/],
    [{ GB28181_UPPER_STREAM: 'third' }, /main or sub/],
  ])('refuses %o', (bad, msg) => {
    expect(() => cascadeSettingsFromEnv({ ...ok, ...bad }, local)).toThrow(msg);
  });
});

describe('StreetEye as a lower platform, with StreetEye\'s GB server as the upper', () => {
  const UPPER_ID = '34020000002000000001';
  const LOWER_ID = '34020000002000000777'; // our ID toward the upper (a platform, type 200)
  const PASSWORD = 'cascade-secret-1';
  let t: TestApp;
  let gb: GbService;
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  let cascade: GbCascade;
  const SHARED = '34020000001320000101';
  const RESTRICTED = '34020000001320000102';

  beforeAll(async () => {
    sim = await startSimulator({ cameras: 2, dataDir: join(tmpdir(), 'streeteye-sim-test-cache'), labelledCameras: 0, logger: pino({ level: 'warn' }) });
    t = await createTestApp({
      node: {
        gb: {
          serverId: UPPER_ID, realm: '3402000000', sipHost: '127.0.0.1', sipPort: 0, advertiseHost: '127.0.0.1',
          password: undefined, acceptNew: false, keepaliveTimeoutMs: 30_000, mediaTransport: 'udp', rtpPorts: [0, 0], inviteTimeoutMs: 5000,
        },
      },
    });
    gb = t.ctx.gb;
    await gb.start();
    const tech = await t.cookie('technician');
    for (const [i, nid] of [SHARED, RESTRICTED].entries()) {
      const c = sim.cameras()[i];
      const res = await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: tech }, payload: { name: `级联 ${i}`, nationalId: nid, rtspMain: c.rtspMain, rtspSub: c.rtspSub, username: c.username, password: c.password } });
      expect(res.statusCode, res.body).toBe(201);
    }
    await t.db.query(`UPDATE cameras SET sharing = CASE national_id WHEN $1 THEN 'shared' ELSE 'restricted' END`, [SHARED]);
    // the upper expects us, with our password
    expect((await t.app.inject({ method: 'PUT', url: `/api/gb28181/devices/${LOWER_ID}`, headers: { cookie: tech }, payload: { name: 'StreetEye 下级', password: PASSWORD } })).statusCode).toBe(200);
    const settings = cascadeSettingsFromEnv({ GB28181_UPPER_ID: UPPER_ID, GB28181_UPPER_HOST: '127.0.0.1', GB28181_UPPER_PORT: String(gb.server.port), GB28181_UPPER_PASSWORD: PASSWORD, GB28181_UPPER_LOCAL_ID: LOWER_ID, GB28181_UPPER_KEEPALIVE_S: '5', GB28181_UPPER_STREAM: 'sub' }, UPPER_ID)!;
    cascade = new GbCascade(t.ctx, settings, { manager: (t.ctx as unknown as NodeContext).ingest.manager, advertiseHost: '127.0.0.1', bindHost: '127.0.0.1' });
    await cascade.start();
  }, 60_000);
  afterAll(async () => {
    await cascade?.stop();
    await gb?.stop();
    await t?.close();
    await sim?.stop();
  });

  it('registers to the upper with digest; the upper imports its catalog: the shared camera only', async () => {
    await vi.waitFor(() => expect(cascade.client.registered).toBe(true), { timeout: 15_000, interval: 100 });
    expect(cascade.client.counters.register_ok).toBe(1);
    expect(gb.server.registrations.has(LOWER_ID)).toBe(true);
    const tech = await t.cookie('technician');
    await vi.waitFor(async () => {
      const r = (await t.app.inject({ url: `/api/gb28181/channels?deviceId=${LOWER_ID}`, headers: { cookie: tech } })).json();
      expect(r.items.map((i: { channelId: string }) => i.channelId)).toEqual([SHARED]);
    }, { timeout: 20_000, interval: 200 });
    expect(cascade.client.counters.catalog_query).toBeGreaterThanOrEqual(1);
    const dev = (await t.app.inject({ url: '/api/gb28181/devices', headers: { cookie: tech } })).json().items.find((d: { deviceId: string }) => d.deviceId === LOWER_ID);
    expect(dev).toMatchObject({ online: true, model: 'StreetEye platform' });
    expect(await cascade.client.keepalive()).toBe(true);
  }, 40_000);

  for (const transport of ['udp', 'tcp-passive', 'tcp-active'] as const) {
    it(`the upper INVITEs (${transport}) and gets PS over RTP of the camera's session, which ffprobe decodes`, async () => {
      gb.settings.mediaTransport = transport;
      const feed = await gb.pipeSource(LOWER_ID, SHARED).open();
      const chunks: Buffer[] = [];
      let bytes = 0;
      feed.readable.on('data', (c: Buffer) => { chunks.push(c); bytes += c.length; });
      try {
        await vi.waitFor(() => expect(bytes).toBeGreaterThan(60_000), { timeout: 30_000, interval: 200 });
      } finally {
        await feed.close();
      }
      expect(cascade.client.streamCount).toBe(0); // BYE stopped it
      const st = await probePs(Buffer.concat(chunks), `cascade-${transport}`);
      expect(st.codec_name).toBe('h264');
      expect(Number(st.nb_read_frames)).toBeGreaterThan(5);
      expect(st.width).toBeGreaterThan(0);
    }, 45_000);
  }

  it('refuses an INVITE for a restricted camera (404) and requests from anyone but the upper (403)', async () => {
    gb.settings.mediaTransport = 'udp';
    const err = await gb.server.invite(LOWER_ID, RESTRICTED, 'v=0\r\no=x 0 0 IN IP4 127.0.0.1\r\ns=Play\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\ny=0200000001\r\n', '0200000001', 4000).catch((e) => e);
    expect(err).toBeInstanceOf(GbError);
    expect((err as Error).message).toMatch(/404/);
    expect(cascade.client.counters.invite_unknown_channel).toBeGreaterThanOrEqual(1);
    const stranger = new GbSimDevice({ deviceId: '34020000001320009999', password: 'x-123456', server: { host: '127.0.0.1', port: cascade.client.transport.port, id: LOWER_ID, realm: '3402000000' }, channels: 0 });
    await stranger.start();
    try {
      expect(await stranger.keepalive()).toBe(403);
    } finally {
      await stranger.stop();
    }
    expect(cascade.client.counters.refused_not_upper).toBe(1);
  }, 20_000);
});
