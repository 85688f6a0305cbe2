import { spawn } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { Logger } from 'pino';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import type { RawImage } from './preprocess.js';
import type { Box, Polygon } from './types.js';

export interface LabelledBox {
  box: Box;
  label: string;
  score?: number;
}

/** Buffered fragmented MP4 around a moment: the init segment (ftyp+moov) and whole fragments (moof+mdat). */
export interface ClipSegments {
  init: Buffer;
  segments: Buffer[];
}

/** Supplied by ingest: the buffered fMP4 of a camera around `ts` (ms), or null when none is buffered. */
export type ClipSource = (cameraId: string, ts: number) => Promise<ClipSegments | null>;

export interface EvidencePaths {
  /** Paths relative to the evidence directory (portable between nodes sharing it). */
  annotatedJpeg?: string;
  cleanJpeg?: string;
  clip?: string;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch]!);
}

/** SVG overlay in frame pixels: the zone outline and each box with its label. */
export function overlaySvg(width: number, height: number, zone: Polygon, boxes: LabelledBox[], caption?: string): string {
  const stroke = Math.max(3, Math.round(Math.min(width, height) / 200));
  const font = Math.max(12, Math.round(height / 36));
  const pts = zone.map(([x, y]) => `${(x * width).toFixed(1)},${(y * height).toFixed(1)}`).join(' ');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<polygon points="${pts}" fill="rgb(255,200,0)" fill-opacity="0.12" stroke="rgb(255,200,0)" stroke-width="${stroke}"/>`,
  ];
  for (const b of boxes) {
    const x = Math.round(b.box.x1);
    const y = Math.round(b.box.y1);
    const w = Math.max(1, Math.round(b.box.x2 - b.box.x1));
    const h = Math.max(1, Math.round(b.box.y2 - b.box.y1));
    const text = escapeXml(b.score === undefined ? b.label : `${b.label} ${b.score.toFixed(2)}`);
    const ty = y - font * 1.3 >= 0 ? y - font * 1.3 : y + h;
    parts.push(
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="rgb(255,0,0)" stroke-width="${stroke}"/>`,
      `<rect x="${x}" y="${ty}" width="${Math.round(text.length * font * 0.62) + 8}" height="${Math.round(font * 1.3)}" fill="rgb(255,0,0)"/>`,
      `<text x="${x + 4}" y="${ty + font}" font-family="sans-serif" font-size="${font}" fill="white">${text}</text>`,
    );
  }
  if (caption) {
    parts.push(
      `<rect x="0" y="${height - font * 1.6}" width="${width}" height="${font * 1.6}" fill="black" fill-opacity="0.55"/>`,
      `<text x="6" y="${height - font * 0.45}" font-family="sans-serif" font-size="${font}" fill="white">${escapeXml(caption)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

export async function renderAnnotatedJpeg(frame: RawImage, zone: Polygon, boxes: LabelledBox[], caption?: string, quality = 85): Promise<Buffer> {
  const svg = Buffer.from(overlaySvg(frame.width, frame.height, zone, boxes, caption));
  return sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .composite([{ input: svg, top: 0, left: 0 }])
    .jpeg({ quality })
    .toBuffer();
}

export async function renderCleanJpeg(frame: RawImage, quality = 90): Promise<Buffer> {
  return sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

/**
 * Writes a clip. init + fragments concatenated is itself a playable (fragmented) MP4; with remux it is
 * rewritten by ffmpeg -c copy into a plain MP4 with the index up front, which more players seek in.
 */
export async function writeClip(clip: ClipSegments, outPath: string, opts: { remux?: boolean; ffmpegPath?: string } = {}): Promise<void> {
  await mkdir(dirname(outPath), { recursive: true });
  const fragmented = Buffer.concat([clip.init, ...clip.segments]);
  if (!opts.remux) {
    await writeFile(outPath, fragmented);
    return;
  }
  const tmp = `${outPath}.frag.mp4`;
  const tmpOut = `${outPath}.tmp.mp4`;
  await writeFile(tmp, fragmented);
  try {
    await runFfmpeg(opts.ffmpegPath ?? resolveFfmpeg(), [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-protocol_whitelist', 'file', '-i', tmp,
      '-map', '0', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', tmpOut,
    ]);
    await rename(tmpOut, outPath);
  } finally {
    await rm(tmp, { force: true });
    await rm(tmpOut, { force: true });
  }
}

function runFfmpeg(ffmpeg: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr.trim()}`))));
  });
}

export interface EvidenceWriterOptions {
  /** Root directory of evidence files; the paths handed out are relative to it. */
  dir: string;
  logger: Logger;
  clipSource?: ClipSource;
  /** Rewrite clips as plain MP4 with ffmpeg -c copy (default true). */
  remuxClips?: boolean;
}

/** Writes the evidence of candidate events under <dir>/<yyyy-mm-dd>/<event id>/. */
export class EvidenceWriter {
  private readonly log: Logger;

  constructor(private readonly opts: EvidenceWriterOptions) {
    this.log = opts.logger.child({ module: 'analytics.evidence' });
  }

  get hasClipSource(): boolean {
    return this.opts.clipSource !== undefined;
  }

  private folder(eventId: string, ts: number): string {
    return join(new Date(ts).toISOString().slice(0, 10), eventId);
  }

  async writeStills(eventId: string, ts: number, frame: RawImage, zone: Polygon, boxes: LabelledBox[], caption?: string): Promise<EvidencePaths> {
    const rel = this.folder(eventId, ts);
    await mkdir(join(this.opts.dir, rel), { recursive: true });
    const [annotated, clean] = await Promise.all([renderAnnotatedJpeg(frame, zone, boxes, caption), renderCleanJpeg(frame)]);
    const annotatedJpeg = join(rel, 'annotated.jpg');
    const cleanJpeg = join(rel, 'frame.jpg');
    await Promise.all([writeFile(join(this.opts.dir, annotatedJpeg), annotated), writeFile(join(this.opts.dir, cleanJpeg), clean)]);
    return { annotatedJpeg, cleanJpeg };
  }

  /** The clip around ts from the configured source; undefined when there is no source or nothing buffered. */
  async writeClipFor(eventId: string, cameraId: string, ts: number): Promise<string | undefined> {
    if (!this.opts.clipSource) return undefined;
    const segments = await this.opts.clipSource(cameraId, ts);
    if (!segments || segments.segments.length === 0) return undefined;
    const rel = join(this.folder(eventId, ts), 'clip.mp4');
    try {
      await writeClip(segments, join(this.opts.dir, rel), { remux: this.opts.remuxClips ?? true });
    } catch (err) {
      // The fragments on their own still play; keep them rather than lose the clip.
      this.log.warn({ err, eventId }, 'remux failed; writing the fragmented MP4 as is');
      await writeClip(segments, join(this.opts.dir, rel), { remux: false });
    }
    return rel;
  }
}
