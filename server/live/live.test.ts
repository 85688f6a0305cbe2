import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { Parser } from 'm3u8-parser';
import { createTestApp, type TestApp } from '../../test/app.js';
import type { BusMessage } from '../bus.js';
import { startSimulator } from '../../simulator/index.js';

// The ingest routes inside the composed server: sessions, roles, restricted cameras, audit, camera.state on the bus.

describe('ingest routes in the composed app', () => {
  let t: TestApp;
  let shared: string;
  let restricted: string;
  const messages: BusMessage[] = [];

  beforeAll(async () => {
    process.env.INGEST_MAX_SESSIONS = '2'; // ingest reads INGEST_* from the environment
    try {
      t = await createTestApp();
    } finally {
      delete process.env.INGEST_MAX_SESSIONS;
    }
    t.ctx.bus.subscribe((m) => messages.push(m));
    const tech = await t.cookie('technician');
    const mk = async (name: string) =>
      (await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: tech }, payload: { name, rtspMain: 'rtsp://127.0.0.1:9/main', rtspSub: 'rtsp://u:cam-secret-pw@127.0.0.1:9/sub' } })).json().id as string;
    shared = await mk('Shared gate');
    restricted = await mk('Police gate');
    const r = await t.app.inject({ method: 'PATCH', url: `/api/cameras/${restricted}`, headers: { cookie: await t.cookie('admin') }, payload: { sharing: 'restricted' } });
    expect(r.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('needs a session and hides restricted cameras from roles that may not see them', async () => {
    expect((await t.app.inject({ url: `/api/cameras/${shared}/live` })).statusCode).toBe(401);
    const op = await t.cookie('operator');
    expect((await t.app.inject({ url: `/api/cameras/${restricted}/live`, headers: { cookie: op } })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/cameras/${restricted}/snapshot`, headers: { cookie: op } })).statusCode).toBe(404);
    const police = await t.app.inject({ url: `/api/cameras/${restricted}/live?stream=main`, headers: { cookie: await t.cookie('police110') } });
    expect(police.statusCode).toBe(200);
    expect(police.json().url).toMatch(new RegExp(`^/live/${restricted}/main/`));
  });

  it('issues a signed URL, audits the view, publishes camera.state, and refuses the URL once the camera turns restricted', async () => {
    const op = await t.cookie('operator');
    const res = await t.app.inject({ url: `/api/cameras/${shared}/live?stream=sub`, headers: { cookie: op } });
    expect(res.statusCode).toBe(200);
    const { url } = res.json() as { url: string };
    expect(url, res.body).toMatch(/^\/live\//);
    const audit = await t.db.query<{ action: string; username: string }>(`SELECT action, username FROM audit_log WHERE target_id = $1`, [shared]);
    expect(audit.rows).toContainEqual({ action: 'live.view', username: 'operator' });
    await new Promise((r) => setTimeout(r, 300));
    const states = messages.filter((m) => m.topic === 'camera.state' && m.cameraId === shared);
    expect(states.length).toBeGreaterThan(0);
    expect(states[0].payload).toMatchObject({ cameraId: shared, stream: 'sub', state: 'connecting' });
    expect(JSON.stringify(messages)).not.toContain('cam-secret-pw');

    const patch = await t.app.inject({ method: 'PATCH', url: `/api/cameras/${shared}`, headers: { cookie: await t.cookie('admin') }, payload: { sharing: 'restricted' } });
    expect(patch.statusCode).toBe(200);
    const pl = await t.app.inject({ url });
    expect(pl.statusCode, url + ' ' + pl.body.slice(0, 30)).toBe(403);
    await t.app.inject({ method: 'PATCH', url: `/api/cameras/${shared}`, headers: { cookie: await t.cookie('admin') }, payload: { sharing: 'shared' } });
  });

  it('answers 503 past the node-wide session limit (INGEST_MAX_SESSIONS=2)', async () => {
    const admin = await t.cookie('admin');
    // shared/sub and restricted/main already run
    const r = await t.app.inject({ url: `/api/cameras/${shared}/live?stream=main`, headers: { cookie: admin } });
    expect(r.statusCode).toBe(503);
    expect(r.json().message).toMatch(/limit of 2/);
  });
});

describe('live video end to end: simulator → ingest → signed LL-HLS and snapshots', () => {
  let t: TestApp;
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  let camId: string;
  const messages: BusMessage[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ cameras: 1, dataDir: join(tmpdir(), 'streeteye-sim-test-cache'), labelledCameras: 0, logger: pino({ level: 'warn' }) });
    process.env.INGEST_VIEWER_TTL_S = '2'; // a viewer lapses 2 s after its last request (read when ingest starts)
    try {
      t = await createTestApp();
    } finally {
      delete process.env.INGEST_VIEWER_TTL_S;
    }
    t.ctx.bus.subscribe((m) => messages.push(m));
    const c = sim.cameras()[0];
    const res = await t.app.inject({
      method: 'POST', url: '/api/cameras', headers: { cookie: await t.cookie('technician') },
      payload: { name: c.name, rtspMain: c.rtspMain, rtspSub: c.rtspSub, onvifUrl: c.onvifUrl, username: c.username, password: c.password },
    });
    expect(res.statusCode, res.body).toBe(201);
    camId = res.json().id;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  it('snapshot of a camera that is not streaming comes from its ONVIF snapshot URI', async () => {
    const r = await t.app.inject({ url: `/api/cameras/${camId}/snapshot`, headers: { cookie: await t.cookie('operator') } });
    expect(r.statusCode, r.body.slice(0, 200)).toBe(200);
    expect(r.headers['content-type']).toBe('image/jpeg');
    expect((await sharp(r.rawPayload).metadata()).format).toBe('jpeg');
  });

  it('plays: signed URL → blocking playlist → init and parts; camera.state goes live; snapshot from the stream', async () => {
    const op = await t.cookie('operator');
    const { url } = (await t.app.inject({ url: `/api/cameras/${camId}/live?stream=sub`, headers: { cookie: op } })).json() as { url: string };
    const pl = await t.app.inject({ url }); // waits for the camera to start
    expect(pl.statusCode, pl.body).toBe(200);
    const p = new Parser();
    p.push(pl.body);
    p.end();
    const m = p.manifest;
    expect(m.serverControl.canBlockReload).toBe(true);
    const parts = [...m.segments.flatMap((s: { parts?: unknown[] }) => s.parts ?? []), ...(m.preloadSegment?.parts ?? [])] as { uri: string }[];
    expect(parts.length).toBeGreaterThan(0);
    const dir = url.replace(/index\.m3u8$/, '');
    const init = await t.app.inject({ url: dir + 'init0.mp4' });
    expect(init.statusCode).toBe(200);
    const part = await t.app.inject({ url: dir + parts[0].uri });
    expect(part.statusCode).toBe(200);
    expect(part.rawPayload.subarray(4, 8).toString()).toBe('moof');
    const live = messages.find((x) => x.topic === 'camera.state' && (x.payload as { state: string }).state === 'live');
    expect(live?.payload).toMatchObject({ cameraId: camId, stream: 'sub', stats: { codec: expect.stringMatching(/^avc1/) } });
    const snap = await t.app.inject({ url: `/api/cameras/${camId}/snapshot`, headers: { cookie: op } });
    expect(snap.statusCode).toBe(200);
    const meta = await sharp(snap.rawPayload).metadata();
    expect(meta.width).toBe(sim.cameras()[0].subSize.width);
    expect(JSON.stringify(messages)).not.toContain(sim.cameras()[0].password);
    expect(t.logLines.join('')).not.toContain(sim.cameras()[0].password);
  });

  it('records when the live view ended once the player stops asking (HLS has no disconnect)', async () => {
    const views = () => t.db.query<{ started_at: Date; ended_at: Date | null }>(
      `SELECT started_at, ended_at FROM camera_view_log WHERE camera_id = $1 AND kind = 'live'`, [camId]);
    expect((await views()).rows.length).toBeGreaterThan(0);
    await expect.poll(async () => (await views()).rows.filter((r) => r.ended_at === null).length, { timeout: 15_000 }).toBe(0);
    for (const r of (await views()).rows) expect(r.ended_at!.getTime()).toBeGreaterThanOrEqual(r.started_at.getTime());
  });
});
