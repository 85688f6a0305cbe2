/**
 * Makes simulator/demo-loop/ (committed): the picture `npm start`'s demo cameras show from the first second on a
 * fresh machine. Run again after changing the encoder's picture: `npx tsx simulator/build-demo-loop.ts`.
 * Still bars (not the moving testsrc2) at constant quality keep it ~2 MB: the clock text and strip are what moves.
 */
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { DEMO_LOOP_DIR, DEMO_LOOP_SPEC, encodeLoop } from './encoder.js';

async function main(): Promise<void> {
  await rm(DEMO_LOOP_DIR, { recursive: true, force: true }); // else encodeLoop hands back the old shipped copy
  const work = await mkdtemp(join(tmpdir(), 'demo-loop-'));
  try {
    const a = await encodeLoop(resolveFfmpeg(), work, DEMO_LOOP_SPEC);
    await mkdir(DEMO_LOOP_DIR, { recursive: true });
    for (const f of await readdir(a.dir)) if (f.endsWith('.h264') || f.endsWith('.jpg')) await copyFile(join(a.dir, f), join(DEMO_LOOP_DIR, f));
    await writeFile(join(DEMO_LOOP_DIR, 'spec.json'), JSON.stringify(DEMO_LOOP_SPEC, null, 2) + '\n');
    process.stdout.write(`wrote ${DEMO_LOOP_DIR}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
