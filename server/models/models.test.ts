import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Detector, detectOnImage, ModelStore } from '../../analytics/index.js';
import { createTestApp, type TestApp } from '../../test/app.js';
import { startSimulator } from '../../simulator/index.js';
import { testCacheDir } from '../../simulator/test-helpers.js';
import { fixtureMedia } from '../../analytics/test-helpers.js';
import { projectRoot } from '../analytics/service.js';

// A city's model through the API: upload → validation errors (nothing kept) → valid upload → test-run on a camera's
// snapshot → enable → a rule names it; an enabled upload is found again by a fresh model store (a restart).

const WEIGHTS = join(projectRoot, 'models', 'yolox_nano.onnx');

describe('a city\'s own model: upload, check, test-run, enable, use in a rule (pglite)', () => {
  let t: TestApp;
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  let cameraId: string;
  let weights: Buffer;
  let base: Record<string, unknown>;
  const admin = async () => ({ cookie: await t.cookie('admin') });
  const upload = async (manifest: unknown, body: Buffer = weights, cookie?: string) => t.app.inject({
    method: 'POST', url: '/api/models', payload: body,
    headers: { cookie: cookie ?? (await admin()).cookie, 'content-type': 'application/octet-stream', 'x-model-manifest': Buffer.from(JSON.stringify(manifest)).toString('base64') },
  });
  const leftovers = async () => {
    const dir = join(t.ctx.config.dataDir, 'models');
    const list = async (d: string) => (existsSync(d) ? (await readdir(d)).filter((f) => !['staged', '.incoming'].includes(f)) : []);
    return [...(await list(join(dir, '.incoming'))), ...(await list(join(dir, 'staged'))), ...(await list(dir))];
  };

  beforeAll(async () => {
    // the shipped street clip: the model has real people and vehicles to find on the snapshot
    sim = await startSimulator({ cameras: 1, source: join(fixtureMedia, 'street-pedestrians-30s.mp4'), dataDir: testCacheDir, labelledCameras: 0, discoveryMulticast: false, logger: pino({ level: 'warn' }) });
    t = await createTestApp();
    const c = sim.cameras()[0];
    const res = await t.app.inject({
      method: 'POST', url: '/api/cameras', headers: await admin(),
      payload: { name: c.name, rtspMain: c.rtspMain, rtspSub: c.rtspSub, onvifUrl: c.onvifUrl, username: c.username, password: c.password },
    });
    expect(res.statusCode, res.body).toBe(201);
    cameraId = res.json().id;
    weights = await readFile(WEIGHTS);
    const shipped = JSON.parse(await readFile(join(projectRoot, 'models', 'yolox_nano.json'), 'utf8')) as Record<string, unknown>;
    base = { ...shipped, id: 'city_yolox', description: '城管自训模型 city model (test: the shipped YOLOX-nano under another id)', file: 'city_yolox.onnx' };
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  it('only admins may upload, test-run or enable', async () => {
    for (const role of ['technician', 'reviewer', 'operator'] as const) {
      expect((await upload(base, weights, await t.cookie(role))).statusCode).toBe(403);
      expect((await t.app.inject({ method: 'POST', url: '/api/models/city_yolox/enable', headers: { cookie: await t.cookie(role) } })).statusCode).toBe(403);
    }
  });

  it('refuses bad uploads with a clear 4xx and keeps nothing', async () => {
    const noHeader = await t.app.inject({ method: 'POST', url: '/api/models', payload: weights, headers: { ...(await admin()), 'content-type': 'application/octet-stream' } });
    expect(noHeader.statusCode).toBe(400);
    expect(noHeader.json().message).toMatch(/清单.*manifest/);

    const noClasses = await upload({ ...base, classes: undefined });
    expect(noClasses.statusCode, noClasses.body).toBe(422);
    expect(noClasses.json().message).toMatch(/模型清单无效 \/ invalid model manifest/);
    expect(Object.keys(noClasses.json().fieldErrors)).toContain('manifest.classes');

    const badHash = await upload({ ...base, sha256: 'a'.repeat(64) });
    expect(badHash.statusCode).toBe(422);
    expect(badHash.json().fieldErrors['manifest.sha256']).toMatch(/hash to 695e750a/);
    expect(badHash.json().message).toMatch(/sha256/);

    const unknownDecoder = await upload({ ...base, decoder: { kind: 'yolov9' } });
    expect(unknownDecoder.statusCode).toBe(422);
    expect(unknownDecoder.json().message).toMatch(/解码器.*decoder/);
    expect(Object.keys(unknownDecoder.json().fieldErrors).join()).toMatch(/manifest\.decoder/);

    const wrongShape = await upload({ ...base, input: { ...(base.input as object), width: 320, height: 320 } });
    expect(wrongShape.statusCode, wrongShape.body).toBe(422);
    expect(wrongShape.json().message).toMatch(/形状.*shapes/);
    expect(wrongShape.json().fieldErrors.model).toBeTruthy();

    const notOnnx = await upload(base, Buffer.from('not a model at all'));
    expect(notOnnx.statusCode).toBe(422);

    const shippedId = await upload({ ...base, id: 'yolox_nano' });
    expect(shippedId.statusCode).toBe(409);

    expect(await leftovers()).toEqual([]);
    const list = (await t.app.inject({ url: '/api/models', headers: await admin() })).json();
    expect(list.models.map((m: { id: string }) => m.id)).not.toContain('city_yolox');
  });

  it('a valid upload is staged, test-runs on the camera\'s snapshot, is enabled and chosen by a rule', async () => {
    const res = await upload(base);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().check).toMatchObject({ ok: true, input: { width: 416, height: 416 }, sha256: '695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14' });
    expect(res.json().model).toMatchObject({ id: 'city_yolox', source: 'staged', decoder: 'yolox' });

    // not enabled yet: a rule cannot name it
    const early = await t.app.inject({ method: 'POST', url: '/api/rules', headers: await admin(), payload: { cameraId, eventType: 'illegal_motor_parking', model: 'city_yolox', zone: [[0, 0], [1, 0], [1, 1], [0, 1]] } });
    expect(early.statusCode, early.body).toBe(422);

    const run = await t.app.inject({ method: 'POST', url: '/api/models/city_yolox/test-run', headers: await admin(), payload: { cameraId } });
    expect(run.statusCode, run.body.slice(0, 300)).toBe(200);
    const body = run.json() as { width: number; height: number; snapshot: string; detections: { label: string; score: number; box: Record<string, number> }[] };
    const jpeg = Buffer.from(body.snapshot.replace(/^data:image\/jpeg;base64,/, ''), 'base64');
    const meta = await sharp(jpeg).metadata();
    expect([body.width, body.height]).toEqual([meta.width, meta.height]);
    expect(body.detections.length).toBeGreaterThan(0);
    expect(body.detections.map((d) => d.label)).toEqual(expect.arrayContaining([expect.stringMatching(/^(person|car|truck)$/)]));
    // the boxes are the model's own answer on that very snapshot
    const detector = await Detector.create(JSON.parse(await readFile(join(projectRoot, 'models', 'yolox_nano.json'), 'utf8')), WEIGHTS, { providers: ['cpu'], logger: pino({ level: 'silent' }) });
    try {
      expect(body.detections).toEqual((await detectOnImage(detector, jpeg)).detections);
    } finally {
      await detector.release();
    }
    const badCamera = await t.app.inject({ method: 'POST', url: '/api/models/city_yolox/test-run', headers: await admin(), payload: { cameraId: '00000000-0000-4000-8000-000000000000' } });
    expect(badCamera.statusCode).toBe(404);

    const enabled = await t.app.inject({ method: 'POST', url: '/api/models/city_yolox/enable', headers: await admin() });
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(enabled.json().model).toMatchObject({ id: 'city_yolox', source: 'uploaded', status: 'available' });
    const list = (await t.app.inject({ url: '/api/models', headers: { cookie: await t.cookie('technician') } })).json();
    expect(list.models.find((m: { id: string }) => m.id === 'city_yolox')).toMatchObject({ source: 'uploaded', classes: expect.arrayContaining(['car', 'truck']) });

    const rule = await t.app.inject({ method: 'POST', url: '/api/rules', headers: await admin(), payload: { cameraId, eventType: 'illegal_motor_parking', model: 'city_yolox', zone: [[0, 0], [1, 0], [1, 1], [0, 1]] } });
    expect(rule.statusCode, rule.body).toBe(201);
    expect(rule.json().model).toBe('city_yolox');

    const actions = (await t.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE target_type = 'model' AND target_id = 'city_yolox' ORDER BY id`)).rows.map((r) => r.action);
    expect(actions).toEqual(['model.upload', 'model.test_run', 'model.enable']);

    // a restart: a fresh store reading the uploads folder finds the enabled model and verifies its weights
    const store = new ModelStore({ manifestsDir: join(projectRoot, 'models'), weightDirs: [join(projectRoot, 'models')], uploadsDir: join(t.ctx.config.dataDir, 'models'), logger: pino({ level: 'silent' }) });
    await store.init();
    expect(store.state('city_yolox')).toMatchObject({ status: 'available', message: 'verified' });
    expect(store.isUploaded('city_yolox')).toBe(true);
  }, 60_000);
});
