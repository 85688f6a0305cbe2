import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { loginThroughForm, startConsole, type ConsoleHarness } from '../../test/browser.js';
import { TEST_PASSWORD } from '../../test/app.js';

/**
 * The console in a real Chromium against a real server (PGlite): one browser for the file, one
 * context per role, pages reused. Screenshots for a look: SCREENSHOT_DIR=/tmp/shots.
 */
const HEADER = 'national_id,name,owner,sharing,lat,lng,address,district,street,community,grid_code,tags,rtsp_main,rtsp_sub,onvif_url,username,password';
const BAD_CSV = [
  HEADER,
  '34020000001320000001,东门路口,城管局,shared,31.2304,121.4737,东门路 1 号,黄浦区,外滩街道,东门社区,31010100100101,路口;主干道,rtsp://192.0.2.10:554/main,,,,',
  '34020000001320000002,西门路口,城管局,shared,91.5,121.4738,西门路 2 号,黄浦区,外滩街道,西门社区,,,file:///etc/passwd,,,,',
].join('\n');
const GOOD_CSV = [
  HEADER,
  '34020000001320000011,人民广场东,城管局,shared,31.2304,121.4737,人民大道 1 号,黄浦区,南京东路街道,人民广场社区,31010100100101,广场,rtsp://192.0.2.11:554/main,rtsp://192.0.2.11:554/sub,,admin,secret',
  '34020000001320000012,南京路步行街口,商务委,shared,31.2356,121.4800,南京东路 300 号,黄浦区,南京东路街道,,,步行街;商业,rtsp://192.0.2.12:554/main,,,,',
  '34020000001320000013,外滩观景台,公安分局,restricted,31.2400,121.4900,中山东一路,黄浦区,外滩街道,,,,rtsp://192.0.2.13:554/main,,,,',
].join('\n');
const XSS_NAME = '<img src=x onerror=alert(1)>';

let h: ConsoleHarness;
let dir: string;
let admin: { context: BrowserContext; page: Page };
const dialogs: string[] = [];
const shots = process.env.SCREENSHOT_DIR;

async function shot(page: Page, name: string) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

async function cameraCount(): Promise<number> {
  const res = await h.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM cameras');
  return res.rows[0].n;
}

