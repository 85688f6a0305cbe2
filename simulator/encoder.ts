/**
 * Encode-once for the simulator: a 60 s loop per (source, label, sizes, fps, GOP) with the camera name,
 * a burnt-in "SS.mmm" clock and the machine-readable clock strip, cached on disk as Annex-B H.264 plus
 * one JPEG per second for snapshots. Frame n of the loop shows second-of-minute n/fps, and the scheduler
 * sends frame n at exactly that wall time, so the picture's clock equals the wall clock at send time.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { stripFilter } from './clock-strip.js';

export const LOOP_SECONDS = 60;
/** Bump when the picture or the encoder settings change so stale caches are not reused. */
const ENCODER_VERSION = 4;

export interface Size {
  width: number;
  height: number;
}

export interface EncodeSpec {
  /** Video file to loop; undefined = synthetic test pattern. */
  source?: string;
  label: string;
  fps: number;
  gopFrames: number;
  main?: Size;
  sub?: Size;
  /** Render one JPEG per second of the loop (at the sub size, else the main size). */
  snapshots: boolean;
  /** Synthetic picture: `testsrc2` (default, moving) or `bars` (still SMPTE bars: tiny files, see demo-loop/). */
  pattern?: 'testsrc2' | 'bars';
  /** Constant quality (x264 CRF, capped at the usual bitrate) instead of the usual average bitrate. */
  crf?: number;
  /** H.265 (libx265) instead of H.264 for the main / sub stream: police cameras send H.265 on the main stream. */
  mainCodec?: 'h265';
  subCodec?: 'h265';
}

export interface EncodedAssets {
  dir: string;
  main?: string;
  sub?: string;
  /** snapshots[s] = JPEG path of second s of the loop. */
  snapshots: string[];
}

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/dejavu/DejaVuSansMono-Bold.ttf',
  '/System/Library/Fonts/Menlo.ttc',
];

export function findFont(): string | undefined {
  return FONT_CANDIDATES.find((f) => existsSync(f));
}

