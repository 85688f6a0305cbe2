/**
 * A quiet fleet of small cameras (320×180 main, 160×90 sub, 5 fps) in a temp directory of its own, for tests and
 * benches that need real RTSP/ONVIF cameras but not real pictures: one shared encode, about a second cold.
 * stop() also removes the directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startSimulator, type Simulator, type SimulatorOptions } from './index.js';

export async function startSmallFleet(cameras: number, extra: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const dataDir = await mkdtemp(join(tmpdir(), 'streeteye-small-fleet-'));
  try {
    const sim = await startSimulator({
      cameras, dataDir, labelledCameras: 0, mainSize: { width: 320, height: 180 }, subSize: { width: 160, height: 90 }, fps: 5,
      discoveryMulticast: false, logger: pino({ level: 'silent' }), ...extra,
    });
    const stop = sim.stop.bind(sim);
    return Object.assign(sim, { stop: async () => { await stop(); await rm(dataDir, { recursive: true, force: true }); } });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}
