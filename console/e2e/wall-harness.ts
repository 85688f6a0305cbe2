/**
 * A whole StreetEye node for wall tests and the wall bench: the camera simulator (real RTSP), the composed
 * app (ingest + wall) on HTTPS/HTTP/2 and on HTTP/1.1 from one context (as server/main.ts runs it), cameras in
 * the inventory pointing at the simulator, one user per role, and one Chromium. No vitest imports: the bench
 * runs it too (the caller passes the database).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { buildApp, type BuiltApp } from '../../server/app.js';
import { createNode, type NodeContext } from '../../server/node.js';
import { Bus } from '../../server/bus.js';
import { loadConfig } from '../../server/config.js';
import type { AppContext } from '../../server/context.js';
import type { Db } from '../../server/db/db.js';
import { hashPassword } from '../../server/auth/passwords.js';
import { ROLES, type Role } from '../../server/auth/roles.js';
import { loadOrCreateTlsCertificate } from '../../server/tls.js';
import { startSimulator, type SimCameraInfo } from '../../simulator/index.js';
import { existsSync } from 'node:fs';
import { CONSOLE_DIST } from '../../server/http/console-static.js';
import { launchChromium } from '../../test/find-chromium.js';

function assertConsoleBuilt(): void {
  if (!existsSync(join(CONSOLE_DIST, 'index.html'))) throw new Error('console/dist is missing: run `npm run build:console` first (npm test does it)');
}

export const WALL_PASSWORD = 'wall-test-password-1';

export interface WallCamera { id: string; name: string; sim: SimCameraInfo }

export interface WallStack {
  ctx: NodeContext;
  h2: BuiltApp;
  h1: BuiltApp;
  /** https://127.0.0.1:port (HTTP/2 with HTTP/1.1 fallback, self-signed) */
  httpsBase: string;
  /** http://127.0.0.1:port (HTTP/1.1 only) */
  httpBase: string;
  sim: Awaited<ReturnType<typeof startSimulator>>;
  cams: WallCamera[];
  browser: Browser;
  login(page: Page, base: string, role: Role): Promise<void>;
  close(): Promise<void>;
}

export interface WallStackOptions {
  db: Db;
  cameras: number;
  /** encode cache for the simulator (shared between runs: the first encode takes a while) */
  simDataDir?: string;
  /** INGEST_*, WALL_* and other environment for the node */
  env?: Record<string, string>;
  chromiumArgs?: string[];
  /** simulator frame rate (default 25) */
  fps?: number;
  logLevel?: string;
  /** simulator: the last h265OnlyCameras send H.265 on both streams, the h265Cameras before them on the main stream */
  h265Cameras?: number;
  h265OnlyCameras?: number;
  mainSize?: { width: number; height: number };
  subSize?: { width: number; height: number };
}

export async function startWallStack(o: WallStackOptions): Promise<WallStack> {
  assertConsoleBuilt();
  const dataDir = await mkdtemp(join(tmpdir(), 'streeteye-wall-'));
  const cleanup: Array<() => Promise<unknown>> = [() => rm(dataDir, { recursive: true, force: true })];
  const close = async () => { for (const fn of cleanup.reverse()) await fn().catch(() => {}); };
  try {
    const sim = await startSimulator({
      cameras: o.cameras, fps: o.fps, h265Cameras: o.h265Cameras, h265OnlyCameras: o.h265OnlyCameras, mainSize: o.mainSize, subSize: o.subSize, dataDir: o.simDataDir ?? join(tmpdir(), 'streeteye-sim-test-cache'), keyframeIntervalS: 1, labelledCameras: 0,
      logger: pino({ level: 'warn' }),
    });
    cleanup.push(() => sim.stop());

    const logger = pino({ level: o.logLevel ?? 'warn' });
    const config = loadConfig({ DATA_DIR: dataDir, STREETEYE_SIM_CAMERAS: '0', TLS_PORT: '0', ...o.env });
    const base: AppContext = { config, db: o.db, logger, secretKey: randomBytes(32), bus: new Bus() };
    const hash = await hashPassword(WALL_PASSWORD);
    for (const role of ROLES) await o.db.query('INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [role, hash, role]);

    // ingest reads INGEST_* from the environment when the first app is built
    const saved: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(o.env ?? {})) { saved[k] = process.env[k]; process.env[k] = v; }
    let h1: BuiltApp;
    let h2: BuiltApp;
    // one node, two listeners over it (as main.ts): no cluster, fleet probes, alarm listener, outbox or SIP server here
    // (the SIP server would bind 5060, which a parallel test or another process may hold)
    const node = createNode(base, { skip: ['cluster', 'fleet', 'alarms', 'outbox', 'demo-fleet', 'gb28181'] });
    const ctx = node.context;
    try {
      await node.start();
      h1 = await buildApp(ctx);
      const tls = await loadOrCreateTlsCertificate(join(dataDir, 'tls'));
      h2 = await buildApp(ctx, { http2: true, https: { allowHTTP1: true, ...tls } } as never);
    } finally {
      for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    }
    cleanup.push(async () => {
      await Promise.all([h1.app.close(), h2.app.close()]);
      await node.stop();
    });
    await h1.app.listen({ port: 0, host: '127.0.0.1' });
    await h2.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (b: BuiltApp) => (b.app.server.address() as { port: number }).port;

    const districts = [['西湖区', '北山街道', '保俶社区'], ['西湖区', '北山街道', '宝石社区'], ['上城区', '湖滨街道', '东坡社区']];
    const cams: WallCamera[] = [];
    for (const [i, s] of sim.cameras().entries()) {
      const [district, street, community] = districts[i % districts.length];
      const cam = await h1.cameras.insert(o.db, {
        name: `路口 ${String(i + 1).padStart(2, '0')} ${s.name}`, district, street, community, owner: i % 2 ? '城管局' : '交警支队',
        lat: 30.25 + (i % 5) * 0.004, lng: 120.15 + Math.floor(i / 5) * 0.005, gridCode: `3301060010010${i % 2}`,
        rtspMain: s.rtspMain, rtspSub: s.rtspSub, onvifUrl: s.onvifUrl, username: s.username, password: s.password,
      });
      cams.push({ id: cam.id, name: cam.name, sim: s });
    }

    const browser = await launchChromium(['--ignore-certificate-errors', '--autoplay-policy=no-user-gesture-required', ...(o.chromiumArgs ?? [])]);
    cleanup.push(() => browser.close());

    return {
      ctx, h1, h2, sim, cams, browser,
      httpsBase: `https://127.0.0.1:${port(h2)}`,
      httpBase: `http://127.0.0.1:${port(h1)}`,
      async login(page, base, role) {
        await page.goto(`${base}/login`);
        await page.locator('#login-username').fill(role);
        await page.locator('#login-password').fill(WALL_PASSWORD);
        await page.locator('form.login button[type=submit]').click();
        await page.locator('header.topbar').waitFor();
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** currentTime of every tile's video, in tile order (null where the tile has no player). */
export function tileTimes(page: Page): Promise<Array<number | null>> {
  return page.evaluate(`[...document.querySelectorAll('[data-testid="tile"]')].map((t) => { const v = t.querySelector('video'); return v ? v.currentTime : null; })`) as Promise<Array<number | null>>;
}
