import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { createTestApp, type TestApp } from '../../test/app.js';
import { dbKinds } from '../../test/db.js';

const HEADER = 'national_id,name,owner,sharing,lat,lng,address,district,street,community,grid_code,tags,rtsp_main,rtsp_sub,onvif_url,username,password';
const row = (i: number, over: Partial<Record<string, string>> = {}) => {
  const v = {
    national_id: `3301060000132000${String(i).padStart(4, '0')}`, name: `Gate ${i}`, owner: 'West Lake PSB', sharing: 'shared',
    lat: '30.25', lng: '120.16', address: `${i} Wensan Rd`, district: '西湖区', street: '北山街道', community: '保俶社区',
    grid_code: '33010600100101', tags: 'road;school', rtsp_main: `rtsp://10.1.0.${i % 250}/main`, rtsp_sub: `rtsp://10.1.0.${i % 250}/sub`,
    onvif_url: `http://10.1.0.${i % 250}/onvif/device_service`, username: 'admin', password: `Secret-${i}!`, ...over,
  };
  return Object.values(v).map((x) => (/[",\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x)).join(',');
};
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

describe.each(dbKinds())('camera inventory on %s', (kind) => {
  let t: TestApp;
  let tech: string;
  beforeAll(async () => {
    t = await createTestApp({ db: kind });
    tech = await t.cookie('technician');
  });
  afterAll(async () => { await t.close(); });

  const post = (payload: unknown, cookie = tech) => t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie }, payload: payload as object });
  const importCsv = (body: string | Buffer, query = '') =>
    t.app.inject({ method: 'POST', url: `/api/cameras/import${query}`, headers: { cookie: tech, 'content-type': 'text/csv' }, payload: body });

  it('the media engine: native by default, ffmpeg selectable, anything else a clear 400', async () => {
    const cam = (await post({ name: 'Engine Rd', rtspMain: 'rtsp://10.2.0.9:554/ch1' })).json();
    expect(cam.mediaEngine).toBe('native');
    const toFfmpeg = await t.app.inject({ method: 'PATCH', url: `/api/cameras/${cam.id}`, headers: { cookie: tech }, payload: { mediaEngine: 'ffmpeg' } });
    expect(toFfmpeg.json().mediaEngine).toBe('ffmpeg');
    const bogus = await t.app.inject({ method: 'PATCH', url: `/api/cameras/${cam.id}`, headers: { cookie: tech }, payload: { mediaEngine: 'gstreamer' } });
    expect(bogus.statusCode).toBe(400);
    expect(bogus.body).toMatch(/native or ffmpeg/);
  });

  it('creates, reads, updates and deletes a camera, never returning credentials', async () => {
    const created = await post({ name: 'Lingyin Rd', rtspMain: 'rtsp://cam-user:s3cr3t-pw@10.2.0.1:554/ch1', lat: 30.24, lng: 120.1, tags: ['a'] });
    expect(created.statusCode).toBe(201);
    const cam = created.json();
    expect(cam).toMatchObject({ name: 'Lingyin Rd', rtspMain: 'rtsp://10.2.0.1:554/ch1', hasCredentials: true, sharing: 'shared', status: 'unknown' });
    expect(created.body).not.toContain('s3cr3t-pw');
    const creds = await t.cameras.credentials(t.db, cam.id);
    expect(creds).toEqual({ username: 'cam-user', password: 's3cr3t-pw' });
    const stored = await t.db.query<{ credentials_enc: string }>('SELECT credentials_enc FROM cameras WHERE id = $1', [cam.id]);
    expect(stored.rows[0].credentials_enc).not.toContain('s3cr3t');

    const patched = await t.app.inject({ method: 'PATCH', url: `/api/cameras/${cam.id}`, headers: { cookie: tech }, payload: { password: 'n3w-pw', district: '西湖区' } });
    expect(patched.statusCode).toBe(200);
    expect(await t.cameras.credentials(t.db, cam.id)).toEqual({ username: 'cam-user', password: 'n3w-pw' });
    const got = await t.app.inject({ url: `/api/cameras/${cam.id}`, headers: { cookie: await t.cookie('operator') } });
    expect(got.json().district).toBe('西湖区');
    const del = await t.app.inject({ method: 'DELETE', url: `/api/cameras/${cam.id}`, headers: { cookie: tech } });
    expect(del.statusCode).toBe(204);
    expect((await t.app.inject({ url: `/api/cameras/${cam.id}`, headers: { cookie: tech } })).statusCode).toBe(404);
    const audit = await t.db.query<{ action: string }>('SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id', [cam.id]);
    expect(audit.rows.map((r) => r.action)).toEqual(['camera.create', 'camera.update', 'camera.delete']);
    expect(t.logLines.join('')).not.toMatch(/s3cr3t-pw|n3w-pw/);
  });

  it('refuses bad input with a 400 that names the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'x', rtspMain: 'file:///etc/passwd' }, 'rtspMain'],
      [{ name: 'x', rtspMain: 'concat:a.mp4|b.mp4' }, 'rtspMain'],
      [{ name: 'x', rtspSub: 'http://10.0.0.1/stream' }, 'rtspSub'],
      [{ name: 'x', rtspMain: 'rtsp:///nohost' }, 'rtspMain'],
      [{ name: 'x', onvifUrl: 'ftp://10.0.0.1/' }, 'onvifUrl'],
      [{ name: 'x', lat: 91, lng: 0 }, 'lat'],
      [{ name: 'x', lat: '30', lng: 120 }, 'lat'],
      [{ name: 'x', nationalId: '12345' }, 'nationalId'],
      [{ name: 'x', gridCode: 'abc' }, 'gridCode'],
      [{ name: '' }, 'name'],
      [{ name: 'a'.repeat(101) }, 'name'],
      [{ name: 'tab\there' }, 'name'],
      [{ name: 'x', sharing: 'public' }, 'sharing'],
      [{ name: 'x', hacker: true }, 'hacker'],
    ];
    for (const [payload, field] of cases) {
      const r = await post(payload);
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(Object.keys(r.json().fieldErrors ?? {}), JSON.stringify(payload)).toContain(field);
    }
  });

  it('answers malformed JSON and oversized bodies with a clear 4xx', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: tech, 'content-type': 'application/json' }, payload: '{"name": "x",' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/JSON/);
    const big = await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: tech, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(10 * 1024 * 1024) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json().message).toMatch(/larger than/);
    const bigCsv = await importCsv(Buffer.alloc(33 * 1024 * 1024, 'a')); // the import takes 32 MB (README)
    expect(bigCsv.statusCode).toBe(413);
    expect(bigCsv.json().message).toMatch(/32 MB.*32 MB/); // 请求内容超过本接口允许的 32 MB · Request body is larger than …
  });

  it('keeps HTML and SQL-looking names as plain data', async () => {
    const evil = `<script>alert(1)</script>'; DROP TABLE cameras; --`;
    const r = await post({ name: evil });
    expect(r.statusCode).toBe(201);
    const found = await t.app.inject({ url: `/api/cameras?q=${encodeURIComponent("drop table")}`, headers: { cookie: tech } });
    expect(found.json().items.map((c: { name: string }) => c.name)).toContain(evil);
    const pct = await t.app.inject({ url: `/api/cameras?q=${encodeURIComponent('%')}`, headers: { cookie: tech } });
    expect(pct.json().total).toBe(0);
  });

  it('hides restricted cameras from every role but police110 and admin', async () => {
    const admin = await t.cookie('admin');
    const r = await post({ name: 'Police HQ', sharing: 'restricted' }, admin);
    const id = r.json().id;
    for (const role of ['operator', 'reviewer', 'technician'] as const) {
      const cookie = await t.cookie(role);
      expect((await t.app.inject({ url: `/api/cameras/${id}`, headers: { cookie } })).statusCode, role).toBe(404);
      const list = await t.app.inject({ url: '/api/cameras?limit=1000', headers: { cookie } });
      expect(list.json().items.some((c: { id: string }) => c.id === id), role).toBe(false);
    }
    for (const role of ['police110', 'admin'] as const) {
      expect((await t.app.inject({ url: `/api/cameras/${id}`, headers: { cookie: await t.cookie(role) } })).statusCode, role).toBe(200);
    }
    const patch = await t.app.inject({ method: 'PATCH', url: `/api/cameras/${id}`, headers: { cookie: tech }, payload: { name: 'x2' } });
    expect(patch.statusCode).toBe(404);
  });

  it('lets only police110 or admin change sharing', async () => {
    const id = (await post({ name: 'Sharing test' })).json().id;
    const byTech = await t.app.inject({ method: 'PATCH', url: `/api/cameras/${id}`, headers: { cookie: tech }, payload: { sharing: 'restricted' } });
    expect(byTech.statusCode).toBe(403);
    const techRestricted = await post({ name: 'Tech restricted', sharing: 'restricted' });
    expect(techRestricted.statusCode).toBe(403);
    const techImport = await importCsv(csv(row(900, { sharing: 'restricted' })));
    expect(techImport.statusCode).toBe(422);
    expect(techImport.json().errors[0]).toMatchObject({ column: 'sharing' });
    const operatorCreate = await post({ name: 'Op cam' }, await t.cookie('operator'));
    expect(operatorCreate.statusCode).toBe(403);
  });

  it('imports all-or-nothing: one bad row reports every error and writes nothing', async () => {
    const before = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM cameras')).rows[0].n;
    const body = csv(
      row(1),
      row(2, { rtsp_main: 'file:///etc/passwd' }),
      row(3, { lat: 'north' }),
      row(4, { national_id: '3301060000132000' + '0001' }),
      row(5, { onvif_url: 'concat:/etc/passwd' }),
    );
    const r = await importCsv(body);
    expect(r.statusCode).toBe(422);
    const errors = r.json().errors as Array<{ row: number; column: string; message: string }>;
    expect(errors).toEqual(expect.arrayContaining([
      expect.objectContaining({ row: 3, column: 'rtsp_main' }),
      expect.objectContaining({ row: 4, column: 'lat' }),
      expect.objectContaining({ row: 5, column: 'national_id', message: expect.stringMatching(/duplicates row 2/) }),
      expect.objectContaining({ row: 6, column: 'onvif_url' }),
    ]));
    expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM cameras')).rows[0].n).toBe(before);
  });

  it('imports the good rows with ?partial=true and reports the rest', async () => {
    const r = await importCsv(csv(row(10), row(11, { rtsp_sub: 'http://10.0.0.1/x' }), row(12)), '?partial=true');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ created: 2, updated: 0 });
    expect(r.json().errors).toEqual([expect.objectContaining({ row: 3, column: 'rtsp_sub' })]);
  });

  it('upserts by national ID, accepts GBK and BOM files, and exports CSV that imports back unchanged', async () => {
    const utf8 = await importCsv('\ufeff' + csv(row(20), row(21)));
    expect(utf8.json()).toMatchObject({ created: 2, updated: 0, errors: [] });
    const gbk = await importCsv(iconv.encode(csv(row(20, { name: '西湖东门', address: '杭州市西湖区北山街' })), 'gbk'));
    expect(gbk.json()).toMatchObject({ created: 0, updated: 1 });
    const got = await t.app.inject({ url: `/api/cameras?q=${encodeURIComponent('西湖东门')}`, headers: { cookie: tech } });
    expect(got.json().items[0]).toMatchObject({ name: '西湖东门', address: '杭州市西湖区北山街', nationalId: '33010600001320000020', tags: ['road', 'school'] });

    const exported = await t.app.inject({ url: '/api/cameras/export', headers: { cookie: tech } });
    expect(exported.headers['content-type']).toMatch(/text\/csv/);
    expect(exported.body).not.toMatch(/Secret-|password|username/);
    const before = (await t.app.inject({ url: '/api/cameras?limit=1000', headers: { cookie: tech } })).json().items;
    const again = await importCsv(exported.rawPayload);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ created: 0, errors: [] });
    const after = (await t.app.inject({ url: '/api/cameras?limit=1000', headers: { cookie: tech } })).json().items;
    const strip = (cs: Array<Record<string, unknown>>) => cs.map(({ updatedAt: _u, ...rest }) => rest);
    expect(strip(after)).toEqual(strip(before));
    // Credentials survive an export/import round trip because empty credential cells mean "keep".
    const cam = after.find((c: { nationalId: string }) => c.nationalId === '33010600001320000021');
    expect(await t.cameras.credentials(t.db, cam.id)).toEqual({ username: 'admin', password: 'Secret-21!' });
  });

  it('neutralises formula cells in the export (Excel/WPS), and the export still imports back unchanged', async () => {
    const names = ['=HYPERLINK("http://evil","x")', '+1+1', '-2+3', '@SUM(A1)', "'=already quoted"];
    const made: string[] = [];
    for (const [i, name] of names.entries()) {
      const r = await post({ name, address: `=cmd|' /C calc'!A${i}` });
      expect(r.statusCode, r.body).toBe(201);
      made.push(r.json().id);
    }
    const exported = await t.app.inject({ url: '/api/cameras/export', headers: { cookie: tech } });
    const text = exported.body;
    // no cell of the file starts with a formula character
    const { parse } = await import('csv-parse/sync');
    const cells = (parse(text.replace(/^\ufeff/, '')) as string[][]).slice(1).flat();
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
    expect(text).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(text).toContain("''=already quoted");
    const before = (await t.app.inject({ url: '/api/cameras?limit=1000', headers: { cookie: tech } })).json().items;
    const again = await importCsv(exported.rawPayload);
    expect(again.json()).toMatchObject({ created: 0, errors: [] });
    const after = (await t.app.inject({ url: '/api/cameras?limit=1000', headers: { cookie: tech } })).json().items;
    const strip = (cs: Array<Record<string, unknown>>) => cs.map(({ updatedAt: _u, ...rest }) => rest);
    expect(strip(after)).toEqual(strip(before));
    expect(after.map((c: { name: string }) => c.name)).toContain('=HYPERLINK("http://evil","x")');
    for (const id of made) await t.app.inject({ method: 'DELETE', url: `/api/cameras/${id}`, headers: { cookie: tech } });
  });

  it('refuses a CSV whose bytes are neither UTF-8 nor GBK with 422 naming the rows; C1 and U+2028 in names like other control characters', async () => {
    const good = Buffer.from(csv(row(40, { name: '南门' })), 'utf8');
    const bad = Buffer.concat([good, Buffer.from('x,Gate '), Buffer.from([0xff, 0xfe, 0x80, 0x41]), Buffer.from(',o,shared,,,,,,,,,,,,,\n')]);
    const r = await importCsv(bad);
    expect(r.statusCode).toBe(422);
    expect(r.json().errors).toEqual([expect.objectContaining({ row: 3, message: expect.stringMatching(/neither UTF-8 nor GBK/) })]);
    expect((await t.app.inject({ url: `/api/cameras?q=${encodeURIComponent('南门')}`, headers: { cookie: tech } })).json().total).toBe(0);
    for (const name of ['Gate\u0085one', 'Gate\u2028two', 'Gate\u2029three', 'Gate\u009bfour']) {
      const p = await post({ name });
      expect(p.statusCode, JSON.stringify(name)).toBe(400);
      expect(p.json().fieldErrors.name).toMatch(/control characters/);
    }
  });

  it('rejects CSV with broken quoting, unknown columns or a missing name column', async () => {
    const broken = await importCsv(`${HEADER}\n"unterminated,Gate,x\n`);
    expect(broken.statusCode).toBe(422);
    expect(broken.json().errors[0].message).toMatch(/not valid CSV/);
    const unknown = await importCsv('name,colour\nGate,red\n');
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors[0]).toMatchObject({ row: 1, column: 'colour' });
    const noName = await importCsv('address\nsomewhere\n');
    expect(noName.json().errors[0].message).toMatch(/name column is required/);
    const short = await importCsv(`${HEADER}\nonly,three,cells\n`);
    expect(short.json().errors[0]).toMatchObject({ row: 2, message: expect.stringMatching(/Expected 17 columns/) });
    const chinese = await importCsv('名称,主码流,区\n南门,rtsp://10.9.9.9/live,上城区\n');
    expect(chinese.json()).toMatchObject({ created: 1 });
  });

  it('filters, searches and pages with {items, total}', async () => {
    await importCsv(csv(...Array.from({ length: 30 }, (_, i) => row(100 + i, { district: i % 2 ? '上城区' : '拱墅区', tags: i % 3 ? 'road' : 'market' }))));
    const page = await t.app.inject({ url: '/api/cameras?district=' + encodeURIComponent('上城区') + '&limit=5&offset=5', headers: { cookie: tech } });
    expect(page.json().total).toBe(16);
    expect(page.json().items).toHaveLength(5);
    const tag = await t.app.inject({ url: '/api/cameras?tag=market&limit=100', headers: { cookie: tech } });
    expect(tag.json().total).toBe(10);
    const facets = await t.app.inject({ url: '/api/cameras/facets', headers: { cookie: tech } });
    expect(facets.json().districts).toEqual(expect.arrayContaining([{ value: '拱墅区', count: 15 }]));
    const badLimit = await t.app.inject({ url: '/api/cameras?limit=5000', headers: { cookie: tech } });
    expect(badLimit.statusCode).toBe(400);
  });

  it('never writes credentials into the log', () => {
    const log = t.logLines.join('');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toMatch(/Secret-\d+!|s3cr3t/);
  });
});
