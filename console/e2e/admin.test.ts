import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { loginThroughForm, startConsole, type ConsoleHarness } from '../../test/browser.js';
import { TEST_PASSWORD } from '../../test/app.js';

/**
 * Administration and audit in a real Chromium against a real server (PGlite): an API key issued in the UI (shown
 * once), used over HTTP for a 110 post, its last use shown, then revoked; departments, time limits and the 110
 * category map edited; a user changes their own password; an audit search finds what was done, and the police
 * read the camera access log. The admin's navigation fits 1920 px. SCREENSHOT_DIR=/tmp/shots saves each tab.
 */
let h: ConsoleHarness;
let admin: { context: BrowserContext; page: Page };
const shots = process.env.SCREENSHOT_DIR;
const shot = async (page: Page, name: string) => { if (shots) await page.screenshot({ path: `${shots}/${name}.png` }); };

async function post110(key: string, ticketNo: string) {
  return fetch(`${h.baseUrl}/api/110/incidents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ticketNo, reportedAt: new Date().toISOString(), address: '文三路 90 号', reportText: '占道经营', categoryCode: '0901' }),
  });
}

describe('administration and audit in Chromium', () => {
  beforeAll(async () => {
    h = await startConsole();
    const context = await h.browser.newContext({ baseURL: h.baseUrl, viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await loginThroughForm(page, h.baseUrl, 'admin', TEST_PASSWORD);
    admin = { context, page };
  });
  afterAll(async () => { await admin?.context.close(); await h?.close(); });

  it('fits the admin navigation in 1920 px with every entry and the log-out button visible', async () => {
    const { page } = admin;
    await page.goto('/cases');
    await page.getByTestId('cases-page').waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1920);
    const logout = await page.getByRole('button', { name: /退出 Log out/ }).boundingBox();
    expect(logout!.x + logout!.width).toBeLessThanOrEqual(1920);
    for (const id of ['nav-cases', 'nav-admin', 'nav-audit']) expect(await page.getByTestId(id).isVisible()).toBe(true);
    // icons are inline SVG, not font glyphs that render as empty boxes where a font lacks them
    await page.getByTestId('nav-wall').click();
    await page.locator('button[title^="全屏 Fullscreen (f)"] svg[data-icon=fullscreen]').waitFor();
    expect(await page.locator('main').innerText()).not.toMatch(/[⛶⟳✕★☆▶⏸]/);
  });

  it('issues an API key in the UI, shows it once, and the key posts a 110 incident; then revokes it', async () => {
    const { page } = admin;
    await page.getByTestId('nav-admin').click();
    await page.getByTestId('admin-tab-keys').click();
    const form = page.getByTestId('issue-key');
    await form.getByRole('button', { name: /签发/ }).click();
    await form.getByText('请填写名称').waitFor();
    await form.locator('input[name=name]').fill('市局 110 系统');
    await form.getByRole('button', { name: /签发/ }).click();
    const key = (await page.getByTestId('issued-key').innerText()).trim();
    expect(key).toMatch(/^se_[A-Za-z0-9_-]{20,}$/);
    const row = page.locator('tr[data-key="市局 110 系统"]');
    expect(await row.getByTestId('last-used').innerText()).toContain('从未');
    expect(await row.innerText()).not.toContain(key);
    await shot(page, 'admin-api-keys');
    await page.getByRole('button', { name: /我已保存/ }).click();
    expect(await page.getByTestId('issued-key').count()).toBe(0);
    await page.reload();
    expect(await page.content()).not.toContain(key); // shown once: not in the list after a reload

    const res = await post110(key, 'KEY-E2E-1');
    expect(res.status).toBe(201);
    await page.reload();
    await expect.poll(() => page.locator('tr[data-key="市局 110 系统"]').getByTestId('last-used').innerText()).not.toContain('从未');
    const desk = await h.t.app.inject({ url: '/api/110/incidents/KEY-E2E-1', headers: { cookie: await h.t.cookie('police110') } });
    expect(desk.json()).toMatchObject({ ticketNo: 'KEY-E2E-1', status: 'received' });

    await page.locator('tr[data-key="市局 110 系统"]').getByRole('button', { name: /吊销/ }).click();
    await page.locator('tr[data-key="市局 110 系统"]').getByText('已吊销').waitFor();
    expect((await post110(key, 'KEY-E2E-2')).status).toBe(401);

    // a city key comes with its signing secret, shown once
    await form.locator('input[name=name]').fill('城运平台');
    await form.locator('input[name=scope-110]').uncheck();
    await form.locator('input[name=scope-city]').check();
    await form.getByRole('button', { name: /签发/ }).click();
    expect((await page.getByTestId('issued-secret').innerText()).trim().length).toBeGreaterThan(20);
  });

  it('edits departments, time limits and the 110 category map', async () => {
    const { page } = admin;
    await page.getByTestId('admin-tab-departments').click();
    const dform = page.getByTestId('department-form');
    await dform.locator('input[name=name]').fill('拱墅区城管中队');
    await dform.locator('input[name=contact]').fill('赵队长');
    await dform.locator('input[name=phone]').fill('0571-8765 4321');
    await dform.getByRole('button', { name: /添加/ }).click();
    await page.locator('tr[data-department="拱墅区城管中队"]').waitFor();
    await dform.locator('input[name=name]').fill('拱墅区城管中队');
    await dform.getByRole('button', { name: /添加/ }).click();
    await page.getByText(/已有名为/).waitFor();
    await shot(page, 'admin-departments');

    await page.getByTestId('admin-tab-event-types').click();
    const et = page.locator('tr[data-event-type="exposed_garbage"]');
    await et.waitFor();
    expect(await et.getByTestId('limit').innerText()).toContain('4 工作小时');
    await et.locator('input[type=number]').fill('15');
    await et.getByRole('button', { name: /保存/ }).click();
    await expect.poll(() => et.getByTestId('limit').innerText()).toContain('2 个工作日');
    const stored = await h.t.db.query<{ h: number }>(`SELECT time_limit_hours::float8 AS h FROM event_types WHERE key = 'exposed_garbage'`);
    expect(stored.rows[0].h).toBe(15);
    await shot(page, 'admin-event-types');

    await page.getByTestId('admin-tab-categories').click();
    const cform = page.getByTestId('category-form');
    await cform.locator('input[name=code]').fill('0999');
    await cform.locator('input[name=name]').fill('乱堆物料');
    await expect.poll(() => cform.locator('select[name=eventType] option').count()).toBeGreaterThan(5);
    await cform.locator('select[name=eventType]').selectOption('exposed_garbage');
    await cform.getByRole('button', { name: /保存/ }).click();
    await page.locator('tr[data-code="0999"]').waitFor();
    expect(await page.locator('tr[data-code="0999"]').innerText()).toContain('乱堆物料');
    await shot(page, 'admin-categories');
    await page.getByTestId('admin-tab-users').click();
    await page.getByTestId('users-table').locator('tbody tr').first().waitFor();
    await shot(page, 'admin-users');
  });

  it('lets a technician change their own password from the account page', async () => {
    const { page, context } = await h.loggedIn('technician');
    await page.getByTestId('account-link').click();
    const form = page.getByTestId('password-form');
    await form.locator('input[name=currentPassword]').fill('wrong-password');
    await form.locator('input[name=newPassword]').fill('new-password-9');
    await form.locator('input[name=again]').fill('new-password-9');
    await form.getByRole('button', { name: /修改/ }).click();
    await form.getByText('当前密码不对').first().waitFor();
    await form.locator('input[name=currentPassword]').fill(TEST_PASSWORD);
    await form.getByRole('button', { name: /修改/ }).click();
    await page.getByText('密码已修改').waitFor();
    const login = await h.t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'technician', password: 'new-password-9' } });
    expect(login.statusCode).toBe(200);
    await context.close();
  });

  it('finds what was done with an audit search, and the police read the camera access log', async () => {
    const { page } = admin;
    await page.getByTestId('nav-audit').click();
    const table = page.getByTestId('audit-table');
    await table.locator('tbody tr').first().waitFor();
    await page.locator('input[name=q]').fill('市局 110');
    // the key's creation, its revocation, and the incident it posted (the audit detail names the key)
    await expect.poll(async () => (await table.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-action')))).sort())
      .toEqual(['api_key.create', 'api_key.revoke', 'incident110.receive']);
    await page.locator('select[name=action]').selectOption('api_key.');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
    await page.locator('input[name=q]').fill('');
    await page.locator('input[name=username]').fill('technician');
    await page.locator('select[name=action]').selectOption('auth.');
    await expect.poll(async () => table.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-action'))))
      .toEqual(expect.arrayContaining(['auth.password_change', 'auth.password_change_failed', 'auth.login']));
    const href = await page.getByTestId('audit-export').getAttribute('href');
    expect(href).toMatch(/^\/api\/audit\/export\?.*username=technician/);
    const csv = await page.evaluate(async (u) => (await fetch(u!)).text(), href);
    expect(csv).toContain('auth.password_change');
    expect(csv).not.toContain('api_key.create');
    await shot(page, 'audit-trail');

    const cam = await h.t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: await h.t.cookie('admin') }, payload: { name: '受限点位 E2E', sharing: 'restricted' } });
    await h.t.db.query(`INSERT INTO camera_view_log (user_id, username, camera_id, kind, started_at, ip) SELECT id, 'admin', $1, 'snapshot', now(), '10.1.2.3' FROM users WHERE username = 'admin'`, [cam.json().id]);
    const { page: police, context } = await h.loggedIn('police110');
    await police.getByTestId('nav-audit').click();
    await police.getByTestId('audit-tab-access').click();
    const access = police.getByTestId('access-table');
    await access.getByText('受限点位 E2E').waitFor();
    expect(await access.innerText()).toContain('10.1.2.3');
    await context.close();
    const { page: op, context: opCtx } = await h.loggedIn('operator');
    expect(await op.getByTestId('nav-audit').count()).toBe(0);
    await opCtx.close();
  });

  it('tests a camera\'s connection from its page and shows what the snapshot says', async () => {
    const made = await h.t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: await h.t.cookie('admin') }, payload: { name: '测试连接点位', rtspMain: 'rtsp://127.0.0.1:9/main' } });
    const { page } = admin;
    await page.goto(`/cameras/${made.json().id}`);
    const check = page.getByTestId('camera-check');
    await check.waitFor();
    await expect.poll(() => check.locator('img').getAttribute('data-state'), { timeout: 30_000 }).toBe('failed');
    expect(await check.innerText()).toContain('取不到快照');
    await page.getByTestId('test-connection').click();
    await expect.poll(() => page.getByTestId('probe-result').innerText(), { timeout: 30_000 }).toContain('无法连接');
    expect(await page.getByTestId('probe-result').innerText()).toMatch(/RTSP/);
  });
});
