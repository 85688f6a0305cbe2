import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { until } from '../outbox/receiver.test-helper.js';

// The ingest routes record every live view in the camera access log (server/live/ingest-wiring.ts → recordCameraAccess).
describe('live views reach the camera access log', () => {
  let t: TestApp;
  let cam: string;
  beforeAll(async () => {
    t = await createTestApp();
    cam = (await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: await t.cookie('admin') }, payload: { name: 'Police gate', sharing: 'restricted', rtspSub: 'rtsp://127.0.0.1:9/sub' } })).json().id;
  });
  afterAll(async () => { await t.close(); });

  it('shows police who opened the live view of their camera', async () => {
    const r = await t.app.inject({ url: `/api/cameras/${cam}/live?stream=sub`, headers: { cookie: await t.cookie('admin') } });
    expect(r.statusCode).toBe(200);
    const police = await t.cookie('police110');
    const viewers = await until(async () => {
      const v = await t.app.inject({ url: `/api/cameras/${cam}/viewers`, headers: { cookie: police } });
      return v.json().total === 1 ? v.json() : null;
    }, 'the access log entry');
    expect(viewers.items[0]).toMatchObject({ username: 'admin', kind: 'live', cameraName: 'Police gate', endedAt: null });
  });
});
