import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type ConsoleHarness } from '../../test/browser.js';
import { until } from '../../server/outbox/receiver.test-helper.js';

/**
 * A corrupt (truncated) default weight file: the node keeps running, the engine is `degraded`, and the Rules and
 * Review pages say why in words, Chinese first, without any server path, instead of an empty queue that looks fine.
 */
let h: ConsoleHarness;
let weightsDir: string;
const root = join(import.meta.dirname, '..', '..');

describe('a corrupt default model, seen in Chromium', () => {
  beforeAll(async () => {
    weightsDir = await mkdtemp(join(tmpdir(), 'corrupt-weights-'));
    // MODELS_DIR is searched before models/: half of the real file (a download cut short) is found first
    const real = await readFile(join(root, 'models', 'yolox_nano.onnx'));
    await writeFile(join(weightsDir, 'yolox_nano.onnx'), real.subarray(0, real.length >> 1));
    process.env.MODELS_DIR = weightsDir;
    h = await startConsole();
    const svc = h.t.ctx.analytics;
    await until(() => svc.state !== 'starting', 'the model check', 1200, 50);
  });
  afterAll(async () => {
    await h?.close();
    delete process.env.MODELS_DIR;
    await rm(weightsDir, { recursive: true, force: true });
  });

  it('the node runs on, degraded, and the status says why in words without server paths', async () => {
    const res = await h.t.app.inject({ method: 'GET', url: '/api/analytics/status', headers: { cookie: await h.t.cookie('reviewer') } });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { state: string; notice: { zh: string; en: string } | null; models: Array<{ id: string; status: string }> };
    expect(body.state).toBe('degraded');
    expect(body.models.find((m) => m.id === 'yolox_nano')?.status).toBe('bad-checksum');
    expect(body.notice?.zh).toMatch(/^检测异常：默认模型 yolox_nano 的权重文件已损坏或不完整/);
    expect(body.notice?.en).toMatch(/corrupt or truncated/);
    expect(res.body).not.toContain(weightsDir);
    expect(res.body).not.toContain(root);
    // the rest of the node works: the health route and the camera list answer
    expect((await h.t.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
  });

  it('the Review and Rules pages show the banner, Chinese first', async () => {
    for (const [role, path] of [['reviewer', '/review'], ['technician', '/rules']] as const) {
      const { page, context } = await h.loggedIn(role);
      try {
        await page.goto(path);
        const banner = page.getByTestId('engine-notice');
        await banner.waitFor({ timeout: 30_000 });
        const text = (await banner.innerText()).trim();
        expect(text.startsWith('检测异常')).toBe(true);
        expect(text).toContain('yolox_nano');
        expect(text).toContain('corrupt or truncated');
        expect(text.indexOf('检测异常')).toBeLessThan(text.indexOf('Detection degraded'));
        expect(text).not.toContain(weightsDir);
        expect(text).not.toContain(root);
      } finally {
        await context.close();
      }
    }
  });
});
