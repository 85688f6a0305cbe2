import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { createTestApp, type TestApp } from '../../test/app.js';
import { h264Loop, run } from '../../ingest/test-fixtures.js';
import { resolveFfprobe } from '../../media-tools/ffmpeg-path.js';
import { GbSimDevice } from '../../simulator/gb-device.js';
import { buildMansrtsp, fromGbTime, mergeRecordSpans, parseMansrtsp, readRecordList, toGbTime } from '../../gb28181/record-info.js';
import { parseManscdp, buildManscdp } from '../../gb28181/manscdp.js';
import type { GbService } from './service.js';

// Playback of a GB device's own recordings against the simulated NVR: RecordInfo (paged) → timeline spans;
// INVITE s=Playback with a time range → PS over RTP → HLS (fMP4) that ffprobe reads; speed via INFO MANSRTSP
// (PLAY Scale) acknowledged by the device; MediaStatus 121 at the end of the range → BYE and a complete playlist.

const SERVER_ID = '34020000002000000001';
const NVR = '34020000001180000042';
const PASSWORD = 'gb-secret-12345';

describe('GB/T 28181 playback: MANSCDP RecordInfo and MANSRTSP', () => {
  it('reads paged RecordInfo items in Beijing time and merges them into spans', () => {
    expect(toGbTime(Date.parse('2026-12-02T00:00:00Z'))).toBe('2026-12-02T08:00:00');
    expect(fromGbTime('2026-12-02T08:00:00')).toBe(Date.parse('2026-12-02T00:00:00Z'));
    expect(fromGbTime('2026-12-02 08:00:00')).toBe(Date.parse('2026-12-02T00:00:00Z'));
    expect(fromGbTime('yesterday')).toBeNaN();
    const body = buildManscdp('Response', {
      CmdType: 'RecordInfo', SN: 7, DeviceID: '34020000001320000001', SumNum: 3,
      RecordList: [
        { DeviceID: '34020000001320000001', StartTime: '2026-12-02T08:00:00', EndTime: '2026-12-02T08:30:00', Type: 'time', FileSize: 100 },
        { DeviceID: '34020000001320000001', StartTime: '2026-12-02T08:30:01', EndTime: '2026-12-02T09:00:00', Type: 'time' },
        { DeviceID: '34020000001320000001', StartTime: '2026-12-02T10:00:00', EndTime: '2026-12-02T09:00:00' }, // ends before it starts
      ],
    });
    const page = readRecordList(parseManscdp(body).el);
    expect(page.sumNum).toBe(3);
    expect(page.invalid).toBe(1);
    expect(page.items).toHaveLength(2);
    expect(page.items[0]).toMatchObject({ channelId: '34020000001320000001', type: 'time', fileSize: 100 });
    expect(mergeRecordSpans(page.items)).toEqual([{ startMs: Date.parse('2026-12-02T00:00:00Z'), endMs: Date.parse('2026-12-02T01:00:00Z') }]);
  });

  it('writes and reads MANSRTSP PLAY (Scale), PAUSE; refuses what is none', () => {
    const play = buildMansrtsp({ method: 'PLAY', scale: 4 }, 3);
    expect(play).toBe('PLAY MANSRTSP/1.0\r\nCSeq: 3\r\nScale: 4\r\nRange: npt=now-\r\n\r\n');
    expect(parseMansrtsp(play)).toEqual({ method: 'PLAY', cseq: 3, scale: 4, rangeS: undefined });
    expect(parseMansrtsp(buildMansrtsp({ method: 'PLAY', rangeS: 120 }, 4))).toMatchObject({ method: 'PLAY', rangeS: 120 });
    expect(parseMansrtsp(buildMansrtsp({ method: 'PAUSE' }, 5))).toEqual({ method: 'PAUSE', cseq: 5 });
    expect(parseMansrtsp('GET / HTTP/1.1\r\n\r\n')).toBeUndefined();
    expect(parseMansrtsp('PLAY MANSRTSP/1.0\r\nCSeq: x\r\n\r\n')).toBeUndefined();
    expect(parseMansrtsp('PLAY MANSRTSP/1.0\r\nCSeq: 1\r\nScale: 1e9\r\n\r\n')).toBeUndefined();
  });
});

