/**
 * A city's own models (admin): upload an ONNX model with its manifest, validated by checkModel before anything is
 * kept; test-run it on a camera's snapshot (boxes back, drawn by the console); enable it (registered in the model
 * store, hot-swapped in the engine when the id is already running) so rules can name it in their `model` field.
 *
 *   await app.register(modelRoutes, ctx);
 *
 * Upload scheme (no multipart dependency): POST /api/models with the weights as the raw body
 * (Content-Type: application/octet-stream) and the manifest JSON in the X-Model-Manifest header, base64 of its UTF-8
 * text. The body is streamed into $DATA_DIR/models/.incoming/ and checked there; only a valid model is renamed into
 * $DATA_DIR/models/staged/ (weights first, its manifest last). Enabling renames the staged pair into
 * $DATA_DIR/models/, which the model store reads at start, so an enabled model survives a restart. Weight files
 * carry the hash in their name (<id>-<sha12>.onnx) so that the manifest's rename is the one switch-over step.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { checkModel, Detector, detectOnImage, parseManifest, type ModelManifest } from '../../analytics/index.js';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { audit } from '../audit.js';
import { HttpError } from '../http/errors.js';
import { commonErrors, errorReply } from '../http/schemas.js';
import type { AnalyticsService } from '../analytics/service.js';
import { RULE_READERS } from '../rules/routes.js';

/** Largest weights accepted (a YOLOv8-m export is ~100 MB). */
export const MAX_MODEL_BYTES = 300 * 1024 * 1024;
export const MANIFEST_HEADER = 'x-model-manifest';

interface ModelInfo {
  id: string; description: string | null; decoder: string; classes: string[]; input: { width: number | null; height: number | null };
  sha256: string | null; source: 'shipped' | 'uploaded' | 'staged'; status: string; message: string | null;
}

const modelReply = {
  type: 'object',
  properties: {
    id: { type: 'string' }, description: { type: ['string', 'null'] }, decoder: { type: 'string' }, classes: { type: 'array', items: { type: 'string' } },
    input: { type: 'object', properties: { width: { type: ['integer', 'null'] }, height: { type: ['integer', 'null'] } } },
    sha256: { type: ['string', 'null'] }, source: { type: 'string' }, status: { type: 'string' }, message: { type: ['string', 'null'] },
  },
} as const;
const idParam = { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_.-]*$', maxLength: 64 } }, required: ['id'] } as const;

const info = (m: ModelManifest, source: ModelInfo['source'], status: string, message: string | null): ModelInfo => ({
  id: m.id, description: m.description ?? null, decoder: m.decoder.kind, classes: m.classes, input: { width: m.input.width, height: m.input.height },
  sha256: m.sha256, source, status, message,
});

function fieldErrors(errors: { field: string; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) out[e.field || '(root)'] ??= e.message;
  return out;
}

/** The Chinese headline for the first thing wrong with an upload (the English detail is in fieldErrors). */
function headline(errors: { field: string; message: string }[]): string {
  const f = errors[0]?.field ?? '';
  if (f === 'manifest.sha256') return '模型文件的 sha256 与清单不符 / the weights do not match the manifest\'s sha256';
  if (f.startsWith('manifest.decoder')) return '清单的解码器无效（支持 yolox、nanodet、yolov8）/ invalid decoder in the manifest (yolox, nanodet or yolov8)';
  if (f.startsWith('manifest')) return '模型清单无效 / invalid model manifest';
  return '模型无法加载或输出与解码器不符（输入尺寸、输出形状）/ the model does not load or its shapes do not match the decoder';
}

