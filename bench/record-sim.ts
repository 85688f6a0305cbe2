/** Child process of bench:record: a simulated fleet (its CPU is not the recorder's), cameras printed as one JSON line. */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startSmallFleet } from '../simulator/small-fleet.js';

const n = Number(process.argv[2] ?? '20');
const [w, h] = (process.argv[3] ?? '640x360').split('x').map(Number);
const fps = Number(process.argv[4] ?? '25');
// the encode is kept between runs (the first one of a size takes a while on a small box)
const sim = await startSmallFleet(n, { subSize: { width: w, height: h }, mainSize: { width: w, height: h }, fps, dataDir: join(tmpdir(), 'streeteye-sim-record-cache') });
process.stdout.write(JSON.stringify(sim.cameras()) + '\n');
process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
