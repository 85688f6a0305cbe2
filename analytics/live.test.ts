import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../simulator/index.js';
import { authedUrl, testCacheDir } from '../simulator/test-helpers.js';
import { EvidenceWriter } from './evidence.js';
import { FfmpegFrameSource } from './frame-source.js';
import { ModelStore } from './model-store.js';
import { AnalyticsEngine, type CandidateEvent } from './pipeline.js';
import { validateRule } from './rules.js';
import { iou } from './types.js';
import { manifestsDir, fixtureMedia, modelsDir, silentLogger, VAN_BOX } from './test-helpers.js';

/**
 * The live path: the simulator plays the street clip over RTSP, the frame source samples the sub stream
 * at 2 fps (wall-clock timestamps), and the engine raises one candidate for the parked van.
 */
describe('live: simulator RTSP sub stream → engine', () => {
  let sim: Simulator;
  let dir: string;
  const events: { kind: string; e: CandidateEvent }[] = [];
  let frames = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streeteye-live-'));
    sim = await startSimulator({
      cameras: 1,
      source: join(fixtureMedia, 'street-pedestrians-30s.mp4'),
      dataDir: testCacheDir,
      fps: 10,
      // Same 4:3 aspect as the clip: the picture is scaled, not cropped, so the van stays where it is.
      mainSize: { width: 384, height: 288 },
      subSize: { width: 384, height: 288 },
      labelledCameras: 1,
      discoveryMulticast: false,
      logger: silentLogger,
    });
    const cam = sim.cameras()[0];
    const store = new ModelStore({ manifestsDir, weightDirs: [modelsDir], logger: silentLogger, warmupRuns: 1 });
    await store.init();
    const engine = new AnalyticsEngine({
      logger: silentLogger,
      models: store,
      defaultModel: 'yolox_nano',
      evidence: new EvidenceWriter({ dir, logger: silentLogger }),
      eventTypes: new Map([['illegal_motor_parking', { key: 'illegal_motor_parking', code: '09009' }]]),
    });
    await engine.start();
    const rule = validateRule(
      { cameraId: cam.id, eventType: 'illegal_motor_parking', zone: [[0.83, 0.1], [0.95, 0.1], [0.95, 0.22], [0.83, 0.22]], minDwellSeconds: 3 },
      { eventTypes: new Set(['illegal_motor_parking']), classesOf: (id) => store.manifest(id)?.classes, defaultModel: 'yolox_nano' },
    );
    if (!rule.ok) throw new Error(JSON.stringify(rule.errors));
    engine.setRules(cam.id, [rule.rule]);
    for (const kind of ['candidate.opened', 'candidate.updated', 'candidate.closed'] as const) engine.on(kind, (e) => events.push({ kind, e }));

    const source = new FfmpegFrameSource({ cameraId: cam.id, input: { kind: 'rtsp', url: authedUrl(cam, 'sub') }, rate: 2, logger: silentLogger });
    const started = Date.now();
    let openedAt = 0;
    for await (const f of source.frames()) {
      frames++;
      await engine.pushFrame(f);
      if (!openedAt && events.some((x) => x.kind === 'candidate.opened')) openedAt = Date.now();
      // Keep watching 3 s after the candidate opened (no duplicates), give up after 40 s (a loaded CI box).
      if ((openedAt && Date.now() - openedAt > 3000) || Date.now() - started > 40_000) break;
    }
    await engine.stop();
  }, 180_000);
  afterAll(async () => {
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('samples the stream and raises exactly one candidate for the parked van, with evidence', () => {
    expect(frames).toBeGreaterThan(6);
    const opened = events.filter((x) => x.kind === 'candidate.opened').map((x) => x.e);
    expect(opened).toHaveLength(1);
    const van = { x1: VAN_BOX.x1 / 768, y1: VAN_BOX.y1 / 576, x2: VAN_BOX.x2 / 768, y2: VAN_BOX.y2 / 576 };
    expect(iou(opened[0].box, van)).toBeGreaterThan(0.5);
    expect(opened[0].eventCode).toBe('09009');
    expect(existsSync(join(dir, opened[0].evidence.annotatedJpeg!))).toBe(true);
  });
});
