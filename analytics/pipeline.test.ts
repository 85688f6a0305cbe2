import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { EvidenceWriter, type ClipSegments } from './evidence.js';
import { FfmpegFrameSource } from './frame-source.js';
import { ModelStore } from './model-store.js';
import { AnalyticsEngine, type CandidateEvent } from './pipeline.js';
import { validateRule, type Rule } from './rules.js';
import { iou, type RgbFrame } from './types.js';
import { manifestsDir, fixtureMedia, modelsDir, silentLogger, VAN_BOX } from './test-helpers.js';

const T0 = Date.UTC(2026, 10, 25, 2, 0, 0); // 10:00 in Shanghai
const ZONE: [number, number][] = [[0.83, 0.1], [0.95, 0.1], [0.95, 0.22], [0.83, 0.22]];
const VAN_NORM = { x1: VAN_BOX.x1 / 768, y1: VAN_BOX.y1 / 576, x2: VAN_BOX.x2 / 768, y2: VAN_BOX.y2 / 576 };

/** The same footage with the van painted over: the parking spot is empty. */
function withoutVan(f: RgbFrame, ts: number): RgbFrame {
  const rgb = Buffer.from(f.rgb);
  for (let y = 30; y < 115; y++) for (let x = 635; x < 740; x++) rgb.fill(110, (y * f.width + x) * 3, (y * f.width + x) * 3 + 3);
  return { ...f, ts, rgb };
}

describe('pipeline end to end on the street clip (YOLOX-nano, video time)', () => {
  let dir: string;
  let engine: AnalyticsEngine;
  let rejected: Rule;
  let control: Rule;
  const events: { kind: string; e: CandidateEvent }[] = [];
  const late: { id: string; evidence: { clip?: string } }[] = [];
  const opened = (ruleId: string) => events.filter((x) => x.kind === 'candidate.opened' && x.e.ruleId === ruleId).map((x) => x.e);
  let firstPassEnd = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streeteye-pipeline-'));
    // Stand-in for ingest's segment buffer: fragments of the same clip.
    const fmp4 = join(dir, 'buffer.mp4');
    spawnSync(resolveFfmpeg(), ['-loglevel', 'error', '-y', '-i', join(fixtureMedia, 'street-pedestrians-30s.mp4'), '-t', '4', '-an', '-c', 'copy',
      '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000', '-f', 'mp4', fmp4]);
    const buf = await readFile(fmp4);
    const moofAt = buf.indexOf('moof') - 4;
    const clip: ClipSegments = { init: buf.subarray(0, moofAt), segments: [buf.subarray(moofAt)] };

    const store = new ModelStore({ manifestsDir, weightDirs: [modelsDir], logger: silentLogger, warmupRuns: 1 });
    await store.init();
    engine = new AnalyticsEngine({
      logger: silentLogger,
      models: store,
      defaultModel: 'yolox_nano',
      evidence: new EvidenceWriter({ dir, logger: silentLogger, clipSource: async () => clip }),
      eventTypes: new Map([['illegal_motor_parking', { key: 'illegal_motor_parking', code: '09009', nameZh: '机动车乱停放', nameEn: 'motor vehicle parked illegally' }]]),
      stays: { graceSeconds: 5 },
    });
    await engine.start();
    engine.setCamera({ cameraId: 'cam-1', gridCode: '11010100100101', lat: 39.9, lng: 116.4, address: 'Test street' });
    const ctx = { eventTypes: new Set(['illegal_motor_parking']), classesOf: (id: string) => store.manifest(id)?.classes, defaultModel: 'yolox_nano' };
    const make = (name: string): Rule => {
      const r = validateRule({ cameraId: 'cam-1', eventType: 'illegal_motor_parking', name, zone: ZONE, classes: ['car', 'truck'], minDwellSeconds: 5, cooldownSeconds: 0 }, ctx);
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.rule;
    };
    rejected = make('to be rejected');
    control = make('control');
    engine.setRules('cam-1', [rejected, control]);
    for (const kind of ['candidate.opened', 'candidate.updated', 'candidate.closed'] as const) engine.on(kind, (e) => events.push({ kind, e }));
    engine.on('candidate.evidence', (e) => late.push(e));

    const frames: RgbFrame[] = [];
    const source = new FfmpegFrameSource({ cameraId: 'cam-1', input: { kind: 'file', path: join(fixtureMedia, 'street-pedestrians-30s.mp4') }, rate: 2, baseTs: T0, logger: silentLogger });
    for await (const f of source.frames()) frames.push(f);

    // Pass 1: the van is parked the whole clip.
    for (const f of frames) await engine.pushFrame(f);
    firstPassEnd = frames[frames.length - 1].ts;
    // The reviewer rejects rule A's candidate: quiet for an hour in that place.
    const a = opened(rejected.id)[0];
    if (a) engine.suppress(rejected.id, firstPassEnd + 3600_000, a.box);
    // The van leaves for 8 s (both stays close), then the same scene comes back and dwells again.
    let ts = firstPassEnd;
    for (let i = 0; i < 16; i++) await engine.pushFrame(withoutVan(frames[i], (ts += 500)));
    const offset = ts + 500 - T0;
    for (const f of frames) await engine.pushFrame({ ...f, ts: f.ts + offset });
    // Clips are written in the background; wait for them.
    for (let i = 0; i < 50 && late.length < 3; i++) await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(async () => {
    await engine?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('raises exactly one candidate per stay of the parked van, after the dwell', () => {
    const firstPass = events.filter((x) => x.kind === 'candidate.opened' && x.e.openedAt <= firstPassEnd).map((x) => x.e);
    expect(firstPass.map((e) => e.ruleId).sort()).toEqual([rejected.id, control.id].sort());
    for (const e of firstPass) {
      expect(['car', 'truck']).toContain(e.label);
      expect(e.score).toBeGreaterThan(0.5);
      expect(iou(e.box, VAN_NORM)).toBeGreaterThan(0.6);
      expect(e.openedAt - e.firstSeen).toBeGreaterThanOrEqual(5000);
      expect(e.openedAt - T0).toBeLessThan(10_000);
      expect(e).toMatchObject({ cameraId: 'cam-1', eventType: 'illegal_motor_parking', eventCode: '09009', gridCode: '11010100100101', lat: 39.9, status: 'open' });
    }
  });

  it('closes each stay once the spot is empty and keeps the same id from open to close', () => {
    const closed = events.filter((x) => x.kind === 'candidate.closed').map((x) => x.e);
    expect(closed).toHaveLength(2);
    for (const c of closed) {
      expect(c.closedAt! - c.lastSeen).toBeGreaterThan(5000);
      expect(events.some((x) => x.kind === 'candidate.opened' && x.e.id === c.id)).toBe(true);
    }
  });

  it('does not raise the rejected rule again within its suppression, while the control rule raises the new stay', () => {
    expect(opened(rejected.id)).toHaveLength(1);
    expect(opened(control.id)).toHaveLength(2);
  });

  it('writes the evidence: annotated JPEG, clean frame and a clip', async () => {
    for (const e of events.filter((x) => x.kind === 'candidate.opened').map((x) => x.e)) {
      const meta = await sharp(join(dir, e.evidence.annotatedJpeg!)).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width: 768, height: 576 });
      expect(existsSync(join(dir, e.evidence.cleanJpeg!))).toBe(true);
    }
    const openedIds = events.filter((x) => x.kind === 'candidate.opened').map((x) => x.e.id);
    expect(late.map((x) => x.id).sort()).toEqual([...openedIds].sort());
    for (const x of late) expect(existsSync(join(dir, x.evidence.clip!))).toBe(true);
  });
});
