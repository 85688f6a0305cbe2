import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type ConsoleHarness } from '../../test/browser.js';
import { startSimulator } from '../../simulator/index.js';
import { testCacheDir } from '../../simulator/test-helpers.js';
import { fixtureMedia } from '../../analytics/test-helpers.js';

/**
 * A city's own model in Chromium, as an admin: a bad manifest is refused with its reason, a valid upload (the shipped
 * YOLOX-nano under another id, no download) is validated, test-run on a camera's snapshot with the boxes drawn,
 * enabled, and chosen by a new rule in the rule editor.
 */
const root = join(import.meta.dirname, '..', '..');
let h: ConsoleHarness;
let sim: Awaited<ReturnType<typeof startSimulator>>;

describe('a city\'s own model in the console', () => {
  beforeAll(async () => {
    // the shipped street clip: the model has real people and vehicles to find on the snapshot
    sim = await startSimulator({ cameras: 1, source: join(fixtureMedia, 'street-pedestrians-30s.mp4'), dataDir: testCacheDir, labelledCameras: 0, discoveryMulticast: false, logger: pino({ level: 'warn' }) });
    h = await startConsole();
    const c = sim.cameras()[0];
    const res = await h.t.app.inject({
      method: 'POST', url: '/api/cameras', headers: { cookie: await h.t.cookie('admin') },
      payload: { name: '模型试运行点位 model cam', rtspMain: c.rtspMain, rtspSub: c.rtspSub, onvifUrl: c.onvifUrl, username: c.username, password: c.password },
    });
    expect(res.statusCode, res.body).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await sim?.stop();
  });

  it('upload → refused bad manifest → validated → test-run with boxes → enable → a rule uses it', async () => {
    const shipped = JSON.parse(await readFile(join(root, 'models', 'yolox_nano.json'), 'utf8')) as Record<string, unknown>;
    const manifest = { ...shipped, id: 'city_yolox', file: 'city_yolox.onnx', description: '城管自训 city model' };
    const { page, context } = await h.loggedIn('admin');
    try {
      await page.goto('/rules');
      const panel = page.getByRole('region', { name: '自有模型 Models' });
      await panel.waitFor();
      await panel.getByLabel('模型文件 Weights').setInputFiles(join(root, 'models', 'yolox_nano.onnx'));

      await panel.getByLabel('清单 Manifest JSON').fill(JSON.stringify({ ...manifest, sha256: '0'.repeat(64) }));
      await panel.getByRole('button', { name: /上传并校验/ }).click();
      const refused = panel.getByRole('alert');
      await refused.waitFor({ timeout: 60_000 });
      expect(await refused.innerText()).toMatch(/sha256 与清单不符[\s\S]*manifest\.sha256/);

      await panel.getByLabel('清单 Manifest JSON').fill(JSON.stringify(manifest));
      await panel.getByRole('button', { name: /上传并校验/ }).click();
      await panel.getByText(/校验通过 Validated: city_yolox · yolox · 416×416/).waitFor({ timeout: 60_000 });

      const row = panel.locator('tr[data-model="city_yolox"]');
      await row.getByText('待启用').waitFor();
      await row.getByRole('button', { name: /试运行/ }).click();
      const result = panel.getByRole('figure', { name: '试运行结果 Test-run result' });
      await result.waitFor({ timeout: 60_000 });
      expect(await result.locator('img').evaluate((img) => { const i = img as unknown as { complete: boolean; naturalWidth: number }; return i.complete && i.naturalWidth > 0; })).toBe(true);
      const caption = await result.locator('figcaption').innerText();
      const n = Number(/(\d+) 个目标/.exec(caption)?.[1]);
      expect(n).toBeGreaterThan(0);
      expect(await result.locator('svg rect').count()).toBe(n);

      await row.getByRole('button', { name: '启用 Enable' }).click();
      await panel.getByText(/已启用 Enabled: city_yolox/).waitFor({ timeout: 30_000 });
      await panel.locator('tr[data-model="city_yolox"]').getByText('已启用 enabled upload').waitFor();

      // the rule editor offers it; a new rule saved with it names it
      await page.getByRole('button', { name: '新建规则 New rule' }).click();
      const form = page.getByRole('form', { name: '规则 Rule' });
      await form.getByLabel(/点位/).selectOption({ label: '模型试运行点位 model cam' });
      await form.getByLabel(/模型/).selectOption('city_yolox');
      const zone = page.getByLabel('区域 Zone');
      const box = (await zone.boundingBox())!;
      for (const [x, y] of [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]) await page.mouse.click(box.x + box.width * x, box.y + box.height * y);
      await form.getByRole('button', { name: '保存 Save' }).click();
      await page.getByText(/已保存 Saved/).waitFor({ timeout: 30_000 });
      const rules = (await h.t.db.query<{ model: string | null }>('SELECT model FROM rules')).rows;
      expect(rules).toEqual([{ model: 'city_yolox' }]);
      await page.getByRole('cell', { name: /city_yolox:/ }).waitFor();
    } finally {
      await context.close();
    }
  }, 180_000);
});
