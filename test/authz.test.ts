/**
 * Authorization matrix: every /api route × every role, picked up from the app's own route table
 * (app.apiRoutes, filled by the guard's onRoute hook), so routes added later are covered without editing this file.
 *   - no credentials → 401
 *   - a role outside config.roles (or config.sessionRoles on API-key routes) → 403
 *   - an allowed role is neither 401 nor 403 (GET routes; mutating routes are not executed as allowed roles)
 *   - camera-scoped routes (/cameras/:id/..., :cameraId): a restricted camera is 404 to roles that may not see it
 *   - no GET answer to those roles mentions the restricted camera (id or name) anywhere: lists, trees, exports, cases, incidents
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.js';
import { ROLES, seesRestrictedCameras, type Role } from '../server/auth/roles.js';

/** Routes whose "allowed role" probe needs special setup; their 401/403 checks still run. */
const SKIP_ALLOWED_PROBE: Record<string, string> = {
  'GET /api/ws': 'WebSocket upgrade route: a plain GET is not a WebSocket handshake (covered by the live-push tests)',
};

const FAKE_UUID = '00000000-0000-4000-8000-000000000000';

describe('authorization matrix (pglite)', () => {
  let t: TestApp;
  let restricted: { id: string; name: string };
  const cookies = new Map<Role, string>();

  beforeAll(async () => {
    t = await createTestApp();
    for (const r of ROLES) cookies.set(r, await t.cookie(r));
    const admin = cookies.get('admin')!;
    const made = await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: admin }, payload: { name: 'RESTRICTED-CAM-7f3a', sharing: 'restricted', district: '保密区', gridCode: '33010600100199' } });
    restricted = made.json();
    await t.app.inject({ method: 'POST', url: '/api/cameras', headers: { cookie: admin }, payload: { name: 'Shared cam', district: '西湖区' } });
    // Things that point at the restricted camera: a case, a 110 incident, a view log entry.
    await t.app.inject({ method: 'POST', url: '/api/cases', headers: { cookie: admin }, payload: { eventType: 'exposed_garbage', cameraId: restricted.id } });
    await t.app.inject({ method: 'POST', url: '/api/110/incidents', headers: { cookie: cookies.get('police110')! }, payload: { ticketNo: 'AUTHZ-1', reportedAt: new Date().toISOString(), address: 'x', reportText: 'y', categoryCode: '0601', cameraId: restricted.id } });
  });
  afterAll(async () => { await t.close(); });

  const fill = (url: string, camera: string) => url.replace(/:(\w+)/g, (_, name: string) => {
    if (name === 'ticket') return 'AUTHZ-1';
    if (name === 'code') return '0601';
    if (name === 'eventType') return 'exposed_garbage';
    if (name === 'cameraId') return camera;
    return url.startsWith('/api/cameras/:id') ? camera : FAKE_UUID;
  });
  const isCameraScoped = (url: string) => url.startsWith('/api/cameras/:id') || url.includes(':cameraId');

  it('walks every route for every role', async () => {
    const seen = new Set<string>();
    const routes = t.app.apiRoutes.filter((r) => r.method !== 'HEAD' && !seen.has(`${r.method} ${r.url}`) && seen.add(`${r.method} ${r.url}`));
    expect(routes.length).toBeGreaterThan(20);
    const problems: string[] = [];
    let checked = 0;
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      const config = route.config as { public?: boolean; roles?: Role[]; apiKeyScope?: string; sessionRoles?: Role[] };
      if (config.public && !config.apiKeyScope) continue; // login, health, OpenAPI, signed media
      const allowed = config.apiKeyScope ? config.sessionRoles ?? [] : config.roles ?? [];
      const url = fill(route.url, restricted.id);
      const send = (cookie?: string) => t.app.inject({ method: route.method as 'GET', url, headers: cookie ? { cookie } : {}, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: {} }) });
      const anon = await send();
      if (anon.statusCode !== 401) problems.push(`${key}: no session → ${anon.statusCode}, want 401`);
      for (const role of ROLES) {
        const mayRoute = allowed.includes(role);
        if (!mayRoute) {
          const r = await send(cookies.get(role));
          checked++;
          if (r.statusCode !== 403) problems.push(`${key}: ${role} → ${r.statusCode}, want 403`);
          continue;
        }
        const hidden = isCameraScoped(route.url) && !seesRestrictedCameras(role);
        if (route.method !== 'GET' && !hidden) continue; // never execute mutations as an allowed role
        if (SKIP_ALLOWED_PROBE[key]) continue;
        const r = await send(cookies.get(role));
        checked++;
        if (hidden) {
          const ok = route.method === 'GET' ? [404] : [400, 404];
          if (!ok.includes(r.statusCode)) problems.push(`${key}: ${role} on a restricted camera → ${r.statusCode}, want ${ok.join(' or ')}`);
        } else if (r.statusCode === 401 || r.statusCode === 403) {
          problems.push(`${key}: ${role} is allowed but got ${r.statusCode}`);
        }
        if (!seesRestrictedCameras(role) && (r.body.includes(restricted.id) || r.body.includes(restricted.name))) {
          problems.push(`${key}: ${role} can see the restricted camera in the answer`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  it('drops WebSocket pushes about the restricted camera for roles that may not see it', async () => {
    const shared = (await t.app.inject({ url: '/api/cameras?q=shared%20cam', headers: { cookie: cookies.get('admin')! } })).json().items[0].id as string;
    const got = new Map<Role, string[]>();
    const sockets = [];
    for (const role of ROLES) {
      const ws = await t.app.injectWS('/api/ws', { headers: { cookie: cookies.get(role)! } });
      got.set(role, []);
      ws.on('message', (d: Buffer) => got.get(role)!.push(d.toString()));
      sockets.push(ws);
    }
    const at = new Date().toISOString();
    t.ctx.bus.publish('incident.updated', { id: 'i-1', ticketNo: 'WS-RESTRICTED', status: 'received', at, caseNo: null }, restricted.id);
    t.ctx.bus.publish('incident.updated', { id: 'i-2', ticketNo: 'WS-SHARED', status: 'received', at, caseNo: null }, shared);
    for (let i = 0; i < 200 && ROLES.some((r) => !got.get(r)!.some((m) => m.includes('WS-SHARED'))); i++) await new Promise((r) => setTimeout(r, 10));
    for (const role of ROLES) {
      const msgs = got.get(role)!.join('\n');
      expect(msgs, role).toContain('WS-SHARED');
      expect(msgs.includes('WS-RESTRICTED'), role).toBe(seesRestrictedCameras(role));
    }
    for (const ws of sockets) ws.terminate();
  });

  it('shows the restricted camera to police110 and admin', async () => {
    for (const role of ['police110', 'admin'] as const) {
      const r = await t.app.inject({ url: `/api/cameras/${restricted.id}`, headers: { cookie: cookies.get(role)! } });
      expect(r.statusCode).toBe(200);
    }
  });
});
