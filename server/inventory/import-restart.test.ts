import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { inject } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { withDatabase } from '../../test/global-setup.js';
import { startSmallFleet } from '../../simulator/small-fleet.js';
import type { Simulator } from '../../simulator/index.js';
import { PgBusBridge } from '../cluster/bus-bridge.js';

// A CSV import that changes cameras' stream URLs and credentials announces the ids it wrote (camera.changed), so the
// sessions already running reconnect to the new URL: on the node that imported, and on another node (bus bridge).
// Two simulators on their own ports: the camera moves from the first to the second, and the RTSP sessions follow.

const csv = (rows: Array<{ name: string; nationalId: string; url: string; username: string; password: string }>) => Buffer.from(
  ['name,national_id,rtsp_sub,username,password', ...rows.map((r) => [r.name, r.nationalId, r.url, r.username, r.password].join(','))].join('\n'));

async function watch(t: TestApp, id: string): Promise<void> {
  // a live view starts the camera's sub session on the node that serves it
  const r = await t.app.inject({ url: `/api/cameras/${id}/live?stream=sub`, headers: { cookie: await t.cookie('operator') } });
  expect(r.statusCode, r.body).toBe(200);
  const pl = await t.app.inject({ url: (r.json() as { url: string }).url });
  expect(pl.statusCode, pl.body.slice(0, 200)).toBe(200);
}

describe('CSV import with changed stream URLs restarts running sessions', () => {
  let from: Simulator;
  let to: Simulator;

  beforeAll(async () => {
    from = await startSmallFleet(1, { namePrefix: 'FROM' });
    to = await startSmallFleet(1, { namePrefix: 'TO' });
  });
  afterAll(async () => {
    await from?.stop();
    await to?.stop();
  });

  const move = (name: string, nationalId: string) => {
    const c = to.cameras()[0];
    return csv([{ name, nationalId, url: c.rtspSub, username: c.username, password: c.password }]);
  };
  const register = async (t: TestApp, name: string, nationalId: string) => {
    const c = from.cameras()[0];
    const res = await t.app.inject({
      method: 'POST', url: '/api/cameras/import', headers: { cookie: await t.cookie('technician'), 'content-type': 'text/csv' },
      payload: csv([{ name, nationalId, url: c.rtspSub, username: c.username, password: c.password }]),
    });
    expect(res.json()).toMatchObject({ created: 1, updated: 0 });
    return (await t.db.query<{ id: string }>('SELECT id FROM cameras WHERE national_id = $1', [nationalId])).rows[0].id;
  };

  it('on one node', async () => {
    const t = await createTestApp();
    try {
      const id = await register(t, '东门 import', '33010200001320000001');
      await watch(t, id);
      await expect.poll(() => from.stats().sessions, { timeout: 30_000 }).toBe(1);
      expect(to.stats().sessions).toBe(0);

      const res = await t.app.inject({
        method: 'POST', url: '/api/cameras/import', headers: { cookie: await t.cookie('technician'), 'content-type': 'text/csv' },
        payload: move('东门 import', '33010200001320000001'),
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ created: 0, updated: 1, errors: [] });
      // the running session reconnects with the new URL and credentials: the old camera loses its viewer
      await expect.poll(() => to.stats().sessions, { timeout: 30_000 }).toBe(1);
      await expect.poll(() => from.stats().sessions, { timeout: 30_000 }).toBe(0);
      expect(t.ctx.ingest.manager.get(id, 'sub')?.state).toMatch(/connecting|live/);
    } finally {
      await t.close();
    }
  }, 120_000);

  it.skipIf(!inject('postgresTemplate'))('across nodes: imported on one, the session on the other restarts (PostgreSQL bus bridge)', async () => {
    const streaming = await createTestApp({ db: 'postgres' });
    const api = await createTestApp({ db: streaming.db });
    const name = (await streaming.db.query<{ n: string }>('SELECT current_database() AS n')).rows[0].n;
    const url = withDatabase(process.env.TEST_DATABASE_URL!, name);
    const quiet = pino({ level: 'silent' });
    const bridges = [new PgBusBridge(url, streaming.ctx.bus, 'node-streaming', quiet), new PgBusBridge(url, api.ctx.bus, 'node-api', quiet)];
    try {
      for (const b of bridges) await b.start();
      const id = await register(api, '西门 import', '33010200001320000002');
      await watch(streaming, id);
      await expect.poll(() => from.stats().sessions, { timeout: 30_000 }).toBe(1);

      const res = await api.app.inject({
        method: 'POST', url: '/api/cameras/import', headers: { cookie: await api.cookie('technician'), 'content-type': 'text/csv' },
        payload: move('西门 import', '33010200001320000002'),
      });
      expect(res.json()).toEqual({ created: 0, updated: 1, errors: [] });
      expect(api.ctx.ingest.manager.get(id, 'sub')).toBeUndefined();
      await expect.poll(() => to.stats().sessions, { timeout: 30_000 }).toBe(1);
      await expect.poll(() => from.stats().sessions, { timeout: 30_000 }).toBe(0);
    } finally {
      for (const b of bridges) await b.stop();
      await api.close();
      await streaming.close();
    }
  }, 120_000);
});