export async function modelRoutes(app: FastifyInstance, ctx: AppContext & { analytics: AnalyticsService }): Promise<void> {
  const svc = ctx.analytics;
  const root = svc.uploadsDir;
  const stagedDir = join(root, 'staged');
  const incomingDir = join(root, '.incoming');
  const log = (ctx.logger as unknown as Logger).child({ module: 'models' });

  // the weights arrive as a stream: the handler writes them to a temp file with a size limit (never all in memory)
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  const readStaged = async (id: string): Promise<ModelManifest | null> => {
    const p = join(stagedDir, `${id}.json`);
    if (!existsSync(p)) return null;
    return parseManifest(JSON.parse(await readFile(p, 'utf8')), p);
  };
  const store = () => {
    if (!svc.models) throw new HttpError(503, '分析模块尚未就绪 / analytics has not started on this node');
    return svc.models;
  };

  app.get('/api/models', {
    config: { roles: RULE_READERS },
    schema: {
      tags: ['analytics'],
      description: 'Models rules may choose (shipped and enabled uploads, with their load state) and, for admins, uploads that are validated but not enabled yet (source staged).',
      response: { 200: { type: 'object', properties: { models: { type: 'array', items: modelReply }, defaultModel: { type: 'string' } } }, ...commonErrors },
    },
  }, async (request) => {
    const models = store();
    const out: ModelInfo[] = [];
    for (const s of models.list()) {
      const m = models.manifest(s.id);
      if (m) out.push(info(m, models.isUploaded(s.id) ? 'uploaded' : 'shipped', s.status, s.message ?? null));
    }
    if (currentUser(request).role === 'admin' && existsSync(stagedDir)) {
      for (const f of (await readdir(stagedDir)).filter((n) => n.endsWith('.json')).sort()) {
        const m = await readStaged(f.slice(0, -5)).catch(() => null);
        if (m) out.push(info(m, 'staged', 'validated', '已校验，未启用 validated, not enabled'));
      }
    }
    return { models: out, defaultModel: svc.config.defaultModel };
  });

  app.post<{ Body: NodeJS.ReadableStream }>('/api/models', {
    config: { roles: ['admin'] },
    bodyLimit: MAX_MODEL_BYTES,
    schema: {
      tags: ['analytics'],
      description: 'Uploads a model: raw ONNX body (application/octet-stream), manifest JSON base64-encoded in the X-Model-Manifest header. Checked (manifest, sha256, session, input shape, one run through the decoder); 422 with fieldErrors when it is not usable, nothing kept. A valid one is staged: test-run it, then enable it.',
      response: { 201: { type: 'object', properties: { model: modelReply, check: { type: 'object', additionalProperties: true } } }, 413: errorReply, 415: errorReply, 422: errorReply, ...commonErrors },
    },
  }, async (request, reply) => {
    const user = currentUser(request);
    if (!request.headers['content-type']?.startsWith('application/octet-stream')) {
      throw new HttpError(415, '模型文件须以 application/octet-stream 上传 / send the ONNX weights as application/octet-stream');
    }
    const header = request.headers[MANIFEST_HEADER];
    let raw: unknown;
    try {
      if (typeof header !== 'string' || !header) throw new Error('missing');
      raw = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
    } catch {
      throw new HttpError(400, '缺少模型清单或清单不是 JSON（X-Model-Manifest 头，base64）/ the X-Model-Manifest header must carry the manifest JSON, base64-encoded', { manifest: 'missing or not base64 JSON' });
    }
    // the id decides the file names: it must be valid before anything touches the disk
    let id: string;
    try {
      id = parseManifest(raw, 'manifest').id;
    } catch (err) {
      const check = await checkModel(raw, '/nonexistent', { logger: log });
      throw new HttpError(422, headline(check.errors), fieldErrors(check.errors.length ? check.errors : [{ field: 'manifest', message: (err as Error).message }]));
    }
    const models = store();
    if (models.manifest(id) && !models.isUploaded(id)) {
      throw new HttpError(409, `型号 ${id} 是系统自带模型，请换一个 id / ${id} is a shipped model: upload under another id`, { 'manifest.id': 'a shipped model has this id' });
    }
    await mkdir(incomingDir, { recursive: true });
    const tmp = join(incomingDir, `${randomUUID()}.onnx`);
    let bytes = 0;
    try {
      const limit = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          cb(bytes > MAX_MODEL_BYTES ? new HttpError(413, `模型文件超过 ${MAX_MODEL_BYTES >> 20} MB / the weights exceed ${MAX_MODEL_BYTES >> 20} MB`) : null, chunk);
        },
      });
      await pipeline(request.body, limit, createWriteStream(tmp, { flags: 'wx' }));
      if (bytes === 0) throw new HttpError(400, '没有收到模型文件 / no weights in the request body', { body: 'empty' });
      const check = await checkModel(raw, tmp, { providers: ['cpu'], logger: log });
      if (!check.ok || !check.manifest || !check.sha256) throw new HttpError(422, headline(check.errors), fieldErrors(check.errors));
      const manifest: ModelManifest = { ...check.manifest, sha256: check.sha256, file: `${id}-${check.sha256.slice(0, 12)}.onnx` };
      await mkdir(stagedDir, { recursive: true });
      await rename(tmp, join(stagedDir, manifest.file));
      const mtmp = join(incomingDir, `${randomUUID()}.json`);
      await writeFile(mtmp, JSON.stringify(manifest, null, 2));
      await rename(mtmp, join(stagedDir, `${id}.json`));
      await audit(ctx.db, { user, action: 'model.upload', targetType: 'model', targetId: id, detail: { sha256: check.sha256, bytes, decoder: manifest.decoder.kind, classes: manifest.classes.length, input: check.input }, ip: request.ip });
      reply.code(201);
      return { model: info(manifest, 'staged', 'validated', null), check: { ok: true, input: check.input, blankDetections: check.blankDetections, sha256: check.sha256 } };
    } finally {
      await unlink(tmp).catch(() => {});
    }
  });

  /** Staged manifest first (what is being tried), else the enabled/shipped one. */
  const resolveModel = async (id: string): Promise<{ manifest: ModelManifest; path: string; source: 'staged' | 'store' }> => {
    const staged = await readStaged(id).catch(() => null);
    if (staged) return { manifest: staged, path: join(stagedDir, staged.file), source: 'staged' };
    const models = store();
    const m = models.manifest(id);
    const path = models.state(id)?.path;
    if (!m || !path) throw new HttpError(404, `没有模型 ${id} / model ${id} not found`);
    return { manifest: m, path, source: 'store' };
  };

  app.post<{ Params: { id: string }; Body: { cameraId: string } }>('/api/models/:id/test-run', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['analytics'],
      description: 'Runs the model once over a camera\'s current snapshot (the camera snapshot service) and returns the boxes (normalised) with the snapshot itself, so the console can draw what the model sees before it is enabled.',
      params: idParam,
      body: { type: 'object', properties: { cameraId: { type: 'string', format: 'uuid' } }, required: ['cameraId'], additionalProperties: false },
      response: {
        200: {
          type: 'object',
          properties: {
            model: { type: 'string' }, cameraId: { type: 'string' }, width: { type: 'integer' }, height: { type: 'integer' }, snapshot: { type: 'string' }, ms: { type: 'number' },
            detections: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, score: { type: 'number' }, box: { type: 'object', properties: { x1: { type: 'number' }, y1: { type: 'number' }, x2: { type: 'number' }, y2: { type: 'number' } } } } } },
          },
        },
        502: errorReply, 503: errorReply, ...commonErrors,
      },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { id } = request.params;
    const { cameraId } = request.body;
    const { manifest, path } = await resolveModel(id);
    // the snapshot service as the admin would see it: visibility, cluster relay, stream or ONVIF URI, its audit entry
    const snap = await app.inject({ method: 'GET', url: `/api/cameras/${cameraId}/snapshot`, headers: { cookie: request.headers.cookie ?? '' } });
    if (snap.statusCode === 404) throw new HttpError(404, '点位不存在 / camera not found');
    if (snap.statusCode !== 200) {
      const why = (() => { try { return (snap.json() as { message?: string }).message; } catch { return undefined; } })();
      throw new HttpError(503, `取不到该点位的快照 / no snapshot from this camera${why ? `: ${why}` : ''}`);
    }
    const jpeg = snap.rawPayload;
    const started = Date.now();
    const detector = await Detector.create(manifest, path, { providers: ['cpu'], logger: log }).catch((err: Error) => {
      throw new HttpError(422, `模型无法加载 / the model does not load: ${err.message.slice(0, 300)}`);
    });
    try {
      const result = await detectOnImage(detector, jpeg).catch((err: Error) => {
        throw new HttpError(422, `快照无法解码或推理失败 / the snapshot could not be decoded or run: ${err.message.slice(0, 300)}`);
      });
      await audit(ctx.db, { user, action: 'model.test_run', targetType: 'model', targetId: id, detail: { cameraId, detections: result.detections.length }, ip: request.ip });
      return { model: id, cameraId, ...result, ms: Date.now() - started, snapshot: `data:image/jpeg;base64,${jpeg.toString('base64')}` };
    } finally {
      await detector.release().catch(() => {});
    }
  });

  app.post<{ Params: { id: string } }>('/api/models/:id/enable', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['analytics'],
      description: 'Enables a staged model: its files move into the models folder (kept across restarts), the model store registers it, and when the engine already runs that id it swaps to the new weights without a restart. Rules may then name it.',
      params: idParam,
      response: { 200: { type: 'object', properties: { model: modelReply, hotSwapped: { type: 'boolean' } } }, ...commonErrors },
    },
  }, async (request) => {
    const user = currentUser(request);
    const { id } = request.params;
    const models = store();
    const staged = await readStaged(id).catch(() => null);
    if (!staged) throw new HttpError(404, `没有待启用的模型 ${id}（请先上传）/ no staged model ${id}: upload it first`);
    const previous = models.manifest(id);
    const weights = join(root, staged.file);
    // weights first, then the manifest: a restart in between finds the old manifest and its own (still present) weights
    await rename(join(stagedDir, staged.file), weights);
    await rename(join(stagedDir, `${id}.json`), join(root, `${id}.json`));
    const state = await models.register(staged, weights);
    const hotSwapped = !!svc.engine?.loadedModel(id);
    if (hotSwapped) await svc.engine!.reloadModel(id);
    if (previous && previous.file !== staged.file) await unlink(join(root, previous.file)).catch(() => {});
    await audit(ctx.db, { user, action: 'model.enable', targetType: 'model', targetId: id, detail: { sha256: staged.sha256, hotSwapped, replaced: previous?.sha256 ?? null }, ip: request.ip });
    return { model: info(staged, 'uploaded', state.status, state.message ?? null), hotSwapped };
  });
}
