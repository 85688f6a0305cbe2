/** Child process of bench:record: a simulated fleet (its CPU is not the recorder's), cameras printed as one JSON line. */
import { startSmallFleet } from '../simulator/small-fleet.js';

const n = Number(process.argv[2] ?? '20');
const [w, h] = (process.argv[3] ?? '640x360').split('x').map(Number);
const fps = Number(process.argv[4] ?? '25');
const sim = await startSmallFleet(n, { subSize: { width: w, height: h }, mainSize: { width: w, height: h }, fps });
process.stdout.write(JSON.stringify(sim.cameras()) + '\n');
process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
