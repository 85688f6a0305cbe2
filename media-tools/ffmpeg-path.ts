import { accessSync, constants, chmodSync, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** npm 11 skips dependencies' install scripts, so the shipped binary may lack its execute bit. */
function ensureExecutable(path: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    chmodSync(path, 0o755);
  }
  return path;
}

function fromPackage(pkg: string): string | undefined {
  try {
    const mod = require(pkg) as { path?: string };
    if (mod.path && existsSync(mod.path)) return ensureExecutable(mod.path);
  } catch {
    /* package not installed for this platform */
  }
  return undefined;
}

/** FFMPEG_PATH, else `ffmpeg` on PATH, else the static build shipped by @ffmpeg-installer/ffmpeg. */
export function resolveFfmpeg(env: NodeJS.ProcessEnv = process.env): string {
  const found = env.FFMPEG_PATH || onPath('ffmpeg') || fromPackage('@ffmpeg-installer/ffmpeg');
  if (!found) throw new Error('ffmpeg not found: set FFMPEG_PATH, put ffmpeg on PATH, or install @ffmpeg-installer/ffmpeg');
  return found;
}

/** FFPROBE_PATH, else `ffprobe` on PATH, else the static build shipped by @ffprobe-installer/ffprobe. */
export function resolveFfprobe(env: NodeJS.ProcessEnv = process.env): string {
  const found = env.FFPROBE_PATH || onPath('ffprobe') || fromPackage('@ffprobe-installer/ffprobe');
  if (!found) throw new Error('ffprobe not found: set FFPROBE_PATH, put ffprobe on PATH, or install @ffprobe-installer/ffprobe');
  return found;
}
