/**
 * Machine-readable wall clock burnt into every simulated frame: a row of black/white cells at the
 * bottom left encoding the milliseconds within the current minute (0..59999) in 16 bits, MSB first.
 *
 * Cells: [white guard][black guard][16 data bits][even parity][black guard][white guard].
 * The geometry is defined in fractions of the frame so a reader can decode a frame that a player
 * scaled (1280x720 main read back at 640x360 etc.); cells are big (1/32 of the width) so they survive
 * H.264 compression and scaling.
 */
export const STRIP_BITS = 16;
export const STRIP_CELLS = STRIP_BITS + 5;

export interface StripLayout {
  /** Left edge of cell i is x0 + i * cellW. */
  x0: number;
  y0: number;
  cellW: number;
  cellH: number;
  /** Black background behind the strip, so the cells read the same over any picture. */
  bg: { x: number; y: number; w: number; h: number };
}

export function stripLayout(width: number, height: number): StripLayout {
  const cellW = width / 32;
  const cellH = height / 16;
  const x0 = cellW;
  const y0 = height - 2 * cellH;
  return {
    x0,
    y0,
    cellW,
    cellH,
    bg: { x: x0 - cellW / 2, y: y0 - cellH / 2, w: (STRIP_CELLS + 1) * cellW, h: 2 * cellH },
  };
}

/** Which cells are white for a given ms-within-minute value (used by tests and by the encoder's logic). */
export function stripCells(msInMinute: number): boolean[] {
  const cells: boolean[] = [true, false];
  let ones = 0;
  for (let b = STRIP_BITS - 1; b >= 0; b--) {
    const bit = ((msInMinute >> b) & 1) === 1;
    if (bit) ones++;
    cells.push(bit);
  }
  cells.push(ones % 2 === 1);
  cells.push(false, true);
  return cells;
}

/**
 * ffmpeg filter chain (comma-joined drawbox filters) drawing the strip. `msExpr` is an ffmpeg expression
 * giving the frame's milliseconds within the minute (e.g. from the frame number `n`).
 * Each data cell is a drawbox enabled only when its bit is set (timeline `enable=`), which works with
 * the 2018 static ffmpeg and needs no fonts.
 */
export function stripFilter(width: number, height: number, msExpr: string): string {
  const L = stripLayout(width, height);
  const r = (v: number) => Math.round(v);
  const box = (i: number, enable?: string) => {
    const x = r(L.x0 + i * L.cellW);
    const w = r(L.x0 + (i + 1) * L.cellW) - x;
    const base = `drawbox=x=${x}:y=${r(L.y0)}:w=${w}:h=${r(L.y0 + L.cellH) - r(L.y0)}:color=white:t=fill`;
    return enable ? `${base}:enable='${enable}'` : base;
  };
  const bitExpr = (b: number) => `mod(floor((${msExpr})/${2 ** b})\\,2)`;
  const parts = [
    `drawbox=x=${r(L.bg.x)}:y=${r(L.bg.y)}:w=${r(L.bg.w)}:h=${r(L.bg.h)}:color=black:t=fill`,
    box(0),
  ];
  const bits: string[] = [];
  for (let j = 0; j < STRIP_BITS; j++) {
    const b = STRIP_BITS - 1 - j;
    bits.push(bitExpr(b));
    parts.push(box(2 + j, `eq(${bitExpr(b)}\\,1)`));
  }
  parts.push(box(2 + STRIP_BITS, `eq(mod(${bits.join('+')}\\,2)\\,1)`));
  parts.push(box(STRIP_CELLS - 1));
  return parts.join(',');
}

/**
 * Decode the strip from a raw frame (RGB/RGBA/gray, row-major, `channels` bytes per pixel).
 * Returns ms within the minute, or null when the guards or the parity do not check out (no strip,
 * a frame mid-transition, too much compression damage).
 */
export function readClockStrip(rgb: Buffer, width: number, height: number, channels: number): number | null {
  if (width < 64 || height < 36 || rgb.length < width * height * channels) return null;
  const L = stripLayout(width, height);
  const luma = (cell: number): number => {
    // Average the middle half of the cell: edges bleed under scaling and compression.
    const xa = Math.floor(L.x0 + (cell + 0.25) * L.cellW);
    const xb = Math.max(xa + 1, Math.floor(L.x0 + (cell + 0.75) * L.cellW));
    const ya = Math.floor(L.y0 + 0.25 * L.cellH);
    const yb = Math.max(ya + 1, Math.floor(L.y0 + 0.75 * L.cellH));
    let sum = 0;
    let n = 0;
    for (let y = ya; y < yb; y++) {
      for (let x = xa; x < xb; x++) {
        const o = (y * width + x) * channels;
        sum += channels >= 3 ? 0.299 * rgb[o] + 0.587 * rgb[o + 1] + 0.114 * rgb[o + 2] : rgb[o];
        n++;
      }
    }
    return sum / n;
  };
  const values: number[] = [];
  for (let i = 0; i < STRIP_CELLS; i++) values.push(luma(i));
  const white = Math.min(values[0], values[STRIP_CELLS - 1]);
  const black = Math.max(values[1], values[STRIP_CELLS - 2]);
  if (white - black < 60) return null;
  const threshold = (white + black) / 2;
  let ms = 0;
  let ones = 0;
  for (let j = 0; j < STRIP_BITS; j++) {
    const bit = values[2 + j] > threshold ? 1 : 0;
    ones += bit;
    ms = ms * 2 + bit;
  }
  const parity = values[2 + STRIP_BITS] > threshold ? 1 : 0;
  if (parity !== ones % 2) return null;
  return ms < 60_000 ? ms : null;
}

/** Difference a - b between two ms-within-minute readings, folded into (-30 s, 30 s]. */
export function minuteDelta(a: number, b: number): number {
  let d = (a - b) % 60_000;
  if (d > 30_000) d -= 60_000;
  if (d <= -30_000) d += 60_000;
  return d;
}
