/**
 * Finds a Chromium for the browser tests and benches, on any Linux machine with Node.js 20 (no vitest imports:
 * the benches use it too). In this order:
 *   1. CHROMIUM_PATH (must exist: a wrong path is an error, not a reason to look elsewhere)
 *   2. /usr/bin/chromium (Debian's package; .ci/run installs it)
 *   3. chromium-browser, chromium, google-chrome on PATH
 *   4. Playwright's own browser cache (PLAYWRIGHT_BROWSERS_PATH or ~/.cache/ms-playwright), newest first
 *   5. the headless Chromium that `npm install` brought (@sparticuz/chromium, x64 Linux): its brotli'd binary and
 *      the NSS/expat libraries it needs are unpacked once into node_modules/.cache, and the browser is started
 *      with those libraries first on LD_LIBRARY_PATH, so it runs on a bare Debian/Ubuntu without libnss3.
 * When none is there, launching throws one line that says how to get one: a browser test never skips silently.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, createReadStream, createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const NO_BROWSER_MESSAGE =
  'No Chromium for the browser tests: run `npm install` (it brings @sparticuz/chromium, x64 Linux), or `apt-get install chromium`, or set CHROMIUM_PATH=/path/to/chrome';

export interface FoundChromium {
  executablePath: string;
  /** where it came from, for logs */
  source: 'CHROMIUM_PATH' | 'system' | 'PATH' | 'playwright-cache' | 'npm';
  /** extra environment for the browser process (the npm browser's own libraries) */
  env?: Record<string, string>;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Playwright's cache: chromium-<rev>/chrome-linux{,64}/chrome and chromium_headless_shell-<rev>/…/headless_shell. */
function fromPlaywrightCache(): string | undefined {
  const root = process.env.PLAYWRIGHT_BROWSERS_PATH && process.env.PLAYWRIGHT_BROWSERS_PATH !== '0'
    ? process.env.PLAYWRIGHT_BROWSERS_PATH
    : join(homedir(), '.cache', 'ms-playwright');
  let dirs: string[];
  try {
    dirs = readdirSync(root);
  } catch {
    return undefined;
  }
  const rev = (d: string) => Number(/-(\d+)$/.exec(d)?.[1] ?? 0);
  for (const d of dirs.filter((x) => /^chromium(_headless_shell)?-\d+$/.test(x)).sort((a, b) => rev(b) - rev(a))) {
    for (const rel of ['chrome-linux/chrome', 'chrome-linux64/chrome', 'chrome-linux/headless_shell', 'chrome-headless-shell-linux64/chrome-headless-shell']) {
      const p = join(root, d, rel);
      if (executable(p)) return p;
    }
  }
  return undefined;
}

const require = createRequire(import.meta.url);

/** The package folder of @sparticuz/chromium (its exports map hides package.json from require.resolve). */
function npmBrowserRoot(): string | undefined {
  let dir: string;
  try {
    dir = dirname(require.resolve('@sparticuz/chromium'));
  } catch {
    return undefined;
  }
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin'))) return dir;
  }
  return undefined;
}

function npmBrowserDir(): { bin: string; version: string } | undefined {
  const root = npmBrowserRoot();
  if (!root) return undefined;
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const bin = join(root, 'bin');
  return existsSync(join(bin, 'chromium.br')) ? { bin, version } : undefined;
}

function cacheRoots(): string[] {
  // node_modules/.cache beside the package (per checkout, removed with node_modules), else the temp dir
  const roots: string[] = [];
  const pkg = npmBrowserRoot();
  if (pkg) roots.push(join(pkg, '..', '..', '.cache', 'streeteye-chromium'));
  roots.push(join(tmpdir(), 'streeteye-chromium'));
  return roots;
}

