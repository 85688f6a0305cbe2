/** Helpers for the media tests: decode checks with the resolved ffmpeg/ffprobe (argument arrays, never a shell). */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpeg, resolveFfprobe } from '../media-tools/ffmpeg-path.js';
import type { Fragment, InitSegment } from '../ingest/fmp4.js';
import { NativePull, type NativePullOptions } from './native-pull.js';

export function run(bin: string, args: string[], stdin?: Buffer, timeoutMs = 60_000): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    if (stdin) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(stdin);
    }
  });
}

/** Write an fMP4 (init + fragments) to a temp file and return its path. */
export function writeTemp(name: string, data: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'streeteye-media-'));
  const file = join(dir, name);
  writeFileSync(file, data);
  return file;
}

/** Decode every frame with ffmpeg; returns the errors ffmpeg printed (empty = clean) and the frames decoded. */
export async function decodeCheck(file: string): Promise<{ errors: string; frames: number; codec: string; width: number; height: number }> {
  const dec = await run(resolveFfmpeg(), ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-']);
  const probe = await run(resolveFfprobe(), ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file]);
  const s = (JSON.parse(probe.stdout.toString() || '{}').streams ?? [])[0] ?? {};
  return { errors: (dec.code === 0 ? '' : `exit ${dec.code} `) + dec.stderr.trim(), frames: Number(s.nb_read_frames ?? 0), codec: s.codec_name ?? '', width: s.width ?? 0, height: s.height ?? 0 };
}

/**
 * Pull a camera with the native engine until `count` fragments arrived (or the pull ended by itself); stops it.
 * `ended` is the error the pull ended with, if it did; `transport` what it settled on.
 */
export async function pullFragments(o: Pick<NativePullOptions, 'source' | 'transport'>, count: number): Promise<{ inits: InitSegment[]; frags: Fragment[]; ended?: Error; transport: NativePull["transport"] }> {
  const inits: InitSegment[] = [];
  const frags: Fragment[] = [];
  let ended: Error | undefined;
  let enough!: () => void;
  const got = new Promise<void>((r) => (enough = r));
  const pull = new NativePull({
    ...o,
    onInit: (i) => inits.push(i),
    onFragment: (f) => { frags.push(f); if (frags.length === count) enough(); },
    onEnd: (e) => { ended = e; enough(); },
  });
  try {
    await pull.start();
    await got;
  } finally {
    await pull.stop();
  }
  return { inits, frags, ended, transport: pull.transport };
}
