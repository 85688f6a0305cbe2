import { randomUUID } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureMedia } from '../../analytics/test-helpers.js';
import { createTestApp, type TestApp } from '../../test/app.js';

const VAN = { x1: 0.846, y1: 0.075, x2: 0.943, y2: 0.175 };

describe('dataset export: reviewed candidates as a YOLO / COCO training set', () => {
  let t: TestApp;
  let cameraId: string;
  const ids: Record<string, string> = {};
  const h = async (role: Parameters<TestApp['cookie']>[0]) => ({ cookie: await t.cookie(role) });

  beforeAll(async () => {
    t = await createTestApp();
    cameraId = (await t.db.query<{ id: string }>(`INSERT INTO cameras (name, rtsp_sub) VALUES ('cam-data', 'rtsp://127.0.0.1:9/a') RETURNING id`)).rows[0].id;
    const svc = t.ctx.analytics;
    const add = async (key: string, eventType: string, box: object, withFrame = true) => {
      const id = randomUUID();
      const rel = join('test', id, 'clean.jpg');
      if (withFrame) {
        await mkdir(join(svc.evidenceDir, 'test', id), { recursive: true });
        await copyFile(join(fixtureMedia, 'street-pedestrians-t20.jpg'), join(svc.evidenceDir, rel));
      }
      await t.db.query(`INSERT INTO events (id, camera_id, event_type, event_code, score, label, box, first_seen, last_seen, evidence_frame)
        VALUES ($1, $2, $3, '09009', 0.86, 'truck', $4, now() - interval '1 hour', now(), $5)`, [id, cameraId, eventType, JSON.stringify(box), rel]);
      ids[key] = id;
    };
    await add('van', 'illegal_motor_parking', VAN);
    await add('bin', 'illegal_motor_parking', { x1: 0.1, y1: 0.5, x2: 0.2, y2: 0.6 });
    await add('stall', 'road_occupying_stall', { x1: 0.5, y1: 0.3, x2: 0.8, y2: 0.55 });
    await add('gone', 'illegal_motor_parking', VAN, false);
    await add('pending', 'illegal_motor_parking', VAN);
    const reviewer = await h('reviewer');
    expect((await t.app.inject({ method: 'POST', url: `/api/events/${ids.van}/confirm`, headers: reviewer, payload: {} })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `/api/events/${ids.gone}/confirm`, headers: reviewer, payload: {} })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `/api/events/${ids.bin}/reject`, headers: reviewer, payload: { reason: 'permanent_object', note: '垃圾桶 a bin' } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `/api/events/${ids.stall}/reject`, headers: reviewer, payload: { reason: 'misdetection' } })).statusCode).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  const download = async (query = '') => {
    const r = await t.app.inject({ method: 'GET', url: `/api/datasets/export${query}`, headers: await h('admin') });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers['content-disposition']).toMatch(/attachment; filename="streeteye-dataset-\d{4}-\d{2}-\d{2}\.zip"/);
    return unzipSync(new Uint8Array(r.rawPayload));
  };

  it('opens as a valid YOLO set: a label file per image, class indices and normalised boxes; rejected ones are empty', async () => {
    const files = await download('?eventType=illegal_motor_parking');
    const names = Object.keys(files).sort();
    expect(names).toEqual(expect.arrayContaining(['classes.txt', 'data.yaml', 'annotations.coco.json', 'negatives.csv', 'README.txt']));
    const classes = strFromU8(files['classes.txt']).trim().split('\n');
    expect(classes).toEqual(['illegal_motor_parking']);
    const images = names.filter((n) => n.startsWith('images/'));
    // the confirmed van and the rejected bin; the confirmed one whose frame is gone and the pending one are not in it
    expect(images.sort()).toEqual([`images/${ids.van}.jpg`, `images/${ids.bin}.jpg`].sort());
    for (const img of images) {
      const meta = await sharp(Buffer.from(files[img])).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width: 768, height: 576 });
      const label = files[img.replace(/^images\/(.*)\.jpg$/, 'labels/$1.txt')];
      expect(label).toBeDefined();
      for (const line of strFromU8(label).split('\n').filter(Boolean)) {
        const parts = line.split(' ');
        expect(parts).toHaveLength(5);
        const [cls, ...coords] = parts.map(Number);
        expect(Number.isInteger(cls) && cls >= 0 && cls < classes.length).toBe(true);
        for (const v of coords) expect(v >= 0 && v <= 1).toBe(true);
      }
    }
    const van = strFromU8(files[`labels/${ids.van}.txt`]).trim().split(' ').map(Number);
    expect(van[0]).toBe(0);
    expect(van[1]).toBeCloseTo((VAN.x1 + VAN.x2) / 2, 5);
    expect(van[3]).toBeCloseTo(VAN.x2 - VAN.x1, 5);
    expect(strFromU8(files[`labels/${ids.bin}.txt`])).toBe('');
    expect(strFromU8(files['data.yaml'])).toContain('  0: "illegal_motor_parking"');
    expect(strFromU8(files['negatives.csv'])).toContain(`${ids.bin},images/${ids.bin}.jpg,illegal_motor_parking,permanent_object,垃圾桶 a bin`);
  });

  it('opens as a valid COCO set: images, annotations and categories consistent; negatives carry their reason', async () => {
    const files = await download('?classes=label');
    const coco = JSON.parse(strFromU8(files['annotations.coco.json']));
    expect(coco.categories).toEqual([{ id: 1, name: 'truck', supercategory: 'streeteye' }]);
    const imageIds = new Set(coco.images.map((i: { id: number }) => i.id));
    expect(imageIds.size).toBe(coco.images.length);
    expect(coco.images).toHaveLength(3);
    for (const img of coco.images) expect(files[img.file_name]).toBeDefined();
    expect(coco.annotations).toHaveLength(1);
    for (const a of coco.annotations) {
      expect(imageIds.has(a.image_id)).toBe(true);
      expect(coco.categories.some((c: { id: number }) => c.id === a.category_id)).toBe(true);
      const img = coco.images.find((i: { id: number }) => i.id === a.image_id);
      const [x, y, w, hgt] = a.bbox;
      expect(x >= 0 && y >= 0 && w > 0 && hgt > 0 && x + w <= img.width + 0.01 && y + hgt <= img.height + 0.01).toBe(true);
      expect(a.bbox[0]).toBeCloseTo(VAN.x1 * 768, 1);
    }
    const negatives = coco.images.filter((i: { streeteye: { status: string } }) => i.streeteye.status === 'rejected');
    expect(negatives.map((i: { streeteye: { rejectReason: string } }) => i.streeteye.rejectReason).sort()).toEqual(['misdetection', 'permanent_object']);
    expect(coco.annotations.some((a: { image_id: number }) => negatives.some((n: { id: number }) => n.id === a.image_id))).toBe(false);
  });

  it('filters by camera, time and status; admins only; audited; a bad range is a 400', async () => {
    const none = await download(`?cameraId=${randomUUID()}`);
    expect(Object.keys(none).filter((n) => n.startsWith('images/'))).toHaveLength(0);
    const future = await download(`?from=${new Date(Date.now() + 86_400_000).toISOString()}`);
    expect(Object.keys(future).filter((n) => n.startsWith('images/'))).toHaveLength(0);
    const rejected = await download('?status=rejected');
    expect(Object.keys(rejected).filter((n) => n.startsWith('images/'))).toHaveLength(2);
    for (const role of ['reviewer', 'technician', 'operator'] as const) {
      expect((await t.app.inject({ method: 'GET', url: '/api/datasets/export', headers: await h(role) })).statusCode).toBe(403);
    }
    const bad = await t.app.inject({ method: 'GET', url: `/api/datasets/export?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`, headers: await h('admin') });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/from must be before to/);
    const audits = (await t.db.query<{ detail: { status: string; candidates: number } }>(`SELECT detail FROM audit_log WHERE action = 'dataset.export' ORDER BY at`)).rows;
    expect(audits.length).toBeGreaterThanOrEqual(5);
    expect(audits.some((a) => a.detail.status === 'rejected' && a.detail.candidates === 2)).toBe(true);
  });
});
