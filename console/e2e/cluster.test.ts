import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type ConsoleHarness } from '../../test/browser.js';
import type { Simulator } from '../../simulator/index.js';
import { startSmallFleet } from '../../simulator/small-fleet.js';
import { NodeRegistry } from '../../server/cluster/node-registry.js';

/**
 * The cluster page in Chromium, as a technician: this node (role all, cluster subsystem on) with two of its three
 * simulator cameras really pulled shows "2" and their names; a node that stopped two hours ago shows as offline;
 * one silent for two days is not listed, and the next node to start forgets it in the database too.
 */
let h: ConsoleHarness;
let sim: Simulator;
const names = ['集群 东门', '集群 西门', '集群 南门'];

describe('cluster page in Chromium', () => {
  beforeAll(async () => {
    sim = await startSmallFleet(3);
    h = await startConsole({ start: ['cluster'] });
    const admin = await h.t.cookie('admin');
    const ids: string[] = [];
    for (const [i, c] of sim.cameras().entries()) {
      const r = await h.t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: admin }, payload: { name: names[i], rtspMain: c.rtspMain, rtspSub: c.rtspSub, username: c.username, password: c.password } });
      expect(r.statusCode, r.body).toBe(201);
      ids.push(r.json().id);
    }
    // two cameras pulled here (as analytics would pin them); the third is not
    h.t.ctx.ingest.manager.pin(ids[0], 'sub');
    h.t.ctx.ingest.manager.pin(ids[1], 'sub');
    await h.t.db.query(`INSERT INTO cluster_nodes (id, role, address, capacity, started_at, heartbeat_at, stopped_at, pulling)
      VALUES ('old-run-node', 'all', 'http://old:8080', 0, now() - interval '3 hours', now() - interval '2 hours', now() - interval '2 hours', $1::uuid[]),
             ('ancient-node', 'ingest', 'http://ancient:8080', 100, now() - interval '3 days', now() - interval '2 days', NULL, '{}')`, [[ids[2]]]);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await sim?.stop();
  });

  it('shows the live node with the cameras it truly pulls, an earlier run as offline, and forgets a node gone for days', async () => {
    const self = h.t.ctx.cluster!.nodeId;
    const { page, context } = await h.loggedIn('technician');
    try {
      await page.goto('/cluster');
      const row = page.locator(`tr[data-node="${self}"]`);
      await expect.poll(() => row.getByTestId('pulled-count').innerText(), { timeout: 30_000 }).toBe('2');
      expect(await row.getAttribute('data-alive')).toBe('true');
      const pulled = await row.getByTestId('pulled-cameras').innerText();
      expect(pulled).toContain(names[0]);
      expect(pulled).toContain(names[1]);
      expect(pulled).not.toContain(names[2]);
      expect(await page.getByTestId('cluster-summary').innerText()).toMatch(/在线节点 1 nodes up · 拉流摄像机 2 cameras pulled · 离线 1 offline/);

      const old = page.locator('tr[data-node="old-run-node"]');
      expect(await old.getAttribute('data-alive')).toBe('false');
      expect(await old.innerText()).toContain('离线 offline');
      // a dead node claims nothing: its last report is not shown as held
      expect(await old.getByTestId('pulled-count').innerText()).toBe('—');
      expect(await page.locator('tr[data-node="ancient-node"]').count()).toBe(0);
      expect(await page.getByTestId('cluster-node').count()).toBe(2);
    } finally {
      await context.close();
    }

    // the next node to start forgets the node gone for a day; the one of two hours ago stays (offline) until then
    const next = new NodeRegistry(h.t.db, { id: 'next-node', role: 'api', address: null, capacity: 0, version: 'test' }, 60_000);
    await next.start();
    await next.stop();
    const left = (await h.t.db.query<{ id: string }>(`SELECT id FROM cluster_nodes WHERE id IN ('old-run-node', 'ancient-node') ORDER BY id`)).rows.map((r) => r.id);
    expect(left).toEqual(['old-run-node']);
  }, 120_000);
});
