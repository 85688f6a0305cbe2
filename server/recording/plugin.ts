/**
 * Wires recording into the composed server: one Recorder per node that pulls cameras (roles all and ingest; it reads
 * the session of each recorded camera from the node's ingest), started in the background and stopped before ingest
 * on shutdown; the playback/export routes on every node (API nodes redirect media to the store holding the file).
 *
 *   await app.register(recordingPlugin, { ...ctx, cameras });
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppContext } from '../context.js';
import type { CameraRepo } from '../inventory/camera-repo.js';
import { ingestFor } from '../../ingest/app-plugin.js';
import { ingestSettingsFromEnv } from '../../ingest/service.js';
import { Recorder, recordingConfigFromEnv } from './recorder.js';
import { recordingRoutes } from './routes.js';

const recorders = new WeakMap<object, Recorder | null>();

/** The node's recorder (null where this node pulls no cameras or RECORDINGS=0). Created and started once per context. */
export function recorderFor(ctx: AppContext & { cameras: CameraRepo }): Recorder | null {
  const known = recorders.get(ctx.bus);
  if (known !== undefined) return known;
  const cfg = recordingConfigFromEnv(process.env, ctx.config.dataDir);
  const role = ctx.cluster?.role ?? ctx.config.role;
  if (!cfg.enabled || (role !== 'all' && role !== 'ingest')) {
    recorders.set(ctx.bus, null);
    return null;
  }
  const recorder = new Recorder(ctx, ingestFor(ctx), cfg);
  recorders.set(ctx.bus, recorder);
  const started = recorder.start().catch((err) => (ctx.logger as unknown as Logger).error({ err, module: 'recording' }, 'recorder failed to start; live video goes on'));
  ctx.onShutdown.push(async () => { await started; await recorder.stop(); });
  return recorder;
}

export async function recordingPlugin(app: FastifyInstance, ctx: AppContext & { cameras: CameraRepo }): Promise<void> {
  const cfg = recordingConfigFromEnv(process.env, ctx.config.dataDir);
  const recorder = recorderFor(ctx) ?? undefined;
  await app.register(recordingRoutes, {
    ...ctx,
    recorder,
    ffmpegPath: ingestFor(ctx).ffmpegPath,
    storeId: cfg.nodeId,
    storeDir: cfg.dir,
    urlTtlS: ingestSettingsFromEnv(process.env).liveUrlTtlS,
  });
}
