import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Data flows one way: ingest → analytics → review → cases. The engine folders below know nothing of the server
// (its database, bus, routes or roles): the server wires them in (server/node.ts, server/live/, server/analytics/).

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LOWER = ['ingest', 'analytics', 'onvif'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    // tests may compose a layer with the server (e.g. analytics/migration.test.ts checks the events migration)
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every relative module specifier of a file (static imports and exports, dynamic import()). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(m[1]);
  return out;
}

describe('layers', () => {
  it.each(LOWER)('%s/ imports nothing from server/', (folder) => {
    const offending: string[] = [];
    const files = sources(join(root, folder));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const target = relative(root, resolve(dirname(file), spec));
        if (target === 'server' || target.startsWith(`server${sep}`)) offending.push(`${relative(root, file)} → ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });

  // The cases announce their steps (cases/transition-feed.ts); the 110 desk follows them when the node is wired. The
  // cases know nothing of the desk, and the desk uses only the cases' public modules, never their routes.
  const importsOf = (folder: string) => sources(join(root, folder)).flatMap((file) =>
    specifiers(readFileSync(file, 'utf8')).map((spec) => ({ from: relative(root, file), to: relative(root, resolve(dirname(file), spec)) })));
  it('server/cases/ imports nothing from server/desk110/', () => {
    const found = importsOf('server/cases');
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((i) => i.to.startsWith(join('server', 'desk110'))).map((i) => `${i.from} → ${i.to}`)).toEqual([]);
  });
  it('server/desk110/ uses only the public modules of server/cases/', () => {
    const PUBLIC = ['case-service.js', 'case-types.js', 'transition-feed.js'].map((f) => join('server', 'cases', f));
    const found = importsOf('server/desk110').filter((i) => i.to.startsWith(join('server', 'cases') + sep));
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((i) => !PUBLIC.includes(i.to)).map((i) => `${i.from} → ${i.to}`)).toEqual([]);
  });

  it('the check sees a server import when there is one', () => {
    expect(specifiers(`import type { AppContext } from '../server/context.js';\nconst m = await import('../../server/bus.js');`))
      .toEqual(['../server/context.js', '../../server/bus.js']);
  });
});
