import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startConsole, type ConsoleHarness } from '../../test/browser.js';

/**
 * The 110 desk, the assessment dashboard and camera sharing in a real Chromium against a real server (PGlite).
 * A police110 user enters an incident by hand; the center accepts it through the API; the desk row turns
 * "已受理" without a reload (WebSocket topic incident.updated).
 */
let h: ConsoleHarness;

describe('110 desk, KPI dashboard and sharing in Chromium', () => {
  beforeAll(async () => { h = await startConsole(); });
  afterAll(async () => { await h?.close(); });

  it('police110 submits an incident and sees its status change live', async () => {
    const { page, context } = await h.loggedIn('police110');
    await page.goto('/desk110');
    await page.getByTestId('desk110-page').waitFor();
    const form = page.getByTestId('incident-form');
    await expect.poll(() => form.locator('select[name=categoryCode] option').count()).toBeGreaterThan(5);
    const ticket = await form.locator('input[name=ticketNo]').inputValue();
    expect(ticket).toMatch(/^DESK\d+/);
    await form.locator('select[name=categoryCode]').selectOption('0901');
    await form.locator('input[name=address]').fill('文三路 90 号');
    await form.locator('textarea[name=reportText]').fill('人行道上有流动摊贩');
    await form.locator('input[name=callerPhone]').fill('13812345678');
    await form.locator('input[name=callerName]').fill('张三');
    await form.getByRole('button', { name: /提交/ }).click();
    const row = page.locator(`tr[data-ticket="${ticket}"]`);
    await row.waitFor();
    await expect.poll(() => row.getByTestId('status').innerText()).toBe('已接收');
    expect(await row.innerText()).toContain('138****5678');
    expect(await row.innerText()).not.toContain('13812345678');

    // The center accepts it (as an operator would from the same page).
    const op = await h.t.cookie('operator');
    const r = await h.t.app.inject({ method: 'POST', url: `/api/110/incidents/${ticket}/accept`, headers: { cookie: op }, payload: {} });
    expect(r.statusCode).toBe(200);
    await expect.poll(() => row.getByTestId('status').innerText(), { timeout: 10_000 }).toBe('已受理');
    await expect.poll(() => row.innerText()).toMatch(/SE\d{8}-\d{6}/);

    // Bad input is explained next to the field.
    await form.locator('input[name=address]').fill('x');
    await form.locator('textarea[name=reportText]').fill('y');
    await form.getByRole('button', { name: /提交/ }).click();
    await form.getByText(/categoryCode|required/).first().waitFor();
    await context.close();
  });

  it('operator accepts from the desk page; admin sees the KPI charts and shares cameras in bulk', async () => {
    const police = await h.t.cookie('police110');
    await h.t.app.inject({ method: 'POST', url: '/api/110/incidents', headers: { cookie: police }, payload: { ticketNo: 'E2E-2', reportedAt: new Date().toISOString(), address: '西湖大道', reportText: '暴露垃圾', categoryCode: '0601' } });
    const { page: opPage, context: opCtx } = await h.loggedIn('operator');
    await opPage.goto('/desk110');
    const row = opPage.locator('tr[data-ticket="E2E-2"]');
    await row.getByRole('button', { name: /受理/ }).click();
    await expect.poll(() => row.getByTestId('status').innerText()).toBe('已受理');
    await opCtx.close();

    const { page, context } = await h.loggedIn('admin');
    await page.goto('/kpi');
    await page.getByTestId('kpi-page').waitFor();
    await page.getByTestId('kpi-table').waitFor();
    expect(await page.locator('figure.barchart svg').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('kpi-totals').innerText()).toContain('立案率');
    expect(await page.getByTestId('kpi-export').getAttribute('href')).toMatch(/^\/api\/kpi\/export\?from=/);

    for (const name of ['Share E2E 1', 'Share E2E 2']) {
      await h.t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: await h.t.cookie('admin') }, payload: { name } });
    }
    await sharingRoundTrip(page);
    await context.close();
  });

  it('shows police every waiting incident by default and opens one with its history and case', async () => {
    const admin = await h.t.cookie('admin');
    const key = (await h.t.app.inject({ method: 'POST', url: '/api/api-keys', headers: { cookie: admin }, payload: { name: '110 对接', scopes: ['110'] } })).json().key;
    const posted = await h.t.app.inject({ method: 'POST', url: '/api/110/incidents', headers: { authorization: `Bearer ${key}` }, payload: { ticketNo: 'API-DETAIL-1', reportedAt: new Date().toISOString(), address: '莫干山路 1 号', reportText: '店外经营占道', categoryCode: '0901' } });
    expect(posted.statusCode).toBe(201);
    await h.t.app.inject({ method: 'POST', url: '/api/110/incidents/API-DETAIL-1/accept', headers: { cookie: await h.t.cookie('operator') }, payload: {} });
    const { page, context } = await h.loggedIn('police110');
    await page.goto('/desk110');
    const row = page.locator('tr[data-ticket="API-DETAIL-1"]');
    await row.waitFor(); // not hidden behind "mine only"
    await row.getByTestId('open-incident').click();
    const detail = page.getByTestId('incident-detail');
    await detail.waitFor();
    await expect.poll(() => detail.getByTestId('incident-history').locator('li').count()).toBe(2);
    expect(await detail.getByTestId('incident-history').innerText()).toMatch(/已接收[\s\S]*已受理/);
    expect(await detail.getByTestId('detail-case').innerText()).toMatch(/SE\d{8}-\d{6}/);
    expect(await detail.innerText()).toContain('店外经营占道');
    expect(page.url()).toContain('ticket=API-DETAIL-1');
    await context.close();
  });
});

async function sharingRoundTrip(page: Page) {
  await page.goto('/sharing');
  await page.getByTestId('sharing-page').waitFor();
  for (const name of ['Share E2E 1', 'Share E2E 2']) await page.locator(`tr[data-camera="${name}"] input[type=checkbox]`).check();
  await expect.poll(() => page.getByTestId('selected-count').innerText()).toMatch(/2/);
  await page.getByTestId('bulk-restrict').click();
  await page.getByText(/已设为受限 2 路/).waitFor();
  await expect.poll(() => page.locator('tr[data-camera="Share E2E 1"]').getByTestId('sharing').innerText()).toMatch(/受限/);
  const op = await h.t.cookie('operator');
  const list = await h.t.app.inject({ url: '/api/cameras?q=share%20e2e', headers: { cookie: op } });
  expect(list.json().total).toBe(0);
}
