import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Detector } from './detector.js';
import { loadManifestDir, type ModelManifest } from './manifest.js';
import { chooseProviders, type DevicePreference, type ProviderChoice } from './providers.js';

/** available: weights found (and verified when the manifest has a sha256), session not created yet. */
export type ModelStatus = 'missing' | 'bad-checksum' | 'available' | 'loading' | 'ready' | 'error';

export interface ModelState {
  id: string;
  status: ModelStatus;
  /** Where the weights were found (absent when missing). */
  path?: string;
  /** Human-readable detail: where we looked, which checksum we got, the load error. */
  message?: string;
  warmup?: { done: number; total: number };
  device?: DevicePreference;
}

export interface WarmupProgress {
  model: string;
  done: number;
  total: number;
}

export interface ModelStoreOptions {
  /** Directory of *.json manifests (the project's models/). */
  manifestsDir: string;
  /** Where weights are searched, in order (e.g. MODELS_DIR, then models/). */
  weightDirs: string[];
  /**
   * A city's uploaded models ($DATA_DIR/models): manifests and weights side by side, read at init so that an
   * enabled upload survives a restart. Missing folder = none uploaded yet.
   */
  uploadsDir?: string;
  device?: DevicePreference;
  /**
   * onnxruntime intra-op threads per session (default 1). Measured on the 2-core box: one thread gives a
   * steady ~13 ms YOLOX-nano run and leaves the other core to sharp, ffmpeg and the rules; two spinning
   * threads reach ~9 ms on an idle box but 28 ms as soon as anything else runs.
   */
  intraOpThreads?: number;
  allowSpinning?: boolean;
  warmupRuns?: number;
  logger: Logger;
}

/**
 * Finds each manifest's weights, verifies the sha256, creates sessions and warms them up. A model whose
 * weights are missing or corrupt gets a clear state and does not stop the rest of the product.
 */
export class ModelStore {
  private readonly log: Logger;
  private readonly manifests = new Map<string, ModelManifest>();
  private readonly states = new Map<string, ModelState>();
  private readonly detectors = new Map<string, Promise<Detector | null>>();
  /** ids that came from uploads (register() or the uploads folder), not from the shipped models/ */
  private readonly uploaded = new Set<string>();
  readonly providers: ProviderChoice;

  constructor(private readonly opts: ModelStoreOptions) {
    this.log = opts.logger.child({ module: 'analytics.models' });
    this.providers = chooseProviders(opts.device ?? 'cpu');
  }

  /** Reads the manifests and locates/verifies weights; does not create sessions. */
  async init(): Promise<ModelState[]> {
    const { manifests, errors } = await loadManifestDir(this.opts.manifestsDir);
    for (const e of errors) this.log.error({ err: e.message }, 'invalid model manifest ignored');
    this.log.info({ providers: this.providers.providers, reason: this.providers.reason }, 'execution providers');
    for (const m of manifests.values()) {
      this.manifests.set(m.id, m);
      this.states.set(m.id, await this.locate(m));
    }
    if (this.opts.uploadsDir && existsSync(this.opts.uploadsDir)) {
      const uploaded = await loadManifestDir(this.opts.uploadsDir);
      for (const e of uploaded.errors) this.log.error({ err: e.message }, 'invalid uploaded model manifest ignored');
      for (const m of uploaded.manifests.values()) {
        // a shipped model's id stays the shipped model (the upload routes refuse those ids anyway)
        if (this.manifests.has(m.id)) continue;
        this.manifests.set(m.id, m);
        this.uploaded.add(m.id);
        this.states.set(m.id, await this.locateAt(m, join(this.opts.uploadsDir, m.file)));
      }
    }
    return this.list();
  }

  manifest(id: string): ModelManifest | undefined {
    return this.manifests.get(id);
  }

  /** True for a city's model (uploaded), false for a shipped one. */
  isUploaded(id: string): boolean {
    return this.uploaded.has(id);
  }

  list(): ModelState[] {
    return [...this.states.values()].map((s) => ({ ...s }));
  }

  state(id: string): ModelState | undefined {
    const s = this.states.get(id);
    return s ? { ...s } : undefined;
  }