describe('console in Chromium', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streeteye-e2e-'));
    await writeFile(join(dir, 'bad.csv'), BAD_CSV);
    await writeFile(join(dir, 'good.csv'), GOOD_CSV);
    h = await startConsole();
  });

  afterAll(async () => {
    await admin?.context.close();
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the error for a wrong password, then logs in and goes live', async () => {
    const context = await h.browser.newContext({ baseURL: h.baseUrl, viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    const page = await context.newPage();
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    await page.goto('/cameras');
    await page.waitForURL('**/login');
    await shot(page, 'login');
    await page.locator('#login-username').fill('admin');
    await page.locator('#login-password').fill('not-the-password');
    await page.locator('form.login button[type=submit]').click();
    await expect.poll(() => page.getByTestId('login-error').textContent()).toContain('Wrong username or password');
    await page.locator('#login-password').fill(TEST_PASSWORD);
    await page.locator('form.login button[type=submit]').click();
    // Back where the user was headed.
    await page.waitForURL('**/cameras');
    await page.getByTestId('camera-table').waitFor();
    await expect.poll(() => page.getByTestId('live-state').getAttribute('data-state')).toBe('live');
    await expect.poll(() => page.getByTestId('nav-admin').count()).toBe(1);
    admin = { context, page };
  });

  it('rejects a CSV with a bad row, shows the row error and writes nothing', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: /Import CSV/ }).click();
    await page.waitForURL('**/cameras/import');
    await page.getByTestId('csv-file').setInputFiles(join(dir, 'bad.csv'));
    await page.getByTestId('import-run').click();
    await page.getByTestId('import-rejected').waitFor();
    const table = page.getByTestId('import-errors');
    const rows = table.locator('tbody tr');
    // one bad row with two errors (latitude out of range, not an rtsp:// URL)
    await expect.poll(() => rows.count()).toBe(2);
    const cells = await rows.filter({ hasText: 'rtsp_main' }).first().locator('td').allTextContents();
    expect(cells[0]).toBe('3');
    expect(cells[1]).toBe('rtsp_main');
    expect(cells[2]).toMatch(/rtsp/i);
    expect(await rows.filter({ hasText: 'lat' }).count()).toBe(1);
    expect(await page.getByTestId('import-rejected').textContent()).toContain('nothing was imported');
    await shot(page, 'import-rejected');
    expect(await cameraCount()).toBe(0);
    // Offered afterwards: write the good rows only.
    await page.getByTestId('import-partial').click();
    // rows are counted, not errors: one row skipped although it had two errors
    await expect.poll(() => page.getByTestId('import-summary').textContent()).toMatch(/created\s*1.*skipped\s*1\s*行/);
    expect(await page.getByTestId('import-errors').locator('tbody tr').count()).toBe(2);
    expect(await cameraCount()).toBe(1);
  });

  it('imports a good CSV and shows its rows in the table', async () => {
    const { page } = admin;
    await page.getByTestId('csv-file').setInputFiles(join(dir, 'good.csv'));
    await page.getByTestId('import-run').click();
    await expect.poll(() => page.getByTestId('import-summary').textContent()).toMatch(/created\s*3/);
    await page.getByRole('link', { name: /View cameras/ }).click();
    await page.waitForURL('**/cameras');
    const table = page.getByTestId('camera-table');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(4);
    await expect.poll(() => page.getByTestId('total').textContent()).toBe('4');
    const names = await table.locator('tbody a.row-link').allTextContents();
    expect(names.sort()).toEqual(['东门路口', '人民广场东', '南京路步行街口', '外滩观景台'].sort());
    // Health pushed over /api/ws updates the row in place.
    const id = (await h.t.db.query<{ id: string }>(`SELECT id FROM cameras WHERE name = '人民广场东'`)).rows[0].id;
    h.t.ctx.bus.publish('camera.status', { status: 'auth_failed', reason: 'RTSP 401 Unauthorized' }, id);
    const row = table.locator('tbody tr', { hasText: '人民广场东' });
    await expect.poll(() => row.locator('.badge').first().textContent()).toContain('auth failed');
    // Export: a plain download link that carries the filters and the cookie.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.replace(/^\uFEFF/, '').split(/\r?\n/).filter(Boolean)).toHaveLength(5);
    expect(csv).toContain('南京路步行街口');
    // Search is server-side and debounced.
    await page.getByRole('searchbox', { name: /Search/ }).fill('观景台');
    await expect.poll(() => table.locator('tbody a.row-link').allTextContents()).toEqual(['外滩观景台']);
    await shot(page, 'cameras');
    await page.getByRole('searchbox', { name: /Search/ }).fill('');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(4);
  });

  it('shows HTML in a camera name as text and runs no script', async () => {
    const { page } = admin;
    const res = await h.t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: await h.t.cookie('admin') }, payload: { name: XSS_NAME, address: '<script>alert(2)</script>' } });
    expect(res.statusCode).toBe(201);
    await page.goto('/cameras?q=onerror');
    const link = page.getByTestId('camera-table').locator('tbody a.row-link');
    await expect.poll(() => link.allTextContents()).toEqual([XSS_NAME]);
    expect(await page.getByTestId('camera-table').locator('img').count()).toBe(0);
    await link.first().click();
    await expect.poll(() => page.locator('h1').textContent()).toContain(XSS_NAME);
    expect(await page.locator('input[name=address]').inputValue()).toBe('<script>alert(2)</script>');
    await page.waitForTimeout(200);
    expect(dialogs).toEqual([]);
  });

  it('puts the server\'s field error next to the field in the camera form', async () => {
    const { page } = admin;
    await page.goto('/cameras/new');
    await page.locator('input[name=name]').fill('测试点位 form');
    await page.locator('input[name=rtspMain]').fill('file:///etc/passwd');
    await page.getByRole('button', { name: /Create/ }).click();
    const field = page.locator('.field-invalid', { has: page.locator('input[name=rtspMain]') });
    await field.waitFor();
    expect(await field.locator('.field-error').textContent()).toMatch(/rtsp:\/\//);
    expect(await page.locator('input[name=rtspMain]').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.field-invalid').count()).toBe(1);
    await shot(page, 'camera-form-error');
    await page.locator('input[name=rtspMain]').fill('rtsp://192.0.2.50:554/main');
    await page.getByRole('button', { name: /Create/ }).click();
    await page.waitForURL(/\/cameras\/[0-9a-f-]{36}$/);
    expect(await cameraCount()).toBe(6);
  });

  it('lets an admin create a user, change the role and disable the account', async () => {
    const { page } = admin;
    await page.getByTestId('nav-admin').click();
    await page.getByTestId('users-table').locator('tbody tr').first().waitFor();
    await page.getByRole('button', { name: /New user/ }).click();
    const form = page.getByTestId('new-user');
    await form.locator('input[name=username]').fill('zhang.san');
    await form.locator('input[name=displayName]').fill('张三');
    await form.locator('input[name=password]').fill('short');
    await form.locator('select[name=role]').selectOption('reviewer');
    await form.getByRole('button', { name: /Create/ }).click();
    await expect.poll(() => form.locator('.field-error').allTextContents()).toHaveLength(1);
    await form.locator('input[name=password]').fill('long-enough-1');
    await form.getByRole('button', { name: /Create/ }).click();
    const row = page.locator('tr[data-username="zhang.san"]');
    await row.waitFor();
    await row.locator('select').selectOption('operator');
    await expect.poll(async () => (await h.t.db.query<{ role: string }>(`SELECT role FROM users WHERE username = 'zhang.san'`)).rows[0].role).toBe('operator');
    await row.getByRole('button', { name: /Disable/ }).click();
    await row.getByRole('button', { name: /Enable/ }).waitFor();
    await shot(page, 'users');
  });

  it('gives an operator no Users page and no import', async () => {
    const { context, page } = await h.loggedIn('operator');
    try {
      // Operators land on the video wall.
      await page.waitForURL('**/wall');
      await page.getByTestId('nav-cameras').click();
      await page.waitForURL('**/cameras');
      await page.getByTestId('camera-table').locator('tbody tr').first().waitFor();
      expect(await page.getByTestId('nav-admin').count()).toBe(0);
      expect(await page.getByRole('link', { name: /Import CSV/ }).count()).toBe(0);
      expect(await page.getByTestId('export').count()).toBe(0);
      // Restricted cameras are not in an operator's list.
      expect(await page.getByTestId('camera-table').locator('tbody a.row-link', { hasText: '外滩观景台' }).count()).toBe(0);
      await page.goto('/users');
      await page.getByRole('alert').filter({ hasText: 'Not allowed' }).waitFor();
      await page.goto('/cameras/import');
      await page.getByRole('alert').filter({ hasText: 'Not allowed' }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('pages through thousands of cameras without rendering them all', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `,批量点位-${String(i).padStart(4, '0')},运维公司,shared,,,,浦东新区,陆家嘴街道,,,bulk,rtsp://192.0.2.${i % 250}:554/s${i},,,,`);
    const res = await h.t.app.inject({ method: 'POST', url: '/api/cameras/import', headers: { cookie: await h.t.cookie('admin'), 'content-type': 'text/csv' }, payload: [HEADER, ...rows].join('\n') });
    expect(res.statusCode, res.body).toBe(200);
    const { page } = admin;
    await page.getByTestId('nav-cameras').click();
    const table = page.getByTestId('camera-table');
    await expect.poll(() => page.getByTestId('total').textContent()).toBe('3006');
    expect(await table.locator('tbody tr').count()).toBe(100);
    await page.getByTestId('filter-district').selectOption('浦东新区');
    await expect.poll(() => page.getByTestId('total').textContent()).toBe('3000');
    await page.locator('body').press(']');
    await expect.poll(() => page.getByTestId('range').textContent()).toMatch(/^101–200/);
    expect(await table.locator('tbody tr').count()).toBe(100);
    await page.locator('body').press('/');
    await page.keyboard.type('点位-2345');
    await expect.poll(() => table.locator('tbody a.row-link').allTextContents()).toEqual(['批量点位-2345']);
    expect(page.url()).toContain('district=');
  });

  it('sends a logged-out browser to the login page', async () => {
    const context = await h.browser.newContext({ baseURL: h.baseUrl });
    const page = await context.newPage();
    await page.goto('/users');
    await page.waitForURL('**/login');
    await loginThroughForm(page, h.baseUrl, 'admin', TEST_PASSWORD);
    await page.waitForURL('**/users');
    await context.close();
  });
});
