import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import { Registry } from 'prom-client';
import type { NodeContext } from './node.js';
import { installValidators } from './http/validation.js';
import { installErrorHandler } from './http/errors.js';
import { installMetrics } from './http/metrics.js';
import { installGuard } from './auth/guard.js';
import { healthRoutes } from './http/health.js';
import { livePushRoutes } from './http/live-push.js';
import { consoleStatic } from './http/console-static.js';
import { authRoutes } from './auth/routes.js';
import { userRoutes } from './users/routes.js';
import { cameraRoutes } from './inventory/routes.js';
import type { CameraRepo } from './inventory/camera-repo.js';
import { outboxRoutes } from './outbox/routes.js';
import { fleetRoutes } from './fleet/routes.js';
import { discoveryRoutes } from './discovery/routes.js';
import { recordingPlugin } from './recording/plugin.js';
import { caseRoutes } from './cases/case-routes.js';
import { timeLimitRoutes } from './classification/time-limit-routes.js';
import { categoryRoutes } from './classification/category-routes.js';
import { eventTypeRoutes } from './classification/event-type-routes.js';
import { ruleRoutes } from './rules/routes.js';
import { reviewRoutes } from './review/routes.js';
import { rejectReasonRoutes } from './review/reject-reasons.js';
import { departmentRoutes } from './cases/department-routes.js';
import { cityInboundRoutes } from './cases/city-inbound-routes.js';
import { auditRoutes } from './auditing/routes.js';
import { passwordRoutes } from './auth/password-routes.js';
import { desk110Routes } from './desk110/routes.js';
import { sharingRoutes } from './sharing/routes.js';
import { kpiRoutes } from './kpi/routes.js';
import { liveRoutes } from './live/ingest-wiring.js';

export interface BuiltApp {
  app: FastifyInstance;
  metrics: Registry;
  cameras: CameraRepo;
}

/** Fields that must never reach a log line, wherever they appear in a logged object. */
export const LOG_REDACT = ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]', '*.password', '*.username', '*.credentials',
  'callerPhone', 'callerName', '*.callerPhone', '*.callerName', '*.*.callerPhone', '*.*.callerName'];

/**
 * Registers the HTTP routes over a node's subsystems (server/node.ts builds and starts them; this starts nothing).
 * Called once per listener: HTTP/1.1, and HTTP/2 + TLS (`serverOptions`); tests use the defaults.
 */
export async function buildApp(ctx: NodeContext, serverOptions: FastifyServerOptions = {}): Promise<BuiltApp> {
  const app = Fastify({
    loggerInstance: ctx.logger,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
    ...serverOptions,
  } as FastifyServerOptions) as unknown as FastifyInstance;
  const metrics = new Registry();
  const { cameras } = ctx;

  installValidators(app);
  installErrorHandler(app);
  await app.register(cookie);
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(swagger, {
    openapi: { info: { title: 'StreetEye API', version: '0.1.0', description: 'Video integration and camera analytics for city command centers' } },
  });
  installGuard(app, ctx.db);
  installMetrics(app, metrics);

  app.get('/api/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes, ctx);
  await app.register(authRoutes, ctx);
  await app.register(userRoutes, ctx);
  await app.register(cameraRoutes, ctx);
  await app.register(livePushRoutes, ctx);
  await app.register(fleetRoutes, { ...ctx, metrics });
  await app.register(discoveryRoutes, ctx);
  await app.register(liveRoutes, ctx);
  await app.register(recordingPlugin, ctx);
  await app.register(caseRoutes, ctx);
  await app.register(timeLimitRoutes, ctx);
  await app.register(departmentRoutes, ctx);
  await app.register(cityInboundRoutes, ctx);
  await app.register(auditRoutes, ctx);
  await app.register(passwordRoutes, ctx);
  await app.register(desk110Routes, ctx);
  await app.register(sharingRoutes, ctx);
  await app.register(kpiRoutes, ctx);
  await app.register((await import('./cluster/routes.js')).clusterRoutes, ctx);
  await app.register((await import('./wall/plugin.js')).wallPlugin, ctx);
  await app.register(outboxRoutes, ctx);
  await app.register((await import('./ptz/routes.js')).ptzRoutes, ctx);
  await app.register((await import('./alarms/routes.js')).alarmRoutes, ctx);
  await app.register((await import('./gb28181/routes.js')).gbRoutes, { ...ctx, metrics });
  await app.register((await import('./analytics/routes.js')).analyticsRoutes, ctx);
  await app.register(eventTypeRoutes, ctx);
  await app.register(categoryRoutes, ctx);
  await app.register(ruleRoutes, ctx);
  await app.register(reviewRoutes, ctx);
  await app.register(rejectReasonRoutes, ctx);
  await app.register((await import('./learning/routes.js')).learningRoutes, ctx);
  await app.register((await import('./datasets/routes.js')).datasetRoutes, ctx);
  await app.register((await import('./models/routes.js')).modelRoutes, ctx);
  await app.register(consoleStatic);
  return { app, metrics, cameras };
}
