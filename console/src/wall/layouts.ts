import { LAYOUTS, type Layout } from './types';

export interface TileBox { row: number; col: number; rowSpan: number; colSpan: number }
export interface LayoutGeometry { rows: number; cols: number; tiles: TileBox[] }

export const MAX_TILES = 64;

const cell = (row: number, col: number, span = 1): TileBox => ({ row, col, rowSpan: span, colSpan: span });

/**
 * Grid geometry. N×N; one large tile in the top-left corner with small ones around it (1+5: 3×3, 1+7: 4×4);
 * 1+12: a large tile in the middle of a 4×4 with twelve around it; 2+8: two large tiles over two rows of four.
 * The large tiles come first (tile 1 is the one an operator looks at).
 */
export function geometry(layout: Layout): LayoutGeometry {
  if (layout === '1+5' || layout === '1+7') {
    const n = layout === '1+5' ? 3 : 4;
    const tiles: TileBox[] = [cell(0, 0, n - 1)];
    for (let r = 0; r < n - 1; r++) tiles.push(cell(r, n - 1));
    for (let c = 0; c < n; c++) tiles.push(cell(n - 1, c));
    return { rows: n, cols: n, tiles };
  }
  if (layout === '1+12') {
    const tiles: TileBox[] = [cell(1, 1, 2)];
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) if (!(r >= 1 && r <= 2 && c >= 1 && c <= 2)) tiles.push(cell(r, c));
    return { rows: 4, cols: 4, tiles };
  }
  if (layout === '2+8') {
    const tiles: TileBox[] = [cell(0, 0, 2), cell(0, 2, 2)];
    for (let r = 2; r < 4; r++) for (let c = 0; c < 4; c++) tiles.push(cell(r, c));
    return { rows: 4, cols: 4, tiles };
  }
  const n = Math.sqrt(Number(layout));
  const tiles: TileBox[] = [];
  for (let i = 0; i < n * n; i++) tiles.push(cell(Math.floor(i / n), i % n));
  return { rows: n, cols: n, tiles };
}

export function tileCount(layout: Layout): number {
  return geometry(layout).tiles.length;
}

export function isLayout(s: string | null | undefined): s is Layout {
  return !!s && (LAYOUTS as readonly string[]).includes(s);
}

/** Shortcut key → layout: 1..6 for 1/4/9/16/25/36, 7 for 1+5, 8 for 1+7, 9 for 64, 0 for 1+12 (2+8: the toolbar). */
export const LAYOUT_KEYS: Record<string, Layout> = { '1': '1', '2': '4', '3': '9', '4': '16', '5': '25', '6': '36', '7': '1+5', '8': '1+7', '9': '64', '0': '1+12' };

export const LAYOUT_LABEL: Record<Layout, string> = { '1': '1', '4': '4', '9': '9', '16': '16', '25': '25', '36': '36', '64': '64', '1+5': '1+5', '1+7': '1+7', '1+12': '1+12', '2+8': '2+8' };

/** Smallest layout that fits n cameras (for deep links without a layout). */
export function layoutFor(n: number): Layout {
  for (const l of ['1', '4', '9', '16', '25', '36', '64'] as const) if (tileCount(l) >= n) return l;
  return '64';
}

/** The tile an arrow key moves to: nearest tile centre in that direction. */
export function neighbour(layout: Layout, from: number, dir: 'left' | 'right' | 'up' | 'down'): number {
  const { tiles } = geometry(layout);
  const c = (t: TileBox) => ({ x: t.col + t.colSpan / 2, y: t.row + t.rowSpan / 2 });
  const a = tiles[from] ? c(tiles[from]) : { x: 0, y: 0 };
  let best = from;
  let bestScore = Infinity;
  tiles.forEach((t, i) => {
    if (i === from) return;
    const b = c(t);
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const along = dir === 'left' ? -dx : dir === 'right' ? dx : dir === 'up' ? -dy : dy;
    const across = dir === 'left' || dir === 'right' ? Math.abs(dy) : Math.abs(dx);
    if (along <= 0.01) return;
    const score = along + across * 2;
    if (score < bestScore) { bestScore = score; best = i; }
  });
  return best;
}
