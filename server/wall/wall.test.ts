import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';
import { loadConfig, ConfigError } from '../config.js';
import { buildAreaTree } from './tree.js';

describe.each(dbKinds())('video wall API on %s', (kind) => {
  let t: TestApp;
  let op: string;
  let admin: string;
  let police: string;
  const cams: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp({ db: kind, env: { MAP_TILE_URL: 'https://tiles.example.gov.cn/{z}/{x}/{y}.png', WALL_LIVE_BUDGET: '9' } });
    op = await t.cookie('operator');
    admin = await t.cookie('admin');
    police = await t.cookie('police110');
    const tech = await t.cookie('technician');
    const mk = async (name: string, district: string | null, street: string | null, community: string | null, sharing = 'shared') => {
      const r = await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: tech }, payload: { name, district, street, community, owner: '城管局', lat: 30.25, lng: 120.16 } });
      expect(r.statusCode, r.body).toBe(201);
      cams[name] = r.json().id;
      if (sharing === 'restricted') {
        const p = await t.app.inject({ method: 'PATCH', url: `/api/cameras/${cams[name]}`, headers: { cookie: admin }, payload: { sharing } });
        expect(p.statusCode).toBe(200);
      }
    };
    await mk('A1', '西湖区', '北山街道', '保俶社区');
    await mk('A2', '西湖区', '北山街道', '保俶社区');
    await mk('A3', '西湖区', '北山街道', '宝石社区');
    await mk('B1', '上城区', '湖滨街道', null);
    await mk('P1', '西湖区', '北山街道', '保俶社区', 'restricted');
    await mk('N1', null, null, null);
  });
  afterAll(async () => { await t?.close(); });

  const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, cookie: string, payload?: object) =>
    t.app.inject({ method, url, headers: { cookie }, payload });

  it('serves the console config from the server configuration', async () => {
    const r = await req('GET', '/api/console/config', await t.cookie('reviewer'));
    expect(r.json()).toEqual({ mapTileUrl: 'https://tiles.example.gov.cn/{z}/{x}/{y}.png', liveBudget: 9 });
  });

  it('builds the district → street → community tree without restricted cameras for an operator', async () => {
    const r = await req('GET', '/api/cameras/tree', op);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.total).toBe(5);
    expect(JSON.stringify(body)).not.toContain(cams.P1);
    const xihu = body.districts.find((d: { name: string }) => d.name === '西湖区');
    expect(xihu).toMatchObject({ count: 3, streets: [{ name: '北山街道', count: 3 }] });
    expect(xihu.streets[0].communities.map((c: { name: string; cameraIds: string[] }) => [c.name, c.cameraIds.length])).toEqual([['保俶社区', 2], ['宝石社区', 1]]);
    expect(body.districts.at(-1)).toMatchObject({ name: null, count: 1 });
    expect(body.cameras[0]).toMatchObject({ id: expect.any(String), name: expect.any(String), status: 'unknown', lat: 30.25 });
    expect(body.cameras[0]).not.toHaveProperty('rtspMain');
    const p = await req('GET', '/api/cameras/tree', police);
    expect(p.json().total).toBe(6);
    // the wall's roles only
    expect((await req('GET', '/api/cameras/tree', await t.cookie('technician'))).statusCode).toBe(403);
  });

  it('keeps camera groups per owner, shares them read-only, and never shows restricted cameras', async () => {
    const bad = await req('POST', '/api/camera-groups', op, { name: 'g', cameraIds: [cams.A1, cams.P1] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fieldErrors).toEqual({ 'cameraIds.1': 'camera not found' });
    expect((await req('POST', '/api/camera-groups', op, { name: 'g', extra: 1 })).statusCode).toBe(400);

    const pg = await req('POST', '/api/camera-groups', police, { name: '警用轮巡', cameraIds: [cams.P1, cams.A1], shared: true, tourIntervalS: 5 });
    expect(pg.statusCode, pg.body).toBe(201);
    const gid = pg.json().id;
    const seen = await req('GET', `/api/camera-groups/${gid}`, op);
    expect(seen.json()).toMatchObject({ name: '警用轮巡', cameraIds: [cams.A1], shared: true, mine: false, owner: 'police110', tourIntervalS: 5 });
    expect(seen.body).not.toContain(cams.P1);
    expect((await req('PATCH', `/api/camera-groups/${gid}`, op, { name: 'mine now' })).statusCode).toBe(403);
    expect((await req('DELETE', `/api/camera-groups/${gid}`, op)).statusCode).toBe(403);
    // an admin edits it: the restricted camera stays
    const a = await req('PATCH', `/api/camera-groups/${gid}`, admin, { cameraIds: [cams.A2] });
    expect(a.json().cameraIds).toEqual([cams.A2]);

    const mine = await req('POST', '/api/camera-groups', op, { name: '北山', cameraIds: [cams.A1, cams.A2, cams.A3] });
    expect(mine.statusCode).toBe(201);
    expect((await req('POST', '/api/camera-groups', op, { name: '北山' })).statusCode).toBe(409);
    const list = await req('GET', '/api/camera-groups', op);
    expect(list.json().total).toBe(2);
    expect((await req('GET', '/api/camera-groups?scope=mine', op)).json().items.map((g: { name: string }) => g.name)).toEqual(['北山']);
    // a private group is not there for others
    expect((await req('GET', `/api/camera-groups/${mine.json().id}`, police)).statusCode).toBe(404);
    const upd = await req('PATCH', `/api/camera-groups/${mine.json().id}`, op, { tourIntervalS: 8, cameraIds: [cams.A3, cams.A1] });
    expect(upd.json()).toMatchObject({ tourIntervalS: 8, cameraIds: [cams.A3, cams.A1] });
    expect((await req('PATCH', `/api/camera-groups/${mine.json().id}`, op, { tourIntervalS: 1 })).statusCode).toBe(400);
  });

  it('saves wall presets with layout, cameras and tour; filters hidden cameras; only the owner or an admin changes them', async () => {
    const groups = (await req('GET', '/api/camera-groups?scope=mine', op)).json().items;
    const gid = groups[0].id;
    expect((await req('POST', '/api/wall/presets', op, { name: 'x', layout: '4', cameras: [cams.A1, null, cams.A2, cams.A3, cams.B1] })).statusCode).toBe(400);
    expect((await req('POST', '/api/wall/presets', op, { name: 'x', layout: '5' })).statusCode).toBe(400);
    expect((await req('POST', '/api/wall/presets', op, { name: 'x', layout: '4', cameras: [cams.P1] })).statusCode).toBe(400);
    const created = await req('POST', '/api/wall/presets', op, { name: '早班', layout: '1+5', cameras: [cams.A1, null, cams.B1], tour: { groupId: gid, intervalS: 10 }, shared: true });
    expect(created.statusCode, created.body).toBe(201);
    const p = created.json();
    expect(p).toMatchObject({ name: '早班', layout: '1+5', cameras: [cams.A1, null, cams.B1], tour: { groupId: gid, intervalS: 10 }, shared: true, mine: true, owner: 'operator' });

    // police makes a shared preset with a restricted camera: an operator sees an empty tile there
    const pp = await req('POST', '/api/wall/presets', police, { name: '警用', layout: '4', cameras: [cams.P1, cams.A1], shared: true });
    expect(pp.statusCode).toBe(201);
    const seen = (await req('GET', '/api/wall/presets', op)).json();
    expect(seen.total).toBe(2);
    const police4 = seen.items.find((x: { name: string }) => x.name === '警用');
    expect(police4.cameras).toEqual([null, cams.A1]);
    expect(JSON.stringify(seen)).not.toContain(cams.P1);
    expect((await req('PATCH', `/api/wall/presets/${pp.json().id}`, op, { name: 'taken' })).statusCode).toBe(403);
    expect((await req('DELETE', `/api/wall/presets/${pp.json().id}`, op)).statusCode).toBe(403);

    // the operator's private group reads as no tour for the police
    expect((await req('GET', `/api/wall/presets/${p.id}`, police)).json().tour).toBeNull();

    const patched = await req('PATCH', `/api/wall/presets/${p.id}`, op, { layout: '1' });
    expect(patched.json()).toMatchObject({ layout: '1', cameras: [cams.A1] });
    const toured = await req('PATCH', `/api/wall/presets/${p.id}`, op, { tour: null, layout: '9', cameras: [cams.A1, cams.A2] });
    expect(toured.json()).toMatchObject({ tour: null, layout: '9', cameras: [cams.A1, cams.A2] });
    expect((await req('PATCH', `/api/wall/presets/${p.id}`, op, {})).statusCode).toBe(400);
    expect((await req('DELETE', `/api/wall/presets/${p.id}`, op)).statusCode).toBe(204);
    expect((await req('GET', `/api/wall/presets/${p.id}`, op)).statusCode).toBe(404);
    const audit = await t.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE action LIKE 'wall.preset.%' ORDER BY id`);
    expect(audit.rows.map((r) => r.action)).toEqual(['wall.preset.create', 'wall.preset.create', 'wall.preset.update', 'wall.preset.update', 'wall.preset.delete']);
    // deleting a group drops it from the presets that toured it
    const gp = await req('POST', '/api/wall/presets', op, { name: 'tour', layout: '4', tour: { groupId: gid, intervalS: 5 } });
    expect((await req('DELETE', `/api/camera-groups/${gid}`, op)).statusCode).toBe(204);
    expect((await req('GET', `/api/wall/presets/${gp.json().id}`, op)).json().tour).toBeNull();
  });

  it('keeps favourites per user, visible cameras only', async () => {
    expect((await req('POST', '/api/favourites', op, { cameraId: cams.P1 })).statusCode).toBe(404);
    expect((await req('POST', '/api/favourites', op, { cameraId: cams.A2 })).statusCode).toBe(201);
    expect((await req('POST', '/api/favourites', op, { cameraId: cams.A2 })).statusCode).toBe(201);
    expect((await req('POST', '/api/favourites', police, { cameraId: cams.P1 })).statusCode).toBe(201);
    expect((await req('GET', '/api/favourites', op)).json()).toMatchObject({ total: 1, items: [{ cameraId: cams.A2, name: 'A2' }] });
    expect((await req('GET', '/api/favourites', police)).json().items.map((f: { name: string }) => f.name)).toEqual(['P1']);
    // police marks P1 shared then restricted again: the operator never had it
    expect((await req('DELETE', `/api/favourites/${cams.A2}`, op)).statusCode).toBe(204);
    expect((await req('DELETE', `/api/favourites/${cams.A2}`, op)).statusCode).toBe(404);
    expect((await req('GET', '/api/favourites', await t.cookie('reviewer'))).statusCode).toBe(403);
  });
});

describe('wall configuration', () => {
  it('validates MAP_TILE_URL and WALL_LIVE_BUDGET', () => {
    expect(loadConfig({}).mapTileUrl).toBeUndefined();
    expect(loadConfig({}).wallLiveBudget).toBe(16);
    expect(() => loadConfig({ MAP_TILE_URL: 'file:///{z}/{x}/{y}' })).toThrow(ConfigError);
    expect(() => loadConfig({ MAP_TILE_URL: 'https://tiles.example/{z}/{x}.png' })).toThrow(/\{y\}/);
    expect(() => loadConfig({ WALL_LIVE_BUDGET: '0' })).toThrow(ConfigError);
    expect(loadConfig({ WALL_LIVE_BUDGET: '36' }).wallLiveBudget).toBe(36);
  });

  it('nests cameras by district, street and community', () => {
    const cam = (id: string, district: string | null, street: string | null, community: string | null, status = 'live') =>
      ({ id, name: id, status, statusReason: null, district, street, community, gridCode: null, owner: null, lat: null, lng: null });
    const tree = buildAreaTree([cam('a', 'D', 'S', 'C'), cam('b', 'D', 'S', 'C', 'offline'), cam('c', 'D', 'T', null), cam('d', null, null, null)]);
    expect(tree).toEqual([
      { name: 'D', count: 3, online: 2, streets: [
        { name: 'S', count: 2, online: 1, communities: [{ name: 'C', count: 2, online: 1, cameraIds: ['a', 'b'] }] },
        { name: 'T', count: 1, online: 1, communities: [{ name: null, count: 1, online: 1, cameraIds: ['c'] }] },
      ] },
      { name: null, count: 1, online: 1, streets: [{ name: null, count: 1, online: 1, communities: [{ name: null, count: 1, online: 1, cameraIds: ['d'] }] }] },
    ]);
  });
});
