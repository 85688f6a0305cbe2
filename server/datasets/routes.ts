/**
 * GET /api/datasets/export (admin): reviewed candidates as a zip training set (YOLO + COCO, hard negatives with their
 * reasons), filtered by event type, camera, time and status. Audited with the filter and what went in.
 *
 *   await app.register(datasetRoutes, node);
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { reviewedForDataset } from '../review/events-repo.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { HttpError } from '../http/errors.js';
import { commonErrors } from '../http/schemas.js';
import type { AnalyticsService } from '../analytics/service.js';
import { writeDataset, type ClassBy, type ExportRow } from './export.js';

interface ExportQuery {
  eventType?: string; cameraId?: string; from?: string; to?: string; status?: 'confirmed' | 'rejected' | 'reviewed'; classes?: ClassBy; limit: number;
}

export async function datasetRoutes(app: FastifyInstance, ctx: AppContext & { analytics: AnalyticsService }): Promise<void> {
  const svc = ctx.analytics;
  app.get<{ Querystring: ExportQuery }>('/api/datasets/export', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['analytics'],
      description: 'Zip of reviewed candidates as a training set: images/ (clean frames), labels/ (YOLO txt; empty = hard negative), classes.txt, data.yaml, annotations.coco.json, negatives.csv (rejections with reasons). classes=eventType (default) or label (the detector class).',
      querystring: {
        type: 'object',
        properties: {
          eventType: { type: 'string', maxLength: 64 }, cameraId: { type: 'string', format: 'uuid' },
          from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' },
          status: { type: 'string', enum: ['confirmed', 'rejected', 'reviewed'], default: 'reviewed' },
          classes: { type: 'string', enum: ['eventType', 'label'], default: 'eventType' },
          limit: { type: 'integer', minimum: 1, maximum: 20000, default: 5000 },
        },
        additionalProperties: false,
      },
      response: { ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    const f = request.query;
    if (f.from && f.to && Date.parse(f.from) >= Date.parse(f.to)) throw new HttpError(400, '起始时间须早于结束时间 / from must be before to', { from: 'must be before to' });
    const rows: ExportRow[] = (await reviewedForDataset(ctx.db, user, f))
      .map((r) => ({ ...r, firstSeen: new Date(r.firstSeen), score: Number(r.score) }));
    const filter = { eventType: f.eventType ?? null, cameraId: f.cameraId ?? null, from: f.from ?? null, to: f.to ?? null, status: f.status ?? 'reviewed', classes: f.classes ?? 'eventType' };
    // audited before a byte leaves: evidence goes out in bulk
    await audit(ctx.db, { user, action: 'dataset.export', targetType: 'dataset', detail: { ...filter, candidates: rows.length, confirmed: rows.filter((r) => r.status === 'confirmed').length }, ip: request.ip });
    const { stream, done } = writeDataset(rows, svc.evidenceDir, f.classes ?? 'eventType', { filter });
    done.then((s) => request.log.info({ images: s.images, positives: s.positives, negatives: s.negatives, skipped: s.skipped.length }, 'dataset exported'), (err) => request.log.error({ err }, 'dataset export failed'));
    const stamp = new Date().toISOString().slice(0, 10);
    reply.header('content-disposition', `attachment; filename="streeteye-dataset-${stamp}.zip"`).header('cache-control', 'no-store').type('application/zip');
    return reply.send(stream);
  });
}
