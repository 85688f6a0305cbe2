/** Start-up self-check of the resolved ffmpeg: the demuxers, muxers, codecs and protocols ingest relies on. */
import { execFile } from 'node:child_process';
import { resolveFfmpeg } from './ffmpeg-path.js';

export interface FfmpegCheck {
  path: string;
  version: string;
  ok: boolean;
  missing: string[];
  /** optional features that are absent (e.g. tls → no rtsps) */
  warnings: string[];
}

function list(path: string, flag: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(path, ['-hide_banner', flag], { timeout: 15_000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}

/** Names listed by `ffmpeg -muxers` etc.: the word after the flags column (comma-separated aliases split). */
function names(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*[A-Z.]{1,6}\s+([\w,]+)\s/.exec(line);
    if (m) for (const n of m[1].split(',')) out.add(n);
  }
  return out;
}

function protocols(text: string): { input: Set<string>; output: Set<string> } {
  const input = new Set<string>();
  const output = new Set<string>();
  let cur: Set<string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^Input:/.test(line)) cur = input;
    else if (/^Output:/.test(line)) cur = output;
    else if (cur && /^[\w-]+$/.test(line)) cur.add(line);
  }
  return { input, output };
}

const cache = new Map<string, Promise<FfmpegCheck>>();

export function checkFfmpeg(path: string = resolveFfmpeg()): Promise<FfmpegCheck> {
  let p = cache.get(path);
  if (!p) {
    p = runCheck(path);
    cache.set(path, p);
    p.catch(() => cache.delete(path));
  }
  return p;
}

async function runCheck(path: string): Promise<FfmpegCheck> {
  const [version, muxers, demuxers, encoders, decoders, protos] = await Promise.all([
    list(path, '-version'),
    list(path, '-muxers'),
    list(path, '-demuxers'),
    list(path, '-encoders'),
    list(path, '-decoders'),
    list(path, '-protocols'),
  ]);
  const mux = names(muxers);
  const demux = names(demuxers);
  const enc = names(encoders);
  const dec = names(decoders);
  const pr = protocols(protos);
  const missing: string[] = [];
  const warnings: string[] = [];
  const need = (ok: boolean, what: string) => ok || missing.push(what);
  need(demux.has('rtsp'), 'demuxer rtsp');
  need(demux.has('mov') || demux.has('mp4'), 'demuxer mov/mp4');
  need(mux.has('mp4'), 'muxer mp4');
  need(mux.has('image2pipe'), 'muxer image2pipe');
  need(enc.has('mjpeg'), 'encoder mjpeg');
  need(dec.has('h264'), 'decoder h264');
  need(pr.input.has('tcp'), 'protocol tcp');
  need(pr.input.has('pipe') && pr.output.has('pipe'), 'protocol pipe');
  if (!pr.input.has('tls')) warnings.push('protocol tls missing: rtsps:// cameras will fail');
  if (!dec.has('hevc')) warnings.push('decoder hevc missing: no snapshots from H.265 cameras');
  return { path, version: version.split('\n')[0] ?? '', ok: missing.length === 0, missing, warnings };
}

/** Throw when a required feature is missing (call once at ingest start). */
export async function assertFfmpegUsable(path?: string): Promise<FfmpegCheck> {
  const r = await checkFfmpeg(path);
  if (!r.ok) throw new Error(`ffmpeg at ${r.path} lacks: ${r.missing.join(', ')}`);
  return r;
}