describe('GB/T 28181 playback end to end (simulated NVR)', () => {
  let t: TestApp;
  let gb: GbService;
  let nvr: GbSimDevice;
  let cameraId: string;
  let restrictedId: string;
  const now = Date.now();
  // one recording 30 s long that ends 2 minutes ago; another one an hour ago
  const rec = [{ startMs: now - 3600_000, endMs: now - 3000_000 }, { startMs: now - 150_000, endMs: now - 120_000 }];

  beforeAll(async () => {
    const h264 = await h264Loop();
    t = await createTestApp({
      node: {
        gb: {
          serverId: SERVER_ID, realm: '3402000000', sipHost: '127.0.0.1', sipPort: 0, advertiseHost: '127.0.0.1',
          password: undefined, acceptNew: false, keepaliveTimeoutMs: 30_000, mediaTransport: 'udp', rtpPorts: [0, 0], inviteTimeoutMs: 4000,
        },
      },
    });
    gb = t.ctx.gb;
    await gb.start();
    const tech = await t.cookie('technician');
    expect((await t.app.inject({ method: 'PUT', url: `/api/gb28181/devices/${NVR}`, headers: { cookie: tech }, payload: { password: PASSWORD } })).statusCode).toBe(200);
    nvr = new GbSimDevice({ deviceId: NVR, password: PASSWORD, server: { host: '127.0.0.1', port: gb.server.port, id: SERVER_ID, realm: '3402000000' }, channels: 2, h264File: h264, pageSize: 1, recordings: rec, fps: 10 });
    await nvr.start();
    expect(await nvr.register()).toBe(200);
    await vi.waitFor(async () => expect((await t.app.inject({ url: `/api/gb28181/channels?deviceId=${NVR}&kind=camera`, headers: { cookie: tech } })).json().total).toBe(2), { timeout: 20_000, interval: 200 });
    const ok = await t.app.inject({ method: 'POST', url: '/api/gb28181/channels/approve', headers: { cookie: tech }, payload: { deviceId: NVR, channelIds: [nvr.channels[0].id], sharing: 'shared' } });
    expect(ok.statusCode, ok.body).toBe(200);
    cameraId = ok.json().cameras[0].cameraId;
    const r = await t.app.inject({ method: 'POST', url: '/api/gb28181/channels/approve', headers: { cookie: tech }, payload: { deviceId: NVR, channelIds: [nvr.channels[1].id], sharing: 'restricted' } });
    restrictedId = r.json().cameras[0].cameraId;
  }, 60_000);
  afterAll(async () => {
    await nvr?.stop();
    await gb?.stop();
    await t?.close();
  });

  it('lists the channel\'s recordings (RecordInfo, one item per page) as spans; restricted cameras and bad ranges refused', async () => {
    const op = await t.cookie('operator');
    const res = await t.app.inject({ url: `/api/gb28181/cameras/${cameraId}/recordings?from=${now - 2 * 3600_000}&to=${now}`, headers: { cookie: op } });
    expect(res.statusCode, res.body).toBe(200);
    const spans = res.json().spans as Array<{ from: string; to: string; source: string }>;
    expect(spans).toHaveLength(2);
    // GB times have one-second resolution
    expect(Math.abs(Date.parse(spans[1].from) - rec[1].startMs)).toBeLessThan(1000);
    expect(Math.abs(Date.parse(spans[1].to) - rec[1].endMs)).toBeLessThan(1000);
    expect(spans[0].source).toBe('gb28181');
    // a range with nothing recorded: SumNum 0 → no spans
    const none = await t.app.inject({ url: `/api/gb28181/cameras/${cameraId}/recordings?from=${now - 100_000}&to=${now}`, headers: { cookie: op } });
    expect(none.json().spans).toEqual([]);
    // restricted to the operator: 404, as for any restricted camera; the police see it
    expect((await t.app.inject({ url: `/api/gb28181/cameras/${restrictedId}/recordings`, headers: { cookie: op } })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/gb28181/cameras/${restrictedId}/recordings`, headers: { cookie: await t.cookie('police110') } })).statusCode).toBe(200);
    const bad = await t.app.inject({ url: `/api/gb28181/cameras/${cameraId}/recordings?from=tomorrow`, headers: { cookie: op } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ zh: '时间格式错误' });
    expect((await t.app.inject({ url: `/api/gb28181/cameras/${cameraId}/recordings`, headers: { cookie: await t.cookie('technician') } })).statusCode).toBe(403);
  });

  it('plays a range back: INVITE s=Playback, speed by INFO (acknowledged), HLS that ffprobe reads, BYE at the end of the range', async () => {
    const op = await t.cookie('operator');
    const from = rec[1].startMs + 2000;
    const to = from + 6000;
    const res = await t.app.inject({ method: 'POST', url: `/api/gb28181/cameras/${cameraId}/playback`, headers: { cookie: op }, payload: { from: String(from), to: String(to) } });
    expect(res.statusCode, res.body).toBe(200);
    const { url, sessionId } = res.json() as { url: string; sessionId: string };
    expect(nvr.streams.size).toBe(1);
    const stream = [...nvr.streams.values()][0];
    expect(stream.playback).toMatchObject({ startMs: Math.floor(from / 1000) * 1000, endMs: Math.ceil(to / 1000) * 1000 });
    // speed ×2 (INFO, MANSRTSP PLAY Scale: 2), acknowledged with 200
    const sp = await t.app.inject({ method: 'POST', url: `/api/gb28181/playback/${sessionId}/control`, headers: { cookie: op }, payload: { action: 'speed', rate: 2 } });
    expect(sp.statusCode, sp.body).toBe(200);
    expect(sp.json()).toMatchObject({ rate: 2, paused: false });
    expect(nvr.playbackCommands).toContainEqual({ channelId: nvr.channels[0].id, method: 'PLAY', scale: 2 });
    expect(stream.playback?.scale).toBe(2);
    expect(gb.counters.playback_control).toBeGreaterThanOrEqual(1);
    expect((await t.app.inject({ method: 'POST', url: `/api/gb28181/playback/${sessionId}/control`, headers: { cookie: op }, payload: { action: 'speed', rate: 3 } })).statusCode).toBe(400);
    // the device says the range is over (MediaStatus 121): BYE, the playlist ends
    await expect.poll(() => nvr.mediaEnds, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => nvr.streams.size, { timeout: 10_000 }).toBe(0);
    let text = '';
    await expect.poll(async () => {
      const pl = await t.app.inject({ url });
      text = pl.body;
      return pl.statusCode === 200 && text.includes('#EXT-X-ENDLIST');
    }, { timeout: 15_000 }).toBe(true);
    const p = new Parser();
    p.push(text);
    p.end();
    const segs = p.manifest.segments as Array<{ uri: string; duration: number; map?: { uri: string } }>;
    expect(segs.length).toBeGreaterThan(0);
    const dir = url.replace(/index\.m3u8$/, '');
    const bodies = [(await t.app.inject({ url: dir + (segs[0].map?.uri ?? 'init.mp4') })).rawPayload];
    for (const s of segs) {
      const r = await t.app.inject({ url: dir + s.uri });
      expect(r.statusCode).toBe(200);
      bodies.push(r.rawPayload);
    }
    const file = join(tmpdir(), `gb-playback-${process.pid}.mp4`);
    writeFileSync(file, Buffer.concat(bodies));
    const probe = await run(resolveFfprobe(), ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file]);
    expect(probe.code, probe.stderr).toBe(0);
    const st = JSON.parse(probe.stdout.toString()).streams[0];
    expect(st).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    // 6 s of recording at 10 frames/s (the range is cut on whole seconds)
    expect(Number(st.nb_read_frames)).toBeGreaterThanOrEqual(50);
    expect(Number(st.nb_read_frames)).toBeLessThanOrEqual(80);
    // a URL is good for its session only; a forged token is refused; the audit has the range
    expect((await t.app.inject({ url: url.replace(/\/[^/]+\/index\.m3u8$/, '/0.x.y/index.m3u8') })).statusCode).toBe(403);
    const audit = await t.db.query(`SELECT detail FROM audit_log WHERE action = 'playback.view' AND target_id = $1`, [cameraId]);
    expect(audit.rows[0].detail).toMatchObject({ source: 'gb28181' });
    expect((await t.app.inject({ method: 'DELETE', url: `/api/gb28181/playback/${sessionId}`, headers: { cookie: op } })).statusCode).toBe(204);
    expect((await t.app.inject({ url })).statusCode).toBe(404);
  }, 60_000);

  it('the same playback API as StreetEye\'s recordings: the day\'s timeline has the GB spans, /playback falls back to the device', async () => {
    const op = await t.cookie('operator');
    const tl = await t.app.inject({ url: `/api/cameras/${cameraId}/recordings?from=${now - 2 * 3600_000}&to=${now}`, headers: { cookie: op } });
    expect(tl.statusCode, tl.body).toBe(200);
    expect(tl.json().spans.filter((s: { node: string }) => s.node === 'gb28181')).toHaveLength(2);
    const pb = await t.app.inject({ url: `/api/cameras/${cameraId}/playback?from=${rec[1].startMs}&to=${rec[1].startMs + 4000}&rate=2`, headers: { cookie: op } });
    expect(pb.statusCode, pb.body).toBe(200);
    expect(pb.json()).toMatchObject({ source: 'gb28181', rate: 2 });
    expect(nvr.playbackCommands).toContainEqual({ channelId: nvr.channels[0].id, method: 'PLAY', scale: 2 });
    expect((await t.app.inject({ method: 'DELETE', url: `/api/gb28181/playback/${pb.json().sessionId}`, headers: { cookie: op } })).statusCode).toBe(204);
    await expect.poll(() => nvr.streams.size).toBe(0);
    // nothing on the device in that range: the recording API's 404
    const none = await t.app.inject({ url: `/api/cameras/${cameraId}/playback?from=${now - 100_000}&to=${now - 90_000}`, headers: { cookie: op } });
    expect(none.statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/cameras/${restrictedId}/playback?from=${rec[1].startMs}&to=${rec[1].startMs + 4000}`, headers: { cookie: op } })).statusCode).toBe(404);
  }, 30_000);

  it('pause and resume are INFOs too; a range without recordings is a 404 from the device', async () => {
    const op = await t.cookie('operator');
    const res = await t.app.inject({ method: 'POST', url: `/api/gb28181/cameras/${cameraId}/playback`, headers: { cookie: op }, payload: { from: new Date(rec[0].startMs).toISOString(), to: new Date(rec[0].startMs + 60_000).toISOString(), rate: 4 } });
    expect(res.statusCode, res.body).toBe(200);
    const sid = res.json().sessionId as string;
    expect(nvr.playbackCommands).toContainEqual({ channelId: nvr.channels[0].id, method: 'PLAY', scale: 4 });
    expect((await t.app.inject({ method: 'POST', url: `/api/gb28181/playback/${sid}/control`, headers: { cookie: op }, payload: { action: 'pause' } })).json()).toMatchObject({ paused: true });
    expect([...nvr.streams.values()][0].playback?.paused).toBe(true);
    expect((await t.app.inject({ method: 'POST', url: `/api/gb28181/playback/${sid}/control`, headers: { cookie: op }, payload: { action: 'resume' } })).json()).toMatchObject({ paused: false });
    expect(nvr.playbackCommands.map((c) => c.method).slice(-2)).toEqual(['PAUSE', 'PLAY']);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/gb28181/playback/${sid}`, headers: { cookie: op } })).statusCode).toBe(204);
    await expect.poll(() => nvr.streams.size).toBe(0);
    const empty = await t.app.inject({ method: 'POST', url: `/api/gb28181/cameras/${cameraId}/playback`, headers: { cookie: op }, payload: { from: String(now - 100_000), to: String(now - 90_000) } });
    expect(empty.statusCode).toBe(404);
    expect(empty.json()).toMatchObject({ zh: '此时间段无录像' });
    expect((await t.app.inject({ method: 'POST', url: `/api/gb28181/cameras/${restrictedId}/playback`, headers: { cookie: op }, payload: { from: String(now - 100_000), to: String(now - 90_000) } })).statusCode).toBe(404);
  }, 30_000);
});