  /**
   * Adds a model at run time (a city's upload, checked with checkModel), or replaces one with the same id: the next
   * load creates a new session from `weightsPath`; the old session is released once the new one is ready.
   */
  async register(manifest: ModelManifest, weightsPath: string): Promise<ModelState> {
    this.uploaded.add(manifest.id);
    const old = this.detectors.get(manifest.id);
    this.detectors.delete(manifest.id);
    this.manifests.set(manifest.id, manifest);
    const state = await this.locateAt(manifest, weightsPath);
    this.states.set(manifest.id, state);
    if (old) {
      void this.load(manifest.id)
        .then(() => old)
        .then((d) => d?.release())
        .catch((err) => this.log.warn({ model: manifest.id, err }, 'old session release failed'));
    }
    return { ...state };
  }

  /** Creates and warms the session once; null (with the state saying why) when it cannot be used. */
  load(id: string, onProgress?: (p: WarmupProgress) => void): Promise<Detector | null> {
    let pending = this.detectors.get(id);
    if (!pending) {
      pending = this.create(id, onProgress);
      this.detectors.set(id, pending);
    }
    return pending;
  }

  private async create(id: string, onProgress?: (p: WarmupProgress) => void): Promise<Detector | null> {
    const manifest = this.manifests.get(id);
    const state = this.states.get(id);
    if (!manifest || !state) throw new Error(`unknown model ${id}`);
    if (state.status !== 'missing' && state.status !== 'bad-checksum' && state.path) {
      const total = this.opts.warmupRuns ?? 3;
      this.setState(id, { status: 'loading', warmup: { done: 0, total } });
      try {
        const detector = await Detector.create(manifest, state.path, {
          providers: this.providers.providers,
          intraOpThreads: this.opts.intraOpThreads,
          allowSpinning: this.opts.allowSpinning,
          logger: this.log,
        });
        // The first runs allocate arenas and pick kernels; doing them here keeps the first real frame fast.
        const blank = new Float32Array(3 * detector.inputWidth * detector.inputHeight);
        for (let done = 1; done <= total; done++) {
          await detector.detect([blank]);
          this.setState(id, { warmup: { done, total } });
          onProgress?.({ model: id, done, total });
        }
        this.setState(id, { status: 'ready', device: this.providers.device, message: `${detector.inputWidth}x${detector.inputHeight}` });
        this.log.info({ model: id, path: state.path }, 'model ready');
        return detector;
      } catch (err) {
        this.setState(id, { status: 'error', message: (err as Error).message.split(state.path).join(manifest.file) });
        this.log.error({ model: id, err }, 'model failed to load');
        return null;
      }
    }
    this.log.warn({ model: id, status: state.status, message: state.message, path: state.path, weightDirs: this.opts.weightDirs }, 'model unavailable');
    return null;
  }

  private setState(id: string, patch: Partial<ModelState>): void {
    const s = this.states.get(id);
    if (s) this.states.set(id, { ...s, ...patch });
  }

  private async locate(m: ModelManifest): Promise<ModelState> {
    const candidates = this.opts.weightDirs.map((d) => join(d, m.file));
    const path = candidates.find((p) => existsSync(p));
    // messages reach the console: the weights' file name, never the server's folders (the log has those)
    if (!path) return { id: m.id, status: 'missing', message: `weights ${m.file} not found in the model folders (models/, MODELS_DIR)` };
    return this.locateAt(m, path);
  }

  private async locateAt(m: ModelManifest, path: string): Promise<ModelState> {
    if (!existsSync(path)) return { id: m.id, status: 'missing', message: `weights ${m.file} not found` };
    if (m.sha256 === null) return { id: m.id, status: 'available', path, message: 'no sha256 in manifest: weights not verified' };
    const actual = await sha256File(path);
    if (actual !== m.sha256) {
      return { id: m.id, status: 'bad-checksum', path, message: `weights ${m.file} are corrupt or truncated: sha256 ${actual}, manifest says ${m.sha256}` };
    }
    return { id: m.id, status: 'available', path, message: 'verified' };
  }
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** MODELS_DIR (if set) first, then the project's models/ directory. */
export function defaultWeightDirs(projectRoot: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env.MODELS_DIR) dirs.push(env.MODELS_DIR);
  dirs.push(join(projectRoot, 'models'));
  return dirs;
}
