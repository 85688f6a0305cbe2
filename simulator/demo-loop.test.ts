import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readClockStrip } from './clock-strip.js';
import { DEMO_LOOP_SPEC, shippedLoop } from './encoder.js';
import { startSimulator } from './index.js';
import { loadStream } from './media.js';

/**
 * The demo loop shipped in simulator/demo-loop/: `npm start` on a fresh clone serves it at once instead of
 * encoding for a minute. It must be a real loop of the simulator's format (60 s, 1 s GOP, clock strip).
 */
describe('the shipped demo loop', () => {
  it('is a 60 s loop at the default sizes, a keyframe every second, with a readable clock in its snapshots', async () => {
    const a = await shippedLoop(DEMO_LOOP_SPEC);
    expect(a).toBeDefined();
    const main = await loadStream(a!.main!, DEMO_LOOP_SPEC.main!, 25);
    const sub = await loadStream(a!.sub!, DEMO_LOOP_SPEC.sub!, 25);
    for (const s of [main, sub]) {
      expect(s.frames).toHaveLength(1500);
      expect(s.frames.map((f, i) => (f.key ? i : -1)).filter((i) => i >= 0)).toEqual(Array.from({ length: 60 }, (_, k) => k * 25));
    }
    expect(a!.snapshots).toHaveLength(60);
    for (const s of [0, 10, 37]) {
      const { data, info } = await sharp(a!.snapshots[s]).raw().toBuffer({ resolveWithObject: true });
      expect(readClockStrip(data, info.width, info.height, info.channels)).toBe(s * 1000);
    }
  });

  it('a fleet asking for that picture starts without encoding anything', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'demo-loop-'));
    const sim = await startSimulator({
      cameras: 3, dataDir, labelledCameras: 0, pattern: DEMO_LOOP_SPEC.pattern, crf: DEMO_LOOP_SPEC.crf, discoveryMulticast: false, logger: pino({ level: 'silent' }),
    });
    try {
      expect(sim.cameras()).toHaveLength(3);
      expect(existsSync(join(dataDir, 'sim-cache'))).toBe(false);
      const cam = sim.cameras()[1];
      const snap = await fetch(cam.snapshotUrl, { headers: { authorization: `Basic ${Buffer.from(`${cam.username}:${cam.password}`).toString('base64')}` } });
      expect(snap.status).toBe(200);
      expect(Buffer.from(await snap.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    } finally {
      await sim.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
