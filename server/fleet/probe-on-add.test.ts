import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { until } from '../outbox/receiver.test-helper.js';

/**
 * A new camera used to stay "未知 unknown" until the next health pass (up to 300 s). It is probed as soon as it is
 * added and again when it is edited. Only the change listener runs here (no periodic pass), so nothing else
 * could have probed it.
 */
describe('fleet: probe a camera at once when it is added or changed', () => {
  let t: TestApp;
  let rtsp: Server;
  let rtspPort: number;
  let closedPort: number;
  beforeAll(async () => {
    t = await createTestApp();
    const fleet = t.ctx.fleet;
    fleet.recorder.start();
    fleet.probeChanges();
    // an RTSP server that answers OPTIONS (what the light health probe sends to cameras without ONVIF)
    rtsp = createServer((sock) => sock.on('data', (d) => {
      const cseq = /CSeq:\s*(\d+)/i.exec(d.toString())?.[1] ?? '1';
      sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n`);
    }));
    await new Promise<void>((r) => rtsp.listen(0, '127.0.0.1', r));
    rtspPort = (rtsp.address() as AddressInfo).port;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });
  afterAll(async () => { await t?.ctx.fleet.stop(); await t?.close(); await new Promise<void>((r) => rtsp?.close(() => r())); });

  const status = async (id: string) => (await t.db.query<{ status: string }>('SELECT status FROM cameras WHERE id = $1', [id])).rows[0].status;

  it('shows a new camera offline at once, then reachable once its URL is corrected', async () => {
    const admin = await t.cookie('admin');
    const made = await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: admin }, payload: { name: '新点位', rtspMain: `rtsp://127.0.0.1:${closedPort}/main` } });
    expect(made.statusCode).toBe(201);
    const id = made.json().id;
    await until(async () => (await status(id)) === 'offline', 'the new camera probed offline');
    const fixed = await t.app.inject({ method: 'PATCH', url: `/api/cameras/${id}`, headers: { cookie: admin }, payload: { rtspMain: `rtsp://127.0.0.1:${rtspPort}/main` } });
    expect(fixed.statusCode).toBe(200);
    await until(async () => (await status(id)) === 'reachable', 'the corrected camera probed reachable');
  });
});
