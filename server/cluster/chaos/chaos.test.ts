import { describe, expect, it } from 'vitest';
import { privatePostgresAvailable } from '../private-postgres.js';
import { DEFAULT_LEASE_TTL_S } from '../lease-timing.js';
import { thirdPartyPeer } from '../../../test/third-party-peers.js';
import { faketimeLibrary, failures, runChaos, table } from './scenarios.js';

// The short form of `npm run chaos`: 8 cameras, 2 viewers; an ingest node cut from PostgreSQL (it must fence itself
// before the other takes its cameras), a SIGKILLed ingest node, a clock jump on the other ingest node (its wall clock
// +15 min then −15 min, each held one lease lifetime and more: no lease may move), a burst of 1,000 110 posts with
// repeats. Zero lost, zero duplicates, zero double pulls, zero leases moved; the figures are printed, not asserted.
const faketime = thirdPartyPeer('libfaketime (for the clock-jump scenario)', faketimeLibrary() !== null, 'apt-get install faketime');
const scenarios = ['cut-ingest-db', 'kill-ingest', ...(faketime ? ['clock-jump'] : []), '110-burst'];

describe.skipIf(!process.env.TEST_DATABASE_URL && !privatePostgresAvailable())('fault suite (short form of npm run chaos)', () => {
  it('loses nothing and never pulls a camera twice', async () => {
    const rows = await runChaos({
      cameras: 8, viewers: 2, burst: 1000, only: scenarios, jumpHoldMs: DEFAULT_LEASE_TTL_S * 1000 + 1500,
      log: (m) => process.stdout.write(`[chaos] ${m}\n`),
    });
    process.stdout.write(`${table(rows)}\n`);
    expect(rows.map((r) => r.scenario)).toHaveLength(scenarios.length);
    expect(rows.every((r) => !r.note.startsWith('skipped'))).toBe(true);
    expect(failures(rows)).toEqual([]);
  }, 300_000);
});
