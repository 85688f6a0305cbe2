import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxLabel, CAPTION_FONT_FAMILY, CAPTION_FONT_FILE, evidenceCaption, renderText } from './caption.js';
import { renderAnnotatedJpeg } from './evidence.js';
import type { RawImage } from './preprocess.js';
import { repoRoot } from './test-helpers.js';

/**
 * The Chinese evidence caption is checked by its pixels: the caption band of a real annotated JPEG is compared
 * with a reference drawn from the font's own glyph outlines (test/fixtures/caption/reference-16px.svg, made by
 * analytics/fonts/build-reference.py with fontTools: plain SVG paths, no font involved). Missing glyphs (tofu
 * boxes, or nothing at all) do not match it; another text of the same length does not either.
 */
const SAMPLE = '延安路街景东门机动车乱停放';
const OTHER = '北山街保俶社区垃圾满溢暴露';
const PX = 16; // the caption size on a 576-line frame (height / 36)

interface Mask { w: number; h: number; on: Uint8Array }

async function maskOf(input: Buffer, threshold = 140): Promise<Mask> {
  const { data, info } = await sharp(input).flatten({ background: '#000' }).greyscale().raw().toBuffer({ resolveWithObject: true });
  const on = new Uint8Array(info.width * info.height);
  for (let i = 0; i < on.length; i++) on[i] = data[i * info.channels] > threshold ? 1 : 0;
  return { w: info.width, h: info.height, on };
}

/** The mask cropped to its ink. */
function cropToInk(m: Mask): Mask {
  let x0 = m.w, y0 = m.h, x1 = -1, y1 = -1;
  for (let y = 0; y < m.h; y++) for (let x = 0; x < m.w; x++) if (m.on[y * m.w + x]) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  if (x1 < 0) return { w: 0, h: 0, on: new Uint8Array() };
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const on = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) on[y * w + x] = m.on[(y + y0) * m.w + x + x0];
  return { w, h, on };
}

/** Best intersection-over-union of two ink masks, shifted against each other by up to 2 px (hinting, rounding). */
function iou(a: Mask, b: Mask): number {
  let best = 0;
  for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
    let inter = 0, union = 0;
    const w = Math.max(a.w, b.w + dx), h = Math.max(a.h, b.h + dy);
    for (let y = Math.min(0, dy); y < h; y++) for (let x = Math.min(0, dx); x < w; x++) {
      const p = x >= 0 && y >= 0 && x < a.w && y < a.h ? a.on[y * a.w + x] : 0;
      const bx = x - dx, by = y - dy;
      const q = bx >= 0 && by >= 0 && bx < b.w && by < b.h ? b.on[by * b.w + bx] : 0;
      if (p && q) inter++;
      if (p || q) union++;
    }
    if (union) best = Math.max(best, inter / union);
  }
  return best;
}

/** The caption band of an annotated JPEG of a flat grey frame, as an ink mask. */
async function captionBand(caption: string): Promise<Mask> {
  const frame: RawImage = { width: 768, height: 576, rgb: Buffer.alloc(768 * 576 * 3, 90) };
  const jpeg = await renderAnnotatedJpeg(frame, [[0, 0], [0.01, 0], [0.01, 0.01]], [], caption);
  const band = await sharp(jpeg).extract({ left: 0, top: 576 - 40, width: 768, height: 40 }).png().toBuffer();
  return maskOf(band);
}

