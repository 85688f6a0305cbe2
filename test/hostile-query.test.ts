/**
 * Hostile query strings on every registered GET route (picked up from the app's route table like the authorization
 * matrix, so a new route is covered without editing this file): a zero byte or another control character in any
 * parameter, and numbers such as 1e20 / 1e309 in integer parameters, are answered 400 naming the parameter — never 500 (a device answer such as 503 "camera not streaming" is not an internal error).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.js';
import { ROLES, type Role } from '../server/auth/roles.js';

const FAKE_UUID = '00000000-0000-4000-8000-000000000000';
const CONTROL_VALUES = ['a%00b', '%C2%85', '%E2%80%A8'];
const NUMBER_VALUES = ['1e20', '1e309', '-1e309', '9007199254740993', 'NaN'];
const SKIP: Record<string, string> = { 'GET /api/ws': 'WebSocket upgrade' };

interface QuerySchema { properties?: Record<string, { type?: string | string[] }> }

describe('hostile query parameters on every GET route (pglite)', () => {
  let t: TestApp;
  const cookies = new Map<Role, string>();
  let camera: string;

  beforeAll(async () => {
    t = await createTestApp();
    for (const r of ROLES) cookies.set(r, await t.cookie(r));
    camera = (await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: cookies.get('admin')! }, payload: { name: 'Hostile cam' } })).json().id;
  });
  afterAll(async () => { await t.close(); });

  it('answers 400 naming the parameter, never 500', async () => {
    const seen = new Set<string>();
    const routes = t.app.apiRoutes.filter((r) => r.method === 'GET' && !SKIP[`GET ${r.url}`] && !seen.has(r.url) && seen.add(r.url));
    expect(routes.length).toBeGreaterThan(30);
    const problems: string[] = [];
    let probes = 0;
    for (const route of routes) {
      const config = route.config as { public?: boolean; roles?: Role[]; sessionRoles?: Role[]; apiKeyScope?: string };
      const roles = config.apiKeyScope ? config.sessionRoles ?? [] : config.roles ?? [];
      const cookie = config.public && !config.apiKeyScope ? undefined : cookies.get(roles.includes('admin') ? 'admin' : roles[0]);
      const base = route.url.replace(/:(\w+)/g, (_, n: string) => (n === 'ticket' ? 'T-1' : n === 'code' ? '0601' : n === 'eventType' ? 'exposed_garbage' : route.url.startsWith('/api/cameras/:id') || n === 'cameraId' ? camera : FAKE_UUID));
      const props = (route.querystring as QuerySchema | undefined)?.properties ?? {};
      const names = Object.keys(props).length ? Object.keys(props) : ['q', 'offset', 'limit'];
      const send = async (qs: string) => {
        probes++;
        const r = await t.app.inject({ method: 'GET', url: `${base}?${qs}`, headers: cookie ? { cookie } : {} });
        return { status: r.statusCode, body: r.body };
      };
      for (const name of names) {
        const types = [props[name]?.type ?? 'string'].flat();
        for (const v of CONTROL_VALUES) {
          const r = await send(`${name}=${v}`);
          if (r.status === 500 || (Object.keys(props).length && (r.status !== 400 || !r.body.includes(name)))) problems.push(`GET ${route.url}?${name}=${v} → ${r.status} ${r.body.slice(0, 120)}`);
        }
        for (const v of NUMBER_VALUES) {
          const r = await send(`${name}=${v}`);
          if (r.status === 500) problems.push(`GET ${route.url}?${name}=${v} → ${r.status} ${r.body.slice(0, 120)}`);
          else if ((types.includes('integer') || types.includes('number')) && r.status !== 400) problems.push(`GET ${route.url}?${name}=${v} → ${r.status}, want 400 (out of range)`);
        }
      }
      // a zero byte in a path parameter
      if (route.url.includes(':')) {
        probes++;
        const r = await t.app.inject({ method: 'GET', url: route.url.replace(/:(\w+)/g, 'x%00y'), headers: cookie ? { cookie } : {} });
        if (r.statusCode === 500) problems.push(`GET ${route.url} with %00 in the path → ${r.statusCode}`);
      }
    }
    expect(probes).toBeGreaterThan(500);
    expect(problems).toEqual([]);
  }, 240_000);

  it('says which parameter, in Chinese and English', async () => {
    const r = await t.app.inject({ url: '/api/cameras?q=%00', headers: { cookie: cookies.get('admin')! } });
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toMatch(/q/);
    expect(r.json().message).toMatch(/[\u4e00-\u9fff]/);
    expect(r.json().fieldErrors).toHaveProperty('q');
    const n = await t.app.inject({ url: '/api/cameras?offset=1e20', headers: { cookie: cookies.get('admin')! } });
    expect(n.statusCode).toBe(400);
    expect(n.json().fieldErrors).toHaveProperty('offset');
    expect(n.json().message).toMatch(/[\u4e00-\u9fff]/);
  });
});
