import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { createTestApp } from '../../test/app.js';
import { createNode } from '../node.js';
import { verifySignature } from './outbox.js';
import { startReceiver, until } from './receiver.test-helper.js';

const SECRET = 'a-city-secret-of-some-length';

describe('city webhook configuration', () => {
  it('validates CITY_WEBHOOK_URL and CITY_WEBHOOK_SECRET', () => {
    expect(() => loadConfig({ CITY_WEBHOOK_URL: 'ftp://city/hook', CITY_WEBHOOK_SECRET: SECRET })).toThrow(ConfigError);
    expect(() => loadConfig({ CITY_WEBHOOK_URL: 'https://city.example/hook' })).toThrow(/CITY_WEBHOOK_SECRET/);
    expect(() => loadConfig({ CITY_WEBHOOK_URL: 'https://city.example/hook', CITY_WEBHOOK_SECRET: 'short' })).toThrow(/16/);
    expect(loadConfig({ CITY_WEBHOOK_URL: 'https://city.example/hook', CITY_WEBHOOK_SECRET: SECRET })).toMatchObject({ cityWebhookUrl: 'https://city.example/hook', cityWebhookSecret: SECRET });
  });

  it('hands a case filed through the API to the city platform with the worker the node starts', async () => {
    const rx = await startReceiver();
    const t = await createTestApp({ env: { CITY_WEBHOOK_URL: rx.url, CITY_WEBHOOK_SECRET: SECRET }, start: ['outbox'] });
    const runsOutbox = (n: { subsystems: readonly { name: string }[] }) => n.subsystems.some((s) => s.name === 'outbox');
    try {
      expect(runsOutbox(t.node)).toBe(true);
      const r = await t.app.inject({ method: 'POST', url: '/api/cases', headers: { cookie: await t.cookie('operator') }, payload: { eventType: 'bin_overflow', address: '体育场路' } });
      expect(r.statusCode).toBe(201);
      const got = (await until(() => rx.received.find((x) => JSON.parse(x.body).data.caseNo === r.json().caseNo), 'the city hand-off'))!;
      expect(verifySignature(SECRET, got.body, got.headers['x-streeteye-signature'] as string)).toBe(true);
      expect(JSON.parse(got.body)).toMatchObject({ topic: 'case.filed', data: { eventCode: '06042', address: '体育场路', status: 'filed' } });
    } finally {
      await t.close();
      await rx.close();
    }
    // API nodes (and role all) deliver the outbox; ingest nodes do not
    expect(runsOutbox(createNode({ ...t.ctx, config: { ...t.ctx.config, role: 'ingest' } }, { skip: ['cluster'] }))).toBe(false);
  });
});
