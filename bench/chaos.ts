/**
 * npm run chaos [-- --cameras 100 --viewers 16 --burst 10000 --only kill-ingest,cut-ingest-db,recording-disk-full,clock-jump]
 *
 * The fault suite against the multi-process topology on PostgreSQL (server/cluster/chaos/scenarios.ts): prints one
 * row per scenario (time to recover, requests failed, incidents lost, duplicates, double pulls) and exits 1 on any
 * loss, duplicate or double pull. A shorter form runs in `npm test` (server/cluster/chaos/chaos.test.ts).
 */
import { parseArgs } from 'node:util';
import { failures, notCovered, runChaos, table } from '../server/cluster/chaos/scenarios.js';

const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '100' },
    viewers: { type: 'string', default: '16' },
    burst: { type: 'string', default: '10000' },
    only: { type: 'string' },
  },
});
// the simulated cameras listen on loopback: allowed here as in the tests (vitest.config.ts); the nodes inherit it
process.env.CAMERA_NETWORKS ??= '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,127.0.0.0/8,::1/128';
const log = (m: string) => process.stdout.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const rows = await runChaos({
  cameras: Number(values.cameras), viewers: Number(values.viewers), burst: Number(values.burst),
  only: values.only?.split(','), log,
});
process.stdout.write(`\n${table(rows)}\n\nnot covered here:\n${notCovered().map((x) => `- ${x}`).join('\n')}\n`);
const bad = failures(rows);
if (bad.length) {
  process.stdout.write(`\nFAILED:\n${bad.join('\n')}\n`);
  process.exit(1);
}
process.exit(0);
