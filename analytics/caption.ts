/**
 * Text burnt into evidence stills (the caption and the box labels), rendered with the CJK font shipped in
 * analytics/fonts/ (a GB 2312 subset of Noto Sans CJK SC, SIL OFL 1.1: see the README there). The font is handed
 * to libvips/Pango as a file, so the text renders the same on a fresh machine with no fonts installed; SVG <text>
 * would depend on the system's fonts and draws CJK as empty boxes where there are none.
 */
import { join } from 'node:path';
import sharp from 'sharp';

export const CAPTION_FONT_FILE = join(import.meta.dirname, 'fonts', 'NotoSansCJKsc-Regular-gb2312.otf');
/** The family name inside that file (what Pango is asked for). */
export const CAPTION_FONT_FAMILY = 'Noto Sans CJK SC';

export interface RenderedText {
  /** RGBA PNG of the text alone, transparent around the glyphs */
  png: Buffer;
  width: number;
  height: number;
}

function escapeMarkup(s: string): string {
  return s.replace(/[<>&'"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch]!);
}

/** One line of text, `px` pixels high (em size), in `colour`, at most `maxWidth` wide (longer text is cut with …). */
export async function renderText(text: string, px: number, opts: { colour?: string; maxWidth?: number } = {}): Promise<RenderedText> {
  const size = Math.max(6, Math.round(px));
  // dpi 72: a Pango point is a pixel
  const img = sharp({
    text: {
      text: `<span foreground="${opts.colour ?? 'white'}">${escapeMarkup(text.replace(/[\r\n\t]+/g, ' '))}</span>`,
      font: `${CAPTION_FONT_FAMILY} ${size}`, fontfile: CAPTION_FONT_FILE, rgba: true, dpi: 72,
      ...(opts.maxWidth ? { width: Math.max(1, Math.floor(opts.maxWidth)), wrap: 'none' as const } : {}),
    },
  });
  const { data, info } = await img.png().toBuffer({ resolveWithObject: true });
  if (opts.maxWidth && info.width > opts.maxWidth) {
    const cut = await sharp(data).extract({ left: 0, top: 0, width: Math.floor(opts.maxWidth), height: info.height }).png().toBuffer();
    return { png: cut, width: Math.floor(opts.maxWidth), height: info.height };
  }
  return { png: data, width: info.width, height: info.height };
}

export interface CaptionFacts {
  cameraName?: string | null;
  address?: string | null;
  eventCode?: string | null;
  eventName?: string | null;
  /** ms since the epoch */
  ts: number;
  /** the city's time zone (default Asia/Shanghai) */
  timeZone?: string;
}

/** The caption of an evidence still: camera name, address, event code and name, local time (what the city platform reads). */
export function evidenceCaption(f: CaptionFacts): string {
  const time = new Intl.DateTimeFormat('zh-CN', {
    timeZone: f.timeZone ?? 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(new Date(f.ts)).replace(/\//g, '-');
  const event = [f.eventCode, f.eventName].filter(Boolean).join(' ');
  return [f.cameraName, f.address, event, time].map((x) => x?.trim()).filter(Boolean).join(' · ');
}

/** Chinese names of the detector classes the presets use, for the box labels on the still (others stay as they are). */
const CLASS_ZH: Record<string, string> = {
  person: '行人', car: '小汽车', truck: '货车', bus: '客车', motorcycle: '摩托车', bicycle: '自行车',
  umbrella: '遮阳伞', 'dining table': '桌子', chair: '椅子', suitcase: '箱包', backpack: '背包', handbag: '手提包',
};

/** "货车 truck 0.45": the class in Chinese and as the model names it, with the candidate's score. */
export function boxLabel(label: string, score?: number): string {
  const zh = CLASS_ZH[label];
  return [zh, label, score === undefined ? null : score.toFixed(2)].filter(Boolean).join(' ');
}