/** The label reaches an ffmpeg filter graph: keep it to characters that need no escaping. */
export function safeLabel(label: string): string {
  return label.replace(/[^A-Za-z0-9 _.#-]/g, '_').slice(0, 40);
}

function bitrateKbps(s: Size, fps: number): number {
  return Math.max(150, Math.round((s.width * s.height * fps * 0.06) / 1000));
}

export function cacheKey(spec: EncodeSpec): string {
  let src = 'synthetic';
  if (spec.source) {
    const st = statSync(spec.source);
    src = `${resolve(spec.source)}|${st.size}|${st.mtimeMs}`;
  }
  // pattern, crf and the codecs join the key only when set, so existing caches stay valid
  const payload = JSON.stringify({ v: ENCODER_VERSION, src, label: safeLabel(spec.label), fps: spec.fps, gop: spec.gopFrames, main: spec.main, sub: spec.sub, snap: spec.snapshots, font: findFont() ?? null, pattern: spec.pattern, crf: spec.crf, mc: spec.mainCodec, sc: spec.subCodec });
  return createHash('sha256').update(payload).digest('hex').slice(0, 24);
}

function ffmpegArgs(spec: EncodeSpec, outDir: string, withText: boolean): string[] {
  const draw = spec.main ?? spec.sub;
  if (!draw) throw new Error('encode needs a main or a sub size');
  const { width: W, height: H } = draw;
  const fps = spec.fps;
  const frames = fps * LOOP_SECONDS;
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  if (spec.source) {
    args.push('-stream_loop', '-1', '-t', String(LOOP_SECONDS + 1), '-i', spec.source);
  } else {
    const pattern = spec.pattern === 'bars' ? 'smptehdbars' : 'testsrc2';
    args.push('-f', 'lavfi', '-i', `${pattern}=size=${W}x${H}:rate=${fps}:d=${LOOP_SECONDS + 1}`);
  }
  const msExpr = `floor(n*1000/${fps})`;
  const chain: string[] = [
    `fps=${fps}`,
    `scale=${W}:${H}:force_original_aspect_ratio=increase`,
    `crop=${W}:${H}`,
    'setsar=1',
    `trim=end_frame=${frames}`,
  ];
  if (withText) {
    const font = findFont();
    const fontOpt = font ? `fontfile=${font}:` : '';
    const size = Math.max(10, Math.round(H / 14));
    const text = `${safeLabel(spec.label)}  %{eif\\:mod(floor(n/${fps})\\,60)\\:d\\:2}.%{eif\\:mod(${msExpr}\\,1000)\\:d\\:3}`;
    chain.push(`drawtext=${fontOpt}text='${text}':fontsize=${size}:fontcolor=white:box=1:boxcolor=black@0.7:boxborderw=${Math.round(size / 5)}:x=${Math.round(W / 40)}:y=${Math.round(H / 30)}`);
  }
  chain.push(stripFilter(W, H, msExpr));
  const outs: string[] = [];
  if (spec.main) outs.push('main');
  if (spec.sub) outs.push('sub');
  if (spec.snapshots) outs.push('snap');
  let graph = `[0:v]${chain.join(',')},split=${outs.length}${outs.map((o) => `[${o}0]`).join('')}`;
  const snapSize = spec.sub ?? draw;
  const scaled = (o: string, s: Size) => (s.width === W && s.height === H ? `[${o}0]null[${o}]` : `[${o}0]scale=${s.width}:${s.height}[${o}]`);
  if (spec.main) graph += `;${scaled('main', spec.main)}`;
  if (spec.sub) graph += `;${scaled('sub', spec.sub)}`;
  if (spec.snapshots) graph += `;[snap0]select='not(mod(n\\,${fps}))',scale=${snapSize.width}:${snapSize.height}[snap]`;
  args.push('-filter_complex', graph);
  const x264 = (s: Size) => {
    const kbps = bitrateKbps(s, fps);
    return ['-an', '-c:v', 'libx264', '-preset', 'superfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p', '-threads', '1',
      '-bf', '0', '-g', String(spec.gopFrames), '-keyint_min', String(spec.gopFrames), '-sc_threshold', '0',
      ...(spec.crf !== undefined ? ['-crf', String(spec.crf)] : ['-b:v', `${kbps}k`]), '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`, '-f', 'h264'];
  };
  // x265 like x264 above: closed 1 s GOPs without B-frames, parameter sets before every keyframe, one thread
  const x265 = (s: Size) => {
    const kbps = Math.round(bitrateKbps(s, fps) * 0.6); // about what H.265 needs for the same picture
    const params = [`keyint=${spec.gopFrames}`, `min-keyint=${spec.gopFrames}`, 'scenecut=0', 'bframes=0', 'repeat-headers=1', 'log-level=error',
      'pools=1', 'frame-threads=1', 'no-open-gop=1', `vbv-maxrate=${kbps}`, `vbv-bufsize=${kbps}`, ...(spec.crf !== undefined ? [`crf=${spec.crf}`] : [`bitrate=${kbps}`])];
    return ['-an', '-c:v', 'libx265', '-preset', 'superfast', '-pix_fmt', 'yuv420p', '-x265-params', params.join(':'), '-f', 'hevc'];
  };
  if (spec.main) args.push('-map', '[main]', ...(spec.mainCodec === 'h265' ? x265(spec.main) : x264(spec.main)), join(outDir, streamFile('main', spec)));
  if (spec.sub) args.push('-map', '[sub]', ...(spec.subCodec === 'h265' ? x265(spec.sub) : x264(spec.sub)), join(outDir, streamFile('sub', spec)));
  if (spec.snapshots) args.push('-map', '[snap]', '-vsync', '0', '-q:v', '5', '-start_number', '0', '-f', 'image2', join(outDir, 'snap-%02d.jpg'));
  return args;
}

/** main.h264 / main.h265 ...: the extension says the codec (media.ts loadStream reads it). */
function streamFile(kind: 'main' | 'sub', spec: EncodeSpec): string {
  return `${kind}.${(kind === 'main' ? spec.mainCodec : spec.subCodec) === 'h265' ? 'h265' : 'h264'}`;
}

function run(ffmpeg: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 8000) err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise() : reject(new Error(`ffmpeg exited ${code}: ${err.trim().slice(0, 2000)}`))));
  });
}

async function assetsIn(dir: string, spec: EncodeSpec): Promise<EncodedAssets> {
  const snapshots = spec.snapshots
    ? (await readdir(dir)).filter((f) => f.startsWith('snap-')).sort().map((f) => join(dir, f))
    : [];
  return { dir, main: spec.main ? join(dir, streamFile('main', spec)) : undefined, sub: spec.sub ? join(dir, streamFile('sub', spec)) : undefined, snapshots };
}

