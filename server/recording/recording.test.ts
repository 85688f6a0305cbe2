import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { createTestApp, type TestApp } from '../../test/app.js';
import { startSmallFleet } from '../../simulator/small-fleet.js';
import type { Simulator } from '../../simulator/index.js';
import { resolveFfprobe } from '../../media-tools/ffmpeg-path.js';
import type { Recorder } from './recorder.js';
import { isLocked } from './recording-repo.js';
import { cityClock, inSchedule } from './schedule.js';

// Real parts: simulator cameras → ingest sessions → the recorder's files and index → VOD HLS, export, retention.

const ffprobe = resolveFfprobe();
function probe(path: string): { duration: number; frames: number; tags: Record<string, string> } {
  const r = spawnSync(ffprobe, ['-v', 'error', '-count_frames', '-show_entries', 'format=duration:format_tags:stream=nb_read_frames', '-of', 'json', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffprobe failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { format: { duration: string; tags?: Record<string, string> }; streams: Array<{ nb_read_frames?: string }> };
  return { duration: Number(j.format.duration), frames: Number(j.streams[0]?.nb_read_frames ?? 0), tags: j.format.tags ?? {} };
}

/** key_frame and pict_type of every decoded video frame */
function frameTypes(path: string): Array<{ key: boolean; type: string }> {
  const r = spawnSync(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=key_frame,pict_type', '-of', 'json', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffprobe failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { frames: Array<{ key_frame: number; pict_type: string }> }).frames.map((f) => ({ key: f.key_frame === 1, type: f.pict_type }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('recording and playback on real parts', () => {
  let t: TestApp;
  let sim: Simulator;
  let recorder: Recorder;
  let cont: string; // continuous, main stream
  let ev: string; // events mode
  let restricted: string;
  let dir: string;
  const ENV = {
    RECORDING_SEGMENT_S: '3', RECORDING_SYNC_S: '0.5', RECORDINGS_MIN_FREE_MB: '0', RECORDING_RETENTION_CHECK_S: '3600', RECORDINGS_NODE_ID: 'test-store',
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streeteye-rec-test-'));
    sim = await startSmallFleet(3);
    Object.assign(process.env, ENV, { RECORDINGS_DIR: dir });
    try {
      t = await createTestApp();
    } finally {
      for (const k of [...Object.keys(ENV), 'RECORDINGS_DIR']) delete process.env[k];
    }
    recorder = t.ctx.recorder!;
    const tech = await t.cookie('technician');
    const mk = async (i: number) => {
      const c = sim.cameras()[i];
      const r = await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: tech }, payload: { name: `rec-${c.name}`, rtspMain: c.rtspMain, rtspSub: c.rtspSub, username: c.username, password: c.password, lat: 30.25, lng: 120.15 + i * 0.01 } });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().id as string;
    };
    cont = await mk(0);
    ev = await mk(1);
    restricted = await mk(2);
    await t.app.inject({ method: 'PATCH', url: `/api/cameras/${restricted}`, headers: { cookie: await t.cookie('admin') }, payload: { sharing: 'restricted' } });
    const put = await t.app.inject({ method: 'PUT', url: `/api/cameras/${cont}/recording`, headers: { cookie: tech }, payload: { mode: 'continuous', stream: 'main' } });
    expect(put.statusCode, put.body).toBe(200);
    const put2 = await t.app.inject({ method: 'PUT', url: `/api/cameras/${ev}/recording`, headers: { cookie: tech }, payload: { mode: 'events', stream: 'sub', preRollS: 3, postRollS: 3, eventSources: ['candidate'] } });
    expect(put2.statusCode, put2.body).toBe(200);
    await recorder.sync();
  }, 240_000);

  afterAll(async () => {
    await t?.close();
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const rows = async (camera: string) => (await t.db.query<{ id: number; file: string; bytes: string; status: string; start_at: Date; end_at: Date; gops: [number, number, number, number][]; init_bytes: number }>(
    'SELECT id::int AS id, file, bytes, status, start_at, end_at, gops, init_bytes FROM recording_segments WHERE camera_id = $1 ORDER BY start_at', [camera])).rows;

  it('settings: technicians edit shared cameras, the police decide for restricted ones; bad input is a clear 400', async () => {
    const tech = await t.cookie('technician');
    expect((await t.app.inject({ method: 'PUT', url: `/api/cameras/${restricted}/recording`, headers: { cookie: tech }, payload: { mode: 'continuous' } })).statusCode).toBe(404);
    const police = await t.app.inject({ method: 'PUT', url: `/api/cameras/${restricted}/recording`, headers: { cookie: await t.cookie('police110') }, payload: { mode: 'off' } });
    expect(police.statusCode, police.body).toBe(200);
    const bad = await t.app.inject({ method: 'PUT', url: `/api/cameras/${cont}/recording`, headers: { cookie: tech }, payload: { mode: 'schedule', schedule: [] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/计划录像/);
    const bad2 = await t.app.inject({ method: 'PUT', url: `/api/cameras/${cont}/recording`, headers: { cookie: tech }, payload: { mode: 'sometimes' } });
    expect(bad2.statusCode).toBe(400);
    expect((await t.app.inject({ method: 'PUT', url: `/api/cameras/${cont}/recording`, headers: { cookie: await t.cookie('operator') }, payload: { mode: 'off' } })).statusCode).toBe(403);
  });

  it('records the session\'s own fMP4 into GOP-indexed files with a consistent index (write amplification ≤ 1.05)', async () => {
    await expect.poll(async () => (await rows(cont)).filter((r) => r.status === 'complete').length, { timeout: 30_000, interval: 500 }).toBeGreaterThanOrEqual(3);
    const rs = (await rows(cont)).filter((r) => r.status === 'complete');
    for (const r of rs) {
      const size = (await stat(join(dir, r.file))).size;
      expect(size).toBe(Number(r.bytes));
      expect(r.gops.length).toBeGreaterThanOrEqual(2);
      expect(r.gops[0][0]).toBe(r.init_bytes);
      const data = await readFile(join(dir, r.file));
      expect(data.subarray(4, 8).toString()).toBe('ftyp');
      expect(data.subarray(r.gops[1][0] + 4, r.gops[1][0] + 8).toString()).toBe('moof');
      expect(r.end_at.getTime() - r.start_at.getTime()).toBeGreaterThanOrEqual(2500);
    }
    // the file being written has its row already ('open': a crash leaves a row that reconcile completes, never a file
    // the index does not know)
    await expect.poll(async () => (await rows(cont)).filter((r) => r.status === 'open').map((r) => r.file), { timeout: 10_000, interval: 200 })
      .toEqual([recorder.recorderFor(cont)?.openSegment?.meta.file]);
    // consecutive files of one pull follow each other without a hole
    for (let i = 1; i < rs.length; i++) expect(Math.abs(rs[i].start_at.getTime() - rs[i - 1].end_at.getTime())).toBeLessThan(400);
    // one pull: the recorder rides the session the wall would use
    expect(t.ctx.cluster).toBeUndefined();
    const s = recorder.status().cameras.find((c) => c.cameraId === cont)!;
    expect(s.recording).toBe(true);
    const ratio = (s.writtenBytes) / s.streamBytes;
    expect(ratio).toBeLessThanOrEqual(1.05);
    // the events-mode camera wrote nothing without an event
    expect((await rows(ev)).length).toBe(0);
  }, 60_000);

  it('events mode: an AI candidate records from the pre-roll buffer through the post-roll', async () => {
    const at = Date.now();
    t.ctx.bus.publish('event.candidate', { kind: 'opened', id: 'x', cameraId: ev }, ev);
    await sleep(4000);
    // the post-roll ran out: nothing of the camera is open any more
    await expect.poll(async () => { const r = await rows(ev); return r.length > 0 && r.every((x) => x.status === 'complete'); }, { timeout: 20_000, interval: 500 }).toBe(true);
    const rs = await rows(ev);
    const start = rs[0].start_at.getTime();
    const end = Math.max(...rs.map((r) => r.end_at.getTime()));
    expect(start).toBeLessThanOrEqual(at - 1500); // pre-roll of 3 s (from the GOP holding it)
    // pre-roll 3 s + the GOP holding its start + the clock anchoring's tolerance under load (re-anchored beyond 3 s)
    expect(start).toBeGreaterThanOrEqual(at - 7500);
    expect(end).toBeGreaterThanOrEqual(at + 2000); // post-roll of 3 s
    expect(end).toBeLessThanOrEqual(at + 9000);
  }, 30_000);

  it('events mode: a 110 incident near the camera (none named) records pre-roll + post-roll; one far away does not', async () => {
    const tech = await t.cookie('technician');
    const police = await t.cookie('police110');
    const put = await t.app.inject({ method: 'PUT', url: `/api/cameras/${ev}/recording`, headers: { cookie: tech }, payload: { mode: 'events', eventSources: ['incident'], incidentRadiusM: 300, preRollS: 3, postRollS: 3 } });
    expect(put.statusCode, put.body).toBe(200);
    await recorder.sync();
    await expect.poll(async () => (await rows(ev)).every((x) => x.status === 'complete'), { timeout: 20_000, interval: 500 }).toBe(true);
    const before = (await rows(ev)).length;
    const incident = (ticketNo: string, lng: number) => t.app.inject({ method: 'POST', url: '/api/110/incidents', headers: { cookie: police },
      payload: { ticketNo, reportedAt: new Date().toISOString(), address: '文三路', reportText: '占道经营', categoryCode: '0901', lat: 30.25, lng } });
    // the camera stands at 30.25, 120.16: 120.2 is about 3.8 km east of it
    expect((await incident('REC-FAR', 120.2)).statusCode).toBe(201);
    await sleep(4000);
    expect((await rows(ev)).length).toBe(before);
    // 120.1605: about 50 m away, within the camera's 300 m
    const at = Date.now();
    expect((await incident('REC-NEAR', 120.1605)).statusCode).toBe(201);
    await expect.poll(async () => { const r = await rows(ev); return r.length > before && r.every((x) => x.status === 'complete'); }, { timeout: 25_000, interval: 500 }).toBe(true);
    const rs = (await rows(ev)).slice(before);
    const start = rs[0].start_at.getTime();
    const end = Math.max(...rs.map((r) => r.end_at.getTime()));
    const seen = rs.map((r) => `${r.file.split('/').pop()} ${r.status} ${r.start_at.getTime() - at}..${r.end_at.getTime() - at} ms`).join('; ');
    expect(start, seen).toBeLessThanOrEqual(at - 1500); // the pre-roll of 3 s, from the rolling buffer
    expect(start, seen).toBeGreaterThanOrEqual(at - 7500);
    expect(end, seen).toBeGreaterThanOrEqual(at + 2000); // the post-roll of 3 s
    expect(end, seen).toBeLessThanOrEqual(at + 9000);
    // one continuous recording: each file starts where the previous one ended (no GOP written twice)
    for (let i = 1; i < rs.length; i++) expect(Math.abs(rs[i].start_at.getTime() - rs[i - 1].end_at.getTime()), seen).toBeLessThan(400);
  }, 60_000);

  it('schedule mode: weekly windows on the city clock, validated with a clear 400; records inside its window only', async () => {
    // the city's clock (UTC+8), not the server's zone: 23:30 UTC on a Wednesday is 07:30 on Thursday in the city
    expect(cityClock(new Date('2026-12-02T23:30:00Z'))).toEqual({ dow: 4, minute: 7 * 60 + 30 });
    const night = [{ days: [5], from: '22:00', to: '06:00' }]; // Friday night into Saturday morning
    expect(inSchedule(night, new Date('2026-12-04T15:00:00Z'))).toBe(true); // Friday 23:00
    expect(inSchedule(night, new Date('2026-12-04T21:59:00Z'))).toBe(true); // Saturday 05:59
    expect(inSchedule(night, new Date('2026-12-04T22:00:00Z'))).toBe(false); // Saturday 06:00
    expect(inSchedule(night, new Date('2026-12-05T15:00:00Z'))).toBe(false); // Saturday 23:00
    expect(inSchedule([{ days: [4], from: '00:00', to: '24:00' }], new Date('2026-12-03T15:59:00Z'))).toBe(true); // Thursday 23:59

    const tech = await t.cookie('technician');
    const put = (payload: unknown) => t.app.inject({ method: 'PUT', url: `/api/cameras/${ev}/recording`, headers: { cookie: tech }, payload: payload as object });
    for (const [schedule, field] of [
      [[{ days: [1], from: '25:00', to: '26:00' }], 'schedule.0.from'],
      [[{ days: [1], from: '08:00', to: '18:00' }, { days: [2], from: '08:00', to: '24:30' }], 'schedule.1.to'],
      [[{ days: [1], from: '08:00', to: '08:00' }], 'schedule.0.to'],
      [[{ days: [8], from: '08:00', to: '09:00' }], 'schedule.0.days'],
    ] as const) {
      const r = await put({ mode: 'schedule', schedule });
      expect(r.statusCode, r.body).toBe(400);
      const body = r.json() as { message: string; fieldErrors?: Record<string, string> };
      expect(body.message).toMatch(/[\u4e00-\u9fff]/); // Chinese
      expect(body.message).toMatch(/[A-Za-z]{4}/); // and English
      if (field !== 'schedule.0.days') expect(Object.keys(body.fieldErrors ?? {})).toEqual([field]); // days 8: the schema's own 400
    }
    expect((await put({ mode: 'events', eventSources: [] })).statusCode).toBe(400);

    const hhmm = (m: number) => `${String(Math.floor(((m + 1440) % 1440) / 60)).padStart(2, '0')}:${String(((m + 1440) % 1440) % 60).padStart(2, '0')}`;
    const now = cityClock(new Date()).minute;
    const all = [1, 2, 3, 4, 5, 6, 7];
    const before = (await rows(ev)).length;
    const openAt = Date.now();
    const on = await put({ mode: 'schedule', schedule: [{ days: all, from: hhmm(now - 10), to: hhmm(now + 60) }] });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json().schedule).toEqual([{ days: all, from: hhmm(now - 10), to: hhmm(now + 60) }]);
    await recorder.sync();
    // inside the window: the camera records continuously (whole files follow each other)
    await expect.poll(async () => (await rows(ev)).slice(before).filter((r) => r.status === 'complete').length, { timeout: 40_000, interval: 500 }).toBeGreaterThanOrEqual(2);
    expect((await rows(ev)).slice(before)[0].start_at.getTime()).toBeGreaterThanOrEqual(openAt - 1000);
    // the window moved away from now: recording stops (the open file closes), nothing new starts
    const off = await put({ mode: 'schedule', schedule: [{ days: all, from: hhmm(now + 60), to: hhmm(now + 120) }] });
    expect(off.statusCode, off.body).toBe(200);
    await recorder.sync();
    const offAt = Date.now();
    await expect.poll(async () => (await rows(ev)).every((x) => x.status === 'complete'), { timeout: 20_000, interval: 500 }).toBe(true);
    const count = (await rows(ev)).length;
    await sleep(4000);
    const rs = await rows(ev);
    expect(rs.length).toBe(count);
    expect(Math.max(...rs.map((r) => r.end_at.getTime()))).toBeLessThan(offAt + 3000); // up to the GOP being written
    expect(recorder.status().cameras.find((c) => c.cameraId === ev)).toMatchObject({ mode: 'schedule', recording: false });
  }, 90_000);

  it('timeline, playback and seek: a signed VOD playlist whose GOPs are the recorded bytes; keyframes only above 4x', async () => {
    const op = await t.cookie('operator');
    const rs = (await rows(cont)).filter((r) => r.status === 'complete');
    const from = rs[0].start_at.getTime() + 1200;
    const to = rs[rs.length - 1].end_at.getTime();
    const tl = await t.app.inject({ url: `/api/cameras/${cont}/recordings?from=${from - 60_000}&to=${to + 60_000}`, headers: { cookie: op } });
    expect(tl.statusCode, tl.body).toBe(200);
    expect(tl.json().spans.length).toBeGreaterThanOrEqual(1);
    expect(tl.json().spans[0]).toMatchObject({ available: true, stream: 'main' });
    const res = await t.app.inject({ url: `/api/cameras/${cont}/playback?from=${new Date(from).toISOString()}&to=${to}`, headers: { cookie: op } });
    expect(res.statusCode, res.body).toBe(200);
    const { url } = res.json() as { url: string };
    expect(url).toMatch(/^\/rec\//);
    const pl = await t.app.inject({ url });
    expect(pl.statusCode, pl.body).toBe(200);
    const p = new Parser();
    p.push(pl.body);
    p.end();
    const m = p.manifest as { endList: boolean; segments: Array<{ uri: string; duration: number; map?: { uri: string } }>; start?: { timeOffset: number } };
    expect(m.endList).toBe(true);
    expect(m.segments.length).toBeGreaterThanOrEqual(2);
    const offset = Number(/#EXT-X-START:TIME-OFFSET=([\d.]+),PRECISE=YES/.exec(pl.body)![1]); // seek: into the GOP holding `from`
    const firstPdt = Date.parse(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/.exec(pl.body)![1]);
    expect(firstPdt + offset * 1000).toBeCloseTo(from, -1);
    expect(offset).toBeLessThan(1.05);
    const base = url.replace(/index\.m3u8$/, '');
    const init = await t.app.inject({ url: base + m.segments[0].map!.uri });
    expect(init.statusCode).toBe(200);
    const parts = [init.rawPayload];
    for (const s of m.segments.slice(0, 3)) {
      const r = await t.app.inject({ url: base + s.uri });
      expect(r.statusCode).toBe(200);
      expect(r.rawPayload.subarray(4, 8).toString()).toBe('moof');
      parts.push(r.rawPayload);
    }
    const out = join(dir, 'played.mp4');
    await writeFile(out, Buffer.concat(parts));
    const played = probe(out);
    const listed = m.segments.slice(0, 3).reduce((a, s) => a + s.duration, 0);
    expect(Math.abs(played.frames - listed * 5)).toBeLessThanOrEqual(2); // 5 fps: every frame of the listed GOPs decodes
    // a tampered or foreign grant is refused
    expect((await t.app.inject({ url: url.replace(/\.n\//, '.k/') })).statusCode).toBe(403);

    // 1x, 2x, 4x: every frame; 8x and 16x: keyframes only
    for (const rate of [2, 4]) expect((await t.app.inject({ url: `/api/cameras/${cont}/playback?from=${from}&to=${to}&rate=${rate}`, headers: { cookie: op } })).json().keyframesOnly).toBe(false);
    expect(frameTypes(out).some((f) => !f.key)).toBe(true);
    for (const rate of [8, 16]) {
      const fast = (await t.app.inject({ url: `/api/cameras/${cont}/playback?from=${from}&to=${to}&rate=${rate}`, headers: { cookie: op } })).json() as { url: string; keyframesOnly: boolean; rate: number };
      expect(fast.keyframesOnly).toBe(true);
      expect(fast.rate).toBe(rate);
      const kpl = new Parser();
      kpl.push((await t.app.inject({ url: fast.url })).body);
      kpl.end();
      const ks = (kpl.manifest as typeof m).segments;
      const kbase = fast.url.replace(/index\.m3u8$/, '');
      const kparts = [(await t.app.inject({ url: kbase + ks[0].map!.uri })).rawPayload];
      for (const s of ks) kparts.push((await t.app.inject({ url: kbase + s.uri })).rawPayload);
      const kout = join(dir, `keyframes-${rate}x.mp4`);
      await writeFile(kout, Buffer.concat(kparts));
      const kp = probe(kout);
      const gopsListed = ks.reduce((a, s) => a + (Number(/_(\d+)_(\d+)\.m4s$/.exec(s.uri)![2]) - Number(/_(\d+)_(\d+)\.m4s$/.exec(s.uri)![1]) + 1), 0);
      expect(kp.frames).toBe(gopsListed); // one decodable frame per GOP
      expect(Math.abs(kp.duration - ks.reduce((a, s) => a + s.duration, 0))).toBeLessThan(1.5);
      // ffprobe's word: every frame of the >4x playlist is a keyframe (an I frame)
      const types = frameTypes(kout);
      expect(types.length).toBe(gopsListed);
      expect(types.every((f) => f.key && f.type === 'I'), JSON.stringify(types.slice(0, 10))).toBe(true);
    }

    // audited like live views: who, which camera, which range
    const log = await t.db.query<{ username: string; range_from: Date; range_to: Date }>(`SELECT username, range_from, range_to FROM camera_view_log WHERE camera_id = $1 AND kind = 'playback'`, [cont]);
    expect(log.rows[0]).toMatchObject({ username: 'operator' });
    expect(log.rows[0].range_from.getTime()).toBe(from);
  }, 60_000);

  it('access: playback is for operator, reviewer, police110, admin; restricted cameras are hidden as on live', async () => {
    expect((await t.app.inject({ url: `/api/cameras/${cont}/playback`, headers: { cookie: await t.cookie('technician') } })).statusCode).toBe(403);
    expect((await t.app.inject({ url: `/api/cameras/${restricted}/recordings`, headers: { cookie: await t.cookie('operator') } })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/cameras/${restricted}/recordings`, headers: { cookie: await t.cookie('police110') } })).statusCode).toBe(200);
    expect((await t.app.inject({ url: `/api/cameras/${cont}/playback?rate=3`, headers: { cookie: await t.cookie('operator') } })).statusCode).toBe(400);
    expect((await t.app.inject({ url: `/api/cameras/${cont}/playback?from=yesterday`, headers: { cookie: await t.cookie('operator') } })).json().message).toMatch(/ISO 8601/);
  });

  it('export: an MP4 of the range (remuxed) that ffprobe plays with the right duration and the camera name in its metadata', async () => {
    const rs = (await rows(cont)).filter((r) => r.status === 'complete');
    const from = rs[0].start_at.getTime() + 500;
    const to = rs[rs.length - 1].end_at.getTime() - 500;
    const r = await t.app.inject({ url: `/api/cameras/${cont}/export?from=${from}&to=${to}`, headers: { cookie: await t.cookie('reviewer') } });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    expect(r.headers['content-type']).toBe('video/mp4');
    const out = join(dir, 'export.mp4');
    await writeFile(out, r.rawPayload);
    const p = probe(out);
    const start = Date.parse(String(r.headers['x-recording-start']));
    expect(start).toBeLessThanOrEqual(from);
    expect(from - start).toBeLessThanOrEqual(1100); // from the keyframe at or before `from` (1 s GOP)
    expect(Math.abs(p.duration - (to - start) / 1000)).toBeLessThan(0.5);
    expect(p.tags.title).toContain(`rec-${sim.cameras()[0].name}`);
    expect(p.tags.comment).toContain(new Date(from).toISOString());
    const audit = await t.db.query(`SELECT 1 FROM audit_log WHERE action = 'recording.export' AND target_id = $1 AND username = 'reviewer'`, [cont]);
    expect(audit.rows.length).toBe(1);
    expect((await t.app.inject({ url: `/api/cameras/${cont}/export?from=${to}&to=${from}`, headers: { cookie: await t.cookie('reviewer') } })).statusCode).toBe(400);
  }, 60_000);

  it('a camera fault shows as a gap: two spans, EXT-X-GAP and a discontinuity in the playlist', async () => {
    const faultAt = Date.now();
    sim.fault(sim.cameras()[0].id, { kind: 'offline' });
    await sleep(7000);
    sim.restore(sim.cameras()[0].id);
    const restoredAt = Date.now();
    await expect.poll(async () => (await rows(cont)).filter((r) => r.start_at.getTime() > restoredAt - 1000 && r.status === 'complete').length, { timeout: 40_000, interval: 500 }).toBeGreaterThanOrEqual(1);
    const op = await t.cookie('operator');
    const tl = (await t.app.inject({ url: `/api/cameras/${cont}/recordings?from=${faultAt - 30_000}&to=${Date.now()}`, headers: { cookie: op } })).json() as { spans: Array<{ from: string; to: string }> };
    expect(tl.spans.length).toBeGreaterThanOrEqual(2);
    const holeStart = Date.parse(tl.spans[0].to);
    const holeEnd = Date.parse(tl.spans[1].from);
    expect(holeEnd - holeStart).toBeGreaterThan(4000);
    expect(holeStart).toBeLessThan(faultAt + 2000);
    const { url } = (await t.app.inject({ url: `/api/cameras/${cont}/playback?from=${faultAt - 5000}&to=${Date.now()}`, headers: { cookie: op } })).json() as { url: string };
    const text = (await t.app.inject({ url })).body;
    expect(text).toContain('#EXT-X-GAP');
    expect(text).toContain('#EXT-X-DISCONTINUITY');
    const gapS = [...text.matchAll(/#EXT-X-GAP\n#EXTINF:([\d.]+),/g)].reduce((a, x) => a + Number(x[1]), 0);
    expect(Math.abs(gapS * 1000 - (holeEnd - holeStart))).toBeLessThan(1000);
    // an export across the hole (two runs: the pull restarted): every recorded frame is in it, and the hole keeps its
    // length, so the file lasts from its first keyframe to the end of the range
    const from = holeStart - 4000;
    const to = Date.parse(tl.spans[1].to) - 500;
    const ex = await t.app.inject({ url: `/api/cameras/${cont}/export?from=${from}&to=${to}`, headers: { cookie: await t.cookie('reviewer') } });
    expect(ex.statusCode, ex.body.slice(0, 300)).toBe(200);
    const out = join(dir, 'export-gap.mp4');
    await writeFile(out, ex.rawPayload);
    const p = probe(out);
    const start = Date.parse(String(ex.headers['x-recording-start']));
    expect(Math.abs(p.duration - (to - start) / 1000)).toBeLessThan(1);
    const recordedS = ((holeStart - start) + (to - holeEnd)) / 1000;
    expect(Math.abs(p.frames - recordedS * 5)).toBeLessThanOrEqual(8); // 5 fps: the frames of both runs, none lost
  }, 90_000);

  it('cluster: media of another store is redirected to it; a dead store\'s spans are kept and shown as unavailable', async () => {
    const op = await t.cookie('operator');
    const src = (await rows(cont)).filter((r) => r.status === 'complete')[0];
    const day = Date.now() - 7200_000; // two hours ago, clear of the real recordings
    await t.db.query(`INSERT INTO recording_nodes (id, address, heartbeat_at) VALUES ('alive-store', 'http://ingest-2.example:8080', now()), ('dead-store', 'http://ingest-3.example:8080', now() - interval '10 minutes')`);
    const ins = async (node: string, start: number) => (await t.db.query<{ id: number }>(
      `INSERT INTO recording_segments (camera_id, stream, node_id, file, start_at, end_at, bytes, status, init_bytes, gops)
       SELECT camera_id, stream, $2, $3, to_timestamp($4 / 1000.0), to_timestamp($4 / 1000.0) + (end_at - start_at), bytes, 'complete', init_bytes, gops FROM recording_segments WHERE id = $1
       RETURNING id::int AS id`, [src.id, node, `${cont}/x/${node}-${start}.mp4`, start])).rows[0].id;
    const aliveId = await ins('alive-store', day);
    await ins('dead-store', day + 60_000);
    await sleep(2100); // the routes cache the store list for 2 s
    try {
      const tl = (await t.app.inject({ url: `/api/cameras/${cont}/recordings?from=${day - 1000}&to=${day + 120_000}`, headers: { cookie: op } })).json() as { spans: Array<{ node: string; available: boolean }> };
      expect(tl.spans.map((x) => [x.node, x.available])).toEqual([['alive-store', true], ['dead-store', false]]);
      // only the dead store holds this range: kept, not lost, but not playable now
      const dead = await t.app.inject({ url: `/api/cameras/${cont}/playback?from=${day + 60_000}&to=${day + 61_000}`, headers: { cookie: op } });
      expect(dead.statusCode).toBe(503);
      expect(dead.json().message).toMatch(/unavailable/);
      // the alive store's range: the URL points at it, and its media reaching this node is redirected there
      const alive = (await t.app.inject({ url: `/api/cameras/${cont}/playback?from=${day}&to=${day + 2000}`, headers: { cookie: op } })).json() as { url: string };
      expect(alive.url.startsWith('http://ingest-2.example:8080/rec/')).toBe(true);
      const path = alive.url.replace('http://ingest-2.example:8080', '');
      const pl = (await t.app.inject({ url: path })).body;
      expect(pl).toContain(`http://ingest-2.example:8080/rec/${cont}/`);
      const media = await t.app.inject({ url: path.replace(/index\.m3u8$/, `i${aliveId}.mp4`) });
      expect(media.statusCode).toBe(307);
      expect(media.headers.location).toBe(`http://ingest-2.example:8080${path.replace(/index\.m3u8$/, `i${aliveId}.mp4`)}`);
    } finally {
      await t.db.query(`DELETE FROM recording_segments WHERE node_id IN ('alive-store', 'dead-store')`);
    }
  });

  it('retention deletes the oldest first and never a span locked by a case or a 110 incident', async () => {
    await recorder.stop(); // no more writes during the check
    const all = (await rows(cont)).filter((r) => r.status === 'complete');
    expect(all.length).toBeGreaterThanOrEqual(4);
    const lockedRow = all[1];
    const admin = await t.cookie('admin');
    const cs = await t.app.inject({ method: 'POST', url: '/api/cases', headers: { cookie: admin }, payload: { eventType: 'exposed_garbage', cameraId: cont } });
    expect(cs.statusCode, cs.body).toBe(201);
    const attach = await t.app.inject({ method: 'POST', url: `/api/cases/${cs.json().id}/recordings`, headers: { cookie: await t.cookie('operator') },
      payload: { cameraId: cont, from: new Date(lockedRow.start_at.getTime() + 100).toISOString(), to: new Date(lockedRow.end_at.getTime() - 100).toISOString() } });
    expect(attach.statusCode, attach.body).toBe(201);
    expect(await isLocked(t.db, cont, lockedRow.start_at.getTime(), lockedRow.end_at.getTime(), recorder.policy)).toBe(true);
    // a 110 incident reported at the time of another (older) one locks it too
    const incRow = all[0];
    const inc = await t.app.inject({ method: 'POST', url: '/api/110/incidents', headers: { cookie: await t.cookie('police110') },
      payload: { ticketNo: 'REC-1', reportedAt: new Date(incRow.start_at.getTime() + 500).toISOString(), address: '西湖', reportText: '占道', categoryCode: '0601', cameraId: cont } });
    expect(inc.statusCode, inc.body).toBe(201);
    recorder.cfg.lockWindowS = 0; // the case's own time (now, after the last recording) locks nothing by itself: only the explicit lock holds
    // quota first: room for about half of what is there → the oldest unlocked go first
    const total = all.reduce((a, r) => a + Number(r.bytes), 0);
    recorder.cfg.maxBytes = Math.floor(total * 0.6);
    const q = await recorder.sweep();
    expect(q.quota).toBeGreaterThan(0);
    const left = new Set((await rows(cont)).map((r) => r.id));
    expect(left.has(lockedRow.id)).toBe(true);
    expect(left.has(incRow.id)).toBe(true);
    const unlocked = all.filter((r) => r.id !== lockedRow.id && r.id !== incRow.id);
    const gone = unlocked.filter((r) => !left.has(r.id));
    const kept = unlocked.filter((r) => left.has(r.id));
    expect(gone.length).toBeGreaterThan(0);
    expect(gone.length).toBeLessThanOrEqual(q.quota); // the quota is the store's: the other camera's files count too
    if (kept.length) expect(Math.max(...gone.map((r) => r.start_at.getTime()))).toBeLessThan(Math.min(...kept.map((r) => r.start_at.getTime())));
    for (const r of gone) expect(existsSync(join(dir, r.file))).toBe(false);
    // then days: age everything by 40 days (retention 30); everything unlocked goes, the locked ones stay
    recorder.cfg.maxBytes = 0;
    await t.db.query(`UPDATE recording_segments SET start_at = start_at - interval '40 days', end_at = end_at - interval '40 days' WHERE camera_id = $1`, [cont]);
    await t.db.query(`UPDATE recording_locks SET from_at = from_at - interval '40 days', to_at = to_at - interval '40 days' WHERE camera_id = $1`, [cont]);
    await t.db.query(`UPDATE incidents_110 SET reported_at = reported_at - interval '40 days' WHERE ticket_no = 'REC-1'`);
    const d = await recorder.sweep();
    expect(d.expired).toBe(kept.length);
    const after = (await rows(cont)).filter((r) => r.status === 'complete').map((r) => r.id).sort();
    expect(after).toEqual([lockedRow.id, incRow.id].sort());
    for (const r of all.filter((x) => after.includes(x.id))) expect(existsSync(join(dir, r.file))).toBe(true);
  }, 30_000);
});
