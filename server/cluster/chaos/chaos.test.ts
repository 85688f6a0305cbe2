import { describe, expect, it } from 'vitest';
import { privatePostgresAvailable } from '../private-postgres.js';
import { failures, runChaos, table } from './scenarios.js';

// The short form of `npm run chaos`: 8 cameras, 2 viewers; an ingest node cut from PostgreSQL (it must fence itself
// before the other takes its cameras), a SIGKILLed ingest node, a burst of 1,000 110 posts with repeats. Zero lost,
// zero duplicates, zero double pulls; the figures are printed, not asserted.
describe.skipIf(!process.env.TEST_DATABASE_URL && !privatePostgresAvailable())('fault suite (short form of npm run chaos)', () => {
  it('loses nothing and never pulls a camera twice', async () => {
    const rows = await runChaos({ cameras: 8, viewers: 2, burst: 1000, only: ['cut-ingest-db', 'kill-ingest', '110-burst'], log: (m) => process.stdout.write(`[chaos] ${m}\n`) });
    process.stdout.write(`${table(rows)}\n`);
    expect(rows.map((r) => r.scenario)).toHaveLength(3);
    expect(failures(rows)).toEqual([]);
  }, 240_000);
});