describe('evidence caption in Chinese, rendered with the shipped font', () => {
  let reference: Mask;
  let dir: string;
  beforeAll(async () => {
    reference = cropToInk(await maskOf(await sharp(await readFile(join(repoRoot, 'test', 'fixtures', 'caption', 'reference-16px.svg'))).png().toBuffer()));
    dir = await mkdtemp(join(tmpdir(), 'streeteye-caption-'));
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('burns glyphs that match the font\'s own outlines into the evidence JPEG, and tells another text apart', async () => {
    expect(reference.w).toBeGreaterThan(SAMPLE.length * PX * 0.8);
    const burnt = cropToInk(await captionBand(SAMPLE));
    // the same extent as the reference (13 glyphs of 16 px), not a row of boxes or nothing
    expect(Math.abs(burnt.w - reference.w)).toBeLessThanOrEqual(3);
    expect(Math.abs(burnt.h - reference.h)).toBeLessThanOrEqual(3);
    const same = iou(burnt, reference);
    const other = iou(cropToInk(await captionBand(OTHER)), reference);
    console.log(`[caption] IoU with the reference: same text ${same.toFixed(3)}, other text ${other.toFixed(3)}`);
    // measured: same text about 0.58, another text about 0.23 (thin antialiased strokes at 16 px, JPEG)
    expect(same).toBeGreaterThan(0.5);
    expect(other).toBeLessThan(0.35);
    expect(same - other).toBeGreaterThan(0.25);
    // every glyph cell has ink of its own (a missing glyph leaves a hole or a hollow box)
    for (let i = 0; i < SAMPLE.length; i++) {
      let ink = 0;
      for (let y = 0; y < burnt.h; y++) for (let x = Math.round(i * PX); x < Math.min(burnt.w, Math.round((i + 1) * PX) - 1); x++) ink += burnt.on[y * burnt.w + x];
      expect(ink, `glyph ${i + 1} (${SAMPLE[i]})`).toBeGreaterThan(15);
    }
  });

  it('renders the same pixels in a process that has no fonts installed at all (only the shipped file)', async () => {
    const script = `import sharp from 'sharp';
      const img = sharp({ text: { text: '<span foreground="white">${SAMPLE}</span>', font: '${CAPTION_FONT_FAMILY} ${PX}', fontfile: ${JSON.stringify(CAPTION_FONT_FILE)}, rgba: true, dpi: 72 } });
      process.stdout.write((await img.png().toBuffer()).toString('base64'));`;
    const empty = join(dir, 'no-fonts');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot, encoding: 'utf8',
      // no fontconfig configuration and no font directories: a fresh machine without fonts
      env: { PATH: process.env.PATH, HOME: empty, FONTCONFIG_FILE: join(empty, 'fonts.conf'), FONTCONFIG_PATH: empty, XDG_DATA_HOME: empty, XDG_CONFIG_HOME: empty },
    });
    expect(child.status, child.stderr).toBe(0);
    const fresh = cropToInk(await maskOf(Buffer.from(child.stdout, 'base64')));
    expect(iou(fresh, reference)).toBeGreaterThan(0.5);
    const here = cropToInk(await maskOf((await renderText(SAMPLE, PX)).png));
    expect(iou(fresh, here)).toBeGreaterThan(0.95);
  });

  it('says camera, address, event code and name, and local time', () => {
    const text = evidenceCaption({ cameraName: '延安路 东门', address: '延安路 88 号', eventCode: '09009', eventName: '机动车乱停放', ts: Date.UTC(2026, 11, 2, 6, 3, 5) });
    expect(text).toBe('延安路 东门 · 延安路 88 号 · 09009 机动车乱停放 · 2026-12-02 14:03:05');
    expect(boxLabel('truck', 0.45)).toBe('货车 truck 0.45');
    expect(boxLabel('kite')).toBe('kite');
  });

  it('covers every Chinese name the migrations seed (event types, reject reasons, 110 categories) with the subset', async () => {
    const have = new Set(await readFile(join(repoRoot, 'analytics', 'fonts', 'charset.txt'), 'utf8'));
    const dir = join(repoRoot, 'migrations');
    const missing = new Set<string>();
    for (const f of (await readdir(dir)).filter((x) => x.endsWith('.sql'))) {
      const sql = (await readFile(join(dir, f), 'utf8')).replace(/--.*$/gm, '');
      for (const m of sql.matchAll(/'([^']*)'/g)) for (const c of m[1]) if (/[\u3000-\u9fff\uff00-\uffef]/.test(c) && !have.has(c)) missing.add(c);
    }
    expect([...missing]).toEqual([]);
  });
});
