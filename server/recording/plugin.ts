/**
 * The playback/export routes on every node, over the node's recorder (server/node.ts starts it on nodes that pull
 * cameras; API nodes have none and redirect media to the store holding the file).
 *
 *   await app.register(recordingPlugin, ctx);
 */
import type { FastifyInstance } from 'fastify';
import type { NodeContext } from '../node.js';
import { recordingRoutes } from './routes.js';
import { gbExternalRecordings } from '../gb28181/playback-routes.js';

export async function recordingPlugin(app: FastifyInstance, ctx: NodeContext): Promise<void> {
  await app.register(recordingRoutes, {
    ...ctx,
    recorder: ctx.recorder,
    ffmpegPath: ctx.ingest.ffmpegPath,
    storeId: ctx.recording.nodeId,
    storeDir: ctx.recording.dir,
    urlTtlS: ctx.ingest.settings.liveUrlTtlS,
    external: gbExternalRecordings({ ...ctx, urlTtlS: ctx.ingest.settings.liveUrlTtlS }),
  });
}