/**
 * The demo loop shipped in the repository (simulator/demo-loop/, ~2 MB, made by `npx tsx simulator/build-demo-loop.ts`):
 * the synthetic bars pattern labelled "SIM fleet" at the default sizes, so `npm start`'s demo cameras are on at once
 * on a fresh machine instead of after a minute of libx264. Its spec.json is the EncodeSpec it was made from.
 */
export const DEMO_LOOP_DIR = join(import.meta.dirname, 'demo-loop');

/** What the demo fleet asks for (server/demo-fleet.ts: one picture for all its cameras) and demo-loop/ holds. */
export const DEMO_LOOP_SPEC: EncodeSpec = {
  label: 'SIM fleet', fps: 25, gopFrames: 25, main: { width: 1280, height: 720 }, sub: { width: 640, height: 360 }, snapshots: true, pattern: 'bars', crf: 32,
};

function sameSpec(a: EncodeSpec, b: EncodeSpec): boolean {
  const canon = (s: EncodeSpec) => JSON.stringify([s.source ?? null, safeLabel(s.label), s.fps, s.gopFrames, s.main ?? null, s.sub ?? null, s.snapshots, s.pattern ?? 'testsrc2', s.crf ?? null, s.mainCodec ?? 'h264', s.subCodec ?? 'h264']);
  return canon(a) === canon(b);
}

export function demoLoopSpec(): EncodeSpec | undefined {
  try {
    return JSON.parse(readFileSync(join(DEMO_LOOP_DIR, 'spec.json'), 'utf8')) as EncodeSpec;
  } catch {
    return undefined;
  }
}

/** The shipped assets when the spec is the one they were made from, else undefined. */
export async function shippedLoop(spec: EncodeSpec): Promise<EncodedAssets | undefined> {
  const shipped = demoLoopSpec();
  if (!shipped || spec.source || !sameSpec(spec, shipped) || !existsSync(join(DEMO_LOOP_DIR, 'main.h264'))) return undefined;
  return assetsIn(DEMO_LOOP_DIR, spec);
}

/** Encode (or reuse from cache) one spec. Safe against concurrent processes: write to a temp dir, then rename. */
export async function encodeLoop(ffmpeg: string, dataDir: string, spec: EncodeSpec, log?: Logger): Promise<EncodedAssets> {
  const shipped = await shippedLoop(spec);
  if (shipped) return shipped;
  const root = join(dataDir, 'sim-cache');
  const key = cacheKey(spec);
  const dir = join(root, key);
  if (existsSync(join(dir, 'done'))) return assetsIn(dir, spec);
  await mkdir(root, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await mkdir(tmp, { recursive: true });
  const t0 = Date.now();
  try {
    try {
      await run(ffmpeg, ffmpegArgs(spec, tmp, true));
    } catch (e) {
      // A build without drawtext or without any usable font still gets the clock strip.
      log?.warn({ err: (e as Error).message.slice(0, 300) }, 'encode with burnt-in text failed; retrying with the clock strip only');
      await run(ffmpeg, ffmpegArgs(spec, tmp, false));
    }
    await writeFile(join(tmp, 'done'), new Date().toISOString());
    try {
      await rename(tmp, dir);
    } catch {
      // Another process finished the same encode first: use theirs.
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  log?.debug({ key, label: safeLabel(spec.label), ms: Date.now() - t0 }, 'encoded loop');
  return assetsIn(dir, spec);
}

/** Bounded concurrency for encodes: each ffmpeg runs single-threaded, one per core. */
export class EncodeQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly inflight = new Map<string, Promise<EncodedAssets>>();
  constructor(
    private readonly ffmpeg: string,
    private readonly dataDir: string,
    private readonly log?: Logger,
    readonly concurrency = Math.max(1, cpus().length),
  ) {}

  encode(spec: EncodeSpec): Promise<EncodedAssets> {
    const key = cacheKey(spec);
    const existing = this.inflight.get(key);
    if (existing) return existing;
    const p = this.slot(() => encodeLoop(this.ffmpeg, this.dataDir, spec, this.log)).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
