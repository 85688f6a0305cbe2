import { spawn } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { Logger } from 'pino';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import type { RawImage } from './preprocess.js';
import type { Box, Polygon } from './types.js';
import { boxLabel, renderText } from './caption.js';

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

/** Where the text goes: each box label's background (its text is composited on it) and the caption band. */
interface TextLayout {
  labels: Array<{ x: number; y: number; width: number; height: number }>;
  caption: { x: number; y: number; band: number } | null;
}

/** Frame-pixel layout of the labels (above each box, or inside it at the top edge) and the caption band at the bottom. */
function layoutText(width: number, height: number, boxes: LabelledBox[], labelSizes: Array<{ width: number; height: number }>, captionHeight: number | null): TextLayout {
  const labels = boxes.map((b, i) => {
    const w = labelSizes[i].width + 8;
    const h = labelSizes[i].height + 2;
    const x = Math.max(0, Math.min(width - w, Math.round(b.box.x1)));
    const top = Math.round(b.box.y1) - h;
    return { x, y: top >= 0 ? top : Math.min(height - h, Math.round(b.box.y1)), width: w, height: h };
  });
  const caption = captionHeight === null ? null : { x: 6, band: captionHeight + 8, y: height - captionHeight - 4 };
  return { labels, caption };
}

/** SVG overlay in frame pixels: the zone outline, each box with its label's background, the caption band (text comes from renderText). */
export function overlaySvg(width: number, height: number, zone: Polygon, boxes: LabelledBox[], layout: TextLayout): string {
  const stroke = Math.max(3, Math.round(Math.min(width, height) / 200));
  const pts = zone.map(([x, y]) => `${(x * width).toFixed(1)},${(y * height).toFixed(1)}`).join(' ');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<polygon points="${pts}" fill="rgb(255,200,0)" fill-opacity="0.12" stroke="rgb(255,200,0)" stroke-width="${stroke}"/>`,
  ];
  boxes.forEach((b, i) => {
    const x = Math.round(b.box.x1);
    const y = Math.round(b.box.y1);
    const w = Math.max(1, Math.round(b.box.x2 - b.box.x1));
    const h = Math.max(1, Math.round(b.box.y2 - b.box.y1));
    const l = layout.labels[i];
    parts.push(
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="rgb(255,0,0)" stroke-width="${stroke}"/>`,
      `<rect x="${l.x}" y="${l.y}" width="${l.width}" height="${l.height}" fill="rgb(255,0,0)"/>`,
    );
  });
  if (layout.caption) parts.push(`<rect x="0" y="${height - layout.caption.band}" width="${width}" height="${layout.caption.band}" fill="black" fill-opacity="0.6"/>`);
  parts.push('</svg>');
  return parts.join('');
}

/** The annotated still: zone, boxes with "label score", and the caption (Chinese; see caption.ts) burnt in. */
export async function renderAnnotatedJpeg(frame: RawImage, zone: Polygon, boxes: LabelledBox[], caption?: string, quality = 85): Promise<Buffer> {
  const px = Math.max(12, Math.round(frame.height / 36));
  const labelTexts = await Promise.all(boxes.map((b) => renderText(boxLabel(b.label, b.score), px)));
  const captionText = caption ? await renderText(caption, px, { maxWidth: frame.width - 12 }) : null;
  const layout = layoutText(frame.width, frame.height, boxes, labelTexts, captionText?.height ?? null);
  const svg = Buffer.from(overlaySvg(frame.width, frame.height, zone, boxes, layout));
  return sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .composite([
      { input: svg, top: 0, left: 0 },
      ...labelTexts.map((t, i) => ({ input: t.png, left: layout.labels[i].x + 4, top: layout.labels[i].y + 1 })),
      ...(captionText && layout.caption ? [{ input: captionText.png, left: layout.caption.x, top: layout.caption.y }] : []),
    ])
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
