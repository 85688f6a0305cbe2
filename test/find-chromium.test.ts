import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchChromium, npmChromium } from './find-chromium.js';

const root = join(import.meta.dirname, '..');

describe('the browser for the browser tests', () => {
  it('a CHROMIUM_PATH that is not there fails in one line, it does not fall back silently', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./test/find-chromium.ts').then((m) => m.findChromium()).then(() => console.log('found'), (e) => { console.log(e.message); process.exit(3); })"], {
      cwd: root, encoding: 'utf8', env: { ...process.env, CHROMIUM_PATH: '/nonexistent/chrome' }, timeout: 60_000,
    });
    expect(r.status).toBe(3);
    expect(r.stdout.trim()).toBe('CHROMIUM_PATH=/nonexistent/chrome is not an executable file (unset it to use another browser)');
  }, 90_000);

  it('the npm-shipped Chromium unpacks and plays H.264 with its own libraries (the fallback on machines without one)', async () => {
    const npm = await npmChromium();
    // npm install brings it on x64 Linux (devDependency); elsewhere there is nothing to check here
    if (process.platform === 'linux' && process.arch === 'x64') expect(npm).toBeDefined();
    if (!npm) return;
    expect(npm.env?.LD_LIBRARY_PATH).toContain(join('lib'));
    const browser = await launchChromium([], {}, npm);
    try {
      const page = await browser.newPage();
      await page.setContent('<p id=t>你好</p>');
      expect(await page.locator('#t').textContent()).toBe('你好');
      expect(await page.evaluate('MediaSource.isTypeSupported(\'video/mp4; codecs="avc1.4d401f"\')')).toBe(true);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