/** Unpacks the npm browser once (temp dir + rename, so parallel test files never see half a binary). */
async function unpackNpmBrowser(bin: string, version: string): Promise<string> {
  let lastErr: unknown;
  for (const root of cacheRoots()) {
    const dir = join(root, version);
    if (existsSync(join(dir, 'complete'))) return dir;
    const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      mkdirSync(tmp, { recursive: true });
      await pipeline(createReadStream(join(bin, 'chromium.br')), createBrotliDecompress(), createWriteStream(join(tmp, 'chromium'), { mode: 0o755 }));
      // al2023.tar.br: NSS, NSPR and expat (lib/…); fonts.tar.br: a fontconfig file and fonts for machines without any
      for (const archive of ['al2023.tar.br', 'fonts.tar.br']) {
        await pipeline(createReadStream(join(bin, archive)), createBrotliDecompress(), createWriteStream(join(tmp, archive.replace(/\.br$/, ''))));
        const r = spawnSync('tar', ['--no-same-owner', '-xf', join(tmp, archive.replace(/\.br$/, '')), '-C', tmp], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`tar -xf ${archive}: ${r.error?.message ?? r.stderr.trim()}`);
        rmSync(join(tmp, archive.replace(/\.br$/, '')));
      }
      // the package's fonts.conf names Lambda's folders: point it at the fonts unpacked here
      writeFileSync(join(tmp, 'fonts.conf'), `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>${join(dir, 'fonts')}</dir><cachedir>${join(dir, 'fonts-cache')}</cachedir></fontconfig>\n`);
      writeFileSync(join(tmp, 'complete'), new Date().toISOString());
      try {
        renameSync(tmp, dir);
      } catch {
        rmSync(tmp, { recursive: true, force: true }); // another process won the race: use its copy
      }
      if (existsSync(join(dir, 'complete'))) return dir;
    } catch (err) {
      lastErr = err;
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  throw new Error(`could not unpack @sparticuz/chromium: ${(lastErr as Error)?.message ?? 'no writable cache directory'}`);
}

let found: Promise<FoundChromium> | undefined;

/** The browser to launch (cached per process). Rejects with NO_BROWSER_MESSAGE when there is none. */
export function findChromium(): Promise<FoundChromium> {
  found ??= locate();
  return found;
}

async function locate(): Promise<FoundChromium> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} is not an executable file (unset it to use another browser)`);
    return { executablePath: fromEnv, source: 'CHROMIUM_PATH' };
  }
  if (executable('/usr/bin/chromium')) return { executablePath: '/usr/bin/chromium', source: 'system' };
  for (const name of ['chromium-browser', 'chromium', 'google-chrome', 'google-chrome-stable']) {
    const p = onPath(name);
    if (p) return { executablePath: p, source: 'PATH' };
  }
  const cached = fromPlaywrightCache();
  if (cached) return { executablePath: cached, source: 'playwright-cache' };
  const npm = await npmChromium();
  if (npm) return npm;
  throw new Error(NO_BROWSER_MESSAGE);
}

/** The browser `npm install` brought (unpacked on first use), or undefined where the package is absent or not for this platform. */
export async function npmChromium(): Promise<FoundChromium | undefined> {
  const npm = process.platform === 'linux' && process.arch === 'x64' ? npmBrowserDir() : undefined;
  if (!npm) return undefined;
  const dir = await unpackNpmBrowser(npm.bin, npm.version);
  const env: Record<string, string> = { LD_LIBRARY_PATH: [join(dir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  // a machine without fontconfig's own configuration gets the package's (else pages render without any font)
  if (!process.env.FONTCONFIG_PATH && !existsSync('/etc/fonts/fonts.conf')) env.FONTCONFIG_PATH = dir;
  return { executablePath: join(dir, 'chromium'), source: 'npm', env };
}

/** Launches the found Chromium headless with the project's flags (plus extraArgs). */
export async function launchChromium(extraArgs: string[] = [], options: LaunchOptions = {}, which?: FoundChromium): Promise<Browser> {
  const c = which ?? (await findChromium());
  return chromium.launch({
    ...options,
    executablePath: c.executablePath,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    ...(c.env ? { env: { ...process.env, ...c.env } as Record<string, string> } : {}),
  });
}
