import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * A fresh clone on a user's machine has nothing beside it: no code, test, bench or script may reach
 * outside the repository for weights or footage (they are committed: models/, test/fixtures/).
 */
const root = join(import.meta.dirname, '..');
// The folder beside the checkout, built from a variable so that this file does not name it itself.
const folder = 'shared';
const OUTSIDE = new RegExp(`\\.\\./${folder}\\b|['"]\\.\\.['"]\\s*,\\s*['"]${folder}['"]`);

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root });
  return out.toString('utf8').split('\0').filter(Boolean);
}

describe('the repository is self-contained', () => {
  it('no source, test, bench, script or CI file names the folder beside the checkout', () => {
    const code = trackedFiles().filter((f) => /\.(ts|tsx|js|mjs|cjs|json|sh)$/.test(f) || f.startsWith('.ci/') || f === 'package.json');
    expect(code.length).toBeGreaterThan(100);
    const offenders = code.filter((f) => f !== 'package-lock.json' && OUTSIDE.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('the default weights are committed and match their manifests', () => {
    for (const id of ['yolox_nano', 'nanodet_m_416']) {
      const manifest = JSON.parse(readFileSync(join(root, 'models', `${id}.json`), 'utf8')) as { file: string; sha256: string };
      const weights = readFileSync(join(root, 'models', manifest.file));
      expect(createHash('sha256').update(weights).digest('hex')).toBe(manifest.sha256);
      expect(readFileSync(join(root, 'models', `${id}.LICENSE`), 'utf8')).toMatch(/Apache License/);
    }
  });

  it('the test footage is committed with its licence', () => {
    const media = join(root, 'test', 'fixtures', 'media');
    expect(readFileSync(join(media, 'street-pedestrians-30s.mp4')).length).toBeGreaterThan(500_000);
    expect(readFileSync(join(media, 'street-pedestrians-t20.jpg')).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(readFileSync(join(media, 'street-pedestrians-30s.COPYRIGHT'), 'utf8')).toMatch(/Apache|BSD/);
  });
});
