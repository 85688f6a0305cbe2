import { randomUUID } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type ConsoleHarness } from '../../test/browser.js';

/**
 * The review desk in Chromium: the queue oldest-first, evidence shown, a new candidate arriving over the WebSocket,
 * and review by keyboard only: C + Enter files a case, R + 1 rejects as a misdetection, J/K move.
 */
let h: ConsoleHarness;
const still = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'media', 'street-pedestrians-t20.jpg');

describe('review desk in Chromium', () => {
  let cameraId: string;
  beforeAll(async () => {
    h = await startConsole();
    cameraId = (await h.t.db.query<{ id: string }>(`INSERT INTO cameras (name, grid_code, address) VALUES ('review-cam', '33010200100101', '延安路') RETURNING id`)).rows[0].id;
  });
  afterAll(async () => { await h?.close(); });

  async function candidate(minutesAgo: number, type: { key: string; code: string } = { key: 'illegal_motor_parking', code: '09009' }): Promise<string> {
    const id = randomUUID();
    const svc = h.t.ctx.analytics;
    await mkdir(join(svc.evidenceDir, 'e2e', id), { recursive: true });
    await copyFile(still, join(svc.evidenceDir, 'e2e', id, 'annotated.jpg'));
    const at = new Date(Date.now() - minutesAgo * 60_000);
    await h.t.db.query(`INSERT INTO events (id, camera_id, event_type, event_code, score, label, first_seen, last_seen, evidence_jpeg)
      VALUES ($1, $2, $5, $6, 0.9, 'truck', $3, $3, $4)`, [id, cameraId, at, join('e2e', id, 'annotated.jpg'), type.key, type.code]);
    return id;
  }

  it('reviews the queue with the keyboard and sees new candidates arrive live', async () => {
    const oldest = await candidate(30);
    const middle = await candidate(20);
    const { page, context } = await h.loggedIn('reviewer');
    try {
      await page.goto('/review');
      const queue = page.getByTestId('review-queue');
      await expect.poll(() => queue.locator('li[data-event-id]').count(), { timeout: 15_000 }).toBe(2);
      expect(await queue.locator('li[data-event-id]').first().getAttribute('data-event-id')).toBe(oldest);
      const evidence = page.getByTestId('review-evidence');
      await expect.poll(() => evidence.getAttribute('data-event-id')).toBe(oldest);
      await expect.poll(() => evidence.locator('img').evaluate((el) => { const img = el as unknown as { complete: boolean; naturalWidth: number }; return img.complete ? img.naturalWidth : 0; })).toBeGreaterThan(0);

      // a new candidate arrives over the WebSocket
      const fresh = await candidate(10);
      h.t.ctx.bus.publish('event.candidate', { kind: 'opened', id: fresh, cameraId, eventType: 'illegal_motor_parking' }, cameraId);
      await expect.poll(() => queue.locator('li[data-event-id]').count()).toBe(3);

      // J/K move; C + Enter confirms the current one
      await page.keyboard.press('j');
      await expect.poll(() => evidence.getAttribute('data-event-id')).toBe(middle);
      await page.keyboard.press('k');
      await expect.poll(() => evidence.getAttribute('data-event-id')).toBe(oldest);
      await page.keyboard.press('c');
      await page.getByRole('form', { name: /Confirm/ }).waitFor();
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByTestId('review-flash').innerText()).toMatch(/SE\d{8}-\d{6}|Case filed/);
      const confirmed = (await h.t.db.query<{ status: string; case_id: string | null }>('SELECT status, case_id FROM events WHERE id = $1', [oldest])).rows[0];
      expect(confirmed.status).toBe('confirmed');
      expect(confirmed.case_id).not.toBeNull();

      // R + 1 rejects the next one as a misdetection
      await expect.poll(() => evidence.getAttribute('data-event-id')).toBe(middle);
      await page.keyboard.press('r');
      await page.getByRole('group', { name: /Reject reason/ }).waitFor();
      await page.keyboard.press('1');
      await expect.poll(() => page.getByTestId('review-flash').innerText()).toMatch(/Rejected/);
      const rejected = (await h.t.db.query<{ status: string; reject_reason: string }>('SELECT status, reject_reason FROM events WHERE id = $1', [middle])).rows[0];
      expect(rejected).toEqual({ status: 'rejected', reject_reason: 'misdetection' });
      await expect.poll(() => queue.locator('li[data-event-id]').count()).toBe(1);
    } finally {
      await context.close();
    }
  });
  it('offers the reject reasons of the event\'s type, which an admin edits in Administration', async () => {
    const stall = await candidate(5, { key: 'road_occupying_stall', code: '09006' });
    const parked = await candidate(4);
    const reasonsShown = async (page: import('playwright-core').Page, id: string) => {
      await page.locator(`li[data-event-id="${id}"]`).click();
      await expect.poll(() => page.getByTestId('review-evidence').getAttribute('data-event-id')).toBe(id);
      await page.keyboard.press('r');
      const list = page.getByTestId('reject-reasons');
      await expect.poll(() => list.locator('li').count()).toBeGreaterThan(2);
      const keys = await list.locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-reason')));
      await page.keyboard.press('Escape');
      return keys;
    };
    const reviewer = await h.loggedIn('reviewer');
    await reviewer.page.goto('/review');
    const stallKeys = await reasonsShown(reviewer.page, stall);
    expect(stallKeys).toContain('licensed_vendor');
    expect(stallKeys).not.toContain('legal_parking_bay');
    const parkedKeys = await reasonsShown(reviewer.page, parked);
    expect(parkedKeys).toEqual(['misdetection', 'duplicate', 'legal_parking_bay', 'brief_stop', 'service_vehicle', 'permanent_object', 'other']);
    expect(parkedKeys).not.toContain('bin_not_overflowing');
    await reviewer.context.close();

    // the admin adds a reason for parking events and switches one off
    const { page, context } = await h.loggedIn('admin');
    await page.goto('/admin?tab=reject-reasons');
    const tab = page.getByTestId('reject-reasons-tab');
    await tab.getByTestId('reasons-event-type').selectOption('illegal_motor_parking');
    await expect.poll(() => tab.locator('tr[data-reason]').count()).toBe(7);
    const form = tab.getByTestId('reason-form');
    await form.locator('input[name=key]').fill('Taxi rank');
    await form.getByRole('button', { name: /添加/ }).click();
    await form.getByText(/小写字母开头/).waitFor(); // a bad key is explained, in words
    await form.locator('input[name=key]').fill('taxi_rank');
    await form.locator('input[name=nameZh]').fill('出租车候客点');
    await form.locator('input[name=nameEn]').fill('Taxi rank');
    await form.locator('input[name=sort]').fill('35');
    await form.getByRole('button', { name: /添加/ }).click();
    await tab.locator('tr[data-reason="taxi_rank"]').waitFor();
    await tab.locator('tr[data-reason="brief_stop"]').getByRole('button', { name: /停用/ }).click();
    await expect.poll(() => tab.locator('tr[data-reason="brief_stop"]').innerText()).toContain('停用 disabled');
    await context.close();

    // the desk now offers it (and not the switched-off one); choosing it rejects the event with that reason
    const again = await h.loggedIn('reviewer');
    await again.page.goto('/review');
    const keys = await reasonsShown(again.page, parked);
    expect(keys).toEqual(['misdetection', 'duplicate', 'legal_parking_bay', 'taxi_rank', 'service_vehicle', 'permanent_object', 'other']);
    await again.page.keyboard.press('r');
    await again.page.getByTestId('reject-reasons').getByRole('button', { name: /出租车候客点/ }).click();
    await expect.poll(() => again.page.getByTestId('review-flash').innerText()).toMatch(/已驳回 Rejected: 出租车候客点/);
    expect((await h.t.db.query<{ reject_reason: string }>('SELECT reject_reason FROM events WHERE id = $1', [parked])).rows[0].reject_reason).toBe('taxi_rank');
    // the server holds to the type's list: a stall reason is refused for a parking event, in words
    const r = await h.t.app.inject({ method: 'POST', url: `/api/events/${stall}/reject`, headers: { cookie: await h.t.cookie('reviewer') }, payload: { reason: 'bin_not_overflowing' } });
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toMatch(/不是该事件类型的驳回原因/);
    await again.context.close();
  });
});
