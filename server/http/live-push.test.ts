import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestApp, type TestApp } from '../../test/app.js';

describe('live push over WebSocket', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address() as { port: number };
    base = `ws://127.0.0.1:${addr.port}/api/ws`;
  });
  afterAll(async () => { await t.close(); });

  async function connect(role: 'operator' | 'police110'): Promise<{ ws: WebSocket; got: Array<{ topic: string; cameraId?: string }> }> {
    const ws = new WebSocket(base, { headers: { cookie: await t.cookie(role) } });
    const got: Array<{ topic: string; cameraId?: string }> = [];
    ws.on('message', (m) => got.push(JSON.parse(m.toString())));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    return { ws, got };
  }

  it('refuses a connection without a session', async () => {
    const ws = new WebSocket(base);
    const code = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(code).toBe(401);
  });

  it('delivers messages about a restricted camera only to roles that may see it', async () => {
    const admin = await t.cookie('admin');
    const shared = (await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: admin }, payload: { name: 'Open' } })).json().id;
    const restricted = (await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: admin }, payload: { name: 'Closed', sharing: 'restricted' } })).json().id;
    const op = await connect('operator');
    const police = await connect('police110');
    t.ctx.bus.publish('camera.state', { cameraId: restricted, stream: 'main', state: 'live', reason: null, stats: { restarts: 0, heldBytes: 0 } }, restricted);
    t.ctx.bus.publish('camera.state', { cameraId: shared, stream: 'main', state: 'live', reason: null, stats: { restarts: 0, heldBytes: 0 } }, shared);
    await expect.poll(() => police.got.filter((m) => m.topic === 'camera.state').length).toBe(2);
    await expect.poll(() => op.got.filter((m) => m.topic === 'camera.state').length).toBe(1);
    expect(op.got.find((m) => m.topic === 'camera.state')?.cameraId).toBe(shared);
    op.ws.close();
    police.ws.close();
  });
});
