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

  async function candidate(minutesAgo: number): Promise<string> {
    const id = randomUUID();
    const svc = h.t.ctx.analytics;
    await mkdir(join(svc.evidenceDir, 'e2e', id), { recursive: true });
    await copyFile(still, join(svc.evidenceDir, 'e2e', id, 'annotated.jpg'));
    const at = new Date(Date.now() - minutesAgo * 60_000);
    await h.t.db.query(`INSERT INTO events (id, camera_id, event_type, event_code, score, label, first_seen, last_seen, evidence_jpeg)
      VALUES ($1, $2, 'illegal_motor_parking', '09009', 0.9, 'truck', $3, $3, $4)`, [id, cameraId, at, join('e2e', id, 'annotated.jpg')]);
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
});
