import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CONSOLE_DIST } from '../server/http/console-static.js';
import { createTestApp, TEST_PASSWORD, type TestApp } from './app.js';
import type { Role } from '../server/auth/roles.js';
import { launchChromium } from './find-chromium.js';

// The browser is found by test/find-chromium.ts: CHROMIUM_PATH, Debian's, PATH, Playwright's cache, else the npm one.
export { CHROMIUM_ARGS, findChromium, launchChromium } from './find-chromium.js';

export function assertConsoleBuilt(): void {
  if (!existsSync(join(CONSOLE_DIST, 'index.html'))) {
    throw new Error('console/dist is missing: run `npm run build:console` first (npm test does it)');
  }
}

/** A test app listening on a real port, serving the built console, and one Chromium. */
export interface ConsoleHarness {
  t: TestApp;
  browser: Browser;
  baseUrl: string;
  /** A fresh browser context logged in as the user with this role (users are named after their role). */
  loggedIn(role: Role): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export async function startConsole(opts: Parameters<typeof createTestApp>[0] = {}): Promise<ConsoleHarness> {
  assertConsoleBuilt();
  const t = await createTestApp(opts);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = t.app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no listening address');
  const baseUrl = `http://127.0.0.1:${addr.port}`;
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    await t.close();
    throw err;
  }
  return {
    t,
    browser,
    baseUrl,
    async loggedIn(role) {
      const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
      const page = await context.newPage();
      await loginThroughForm(page, baseUrl, role, TEST_PASSWORD);
      return { context, page };
    },
    async close() {
      await browser.close().catch(() => {});
      await t.close();
    },
  };
}

/** Logs in through the console's login form and waits for the shell to appear. */
export async function loginThroughForm(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('#login-username').fill(username);
  await page.locator('#login-password').fill(password);
  await page.locator('form.login button[type=submit]').click();
  await page.locator('header.topbar').waitFor();
}
