import { describe, expect, it } from 'vitest';
import { geometry, layoutFor, neighbour, tileCount } from './layouts';
import { alarmShown, initialWall, tourCapacity, wallReducer, type WallState } from './wall-state';
import { tourPage } from './useTour';
import { parseLink, wallQuery } from './deep-link';
import { DecodeBudget, initialFullTiles, type TileSample } from './decode-budget';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';

describe('wall layouts', () => {
  it('has the tile counts and the large tiles of 1+5, 1+7, 1+12 and 2+8', () => {
    expect(['1', '4', '9', '16', '25', '36', '64', '1+5', '1+7', '1+12', '2+8'].map((l) => tileCount(l as never))).toEqual([1, 4, 9, 16, 25, 36, 64, 6, 8, 13, 10]);
    expect(geometry('1+5').tiles[0]).toEqual({ row: 0, col: 0, rowSpan: 2, colSpan: 2 });
    expect(geometry('1+7').tiles[0]).toEqual({ row: 0, col: 0, rowSpan: 3, colSpan: 3 });
    // 1+12: the large tile in the middle of a 4x4; 2+8: two large tiles over two rows of four
    expect(geometry('1+12').tiles[0]).toEqual({ row: 1, col: 1, rowSpan: 2, colSpan: 2 });
    expect(geometry('2+8').tiles.slice(0, 2)).toEqual([{ row: 0, col: 0, rowSpan: 2, colSpan: 2 }, { row: 0, col: 2, rowSpan: 2, colSpan: 2 }]);
    expect(geometry('64')).toMatchObject({ rows: 8, cols: 8 });
    // every cell of the grid is covered exactly once
    for (const l of ['1+5', '1+7', '9', '64', '1+12', '2+8'] as const) {
      const g = geometry(l);
      const cells = new Set<string>();
      let area = 0;
      for (const t of g.tiles) for (let r = 0; r < t.rowSpan; r++) for (let c = 0; c < t.colSpan; c++) { cells.add(`${t.row + r},${t.col + c}`); area++; }
      expect(cells.size).toBe(g.rows * g.cols);
      expect(area).toBe(g.rows * g.cols);
    }
    expect(layoutFor(5)).toBe('9');
    expect(layoutFor(40)).toBe('64');
    expect(layoutFor(80)).toBe('64');
  });

  it('moves between tiles with the arrows, around the large tile too', () => {
    expect(neighbour('16', 0, 'right')).toBe(1);
    expect(neighbour('16', 0, 'down')).toBe(4);
    expect(neighbour('16', 0, 'left')).toBe(0);
    expect(neighbour('1+5', 0, 'right')).toBe(1);
    expect(neighbour('1+5', 0, 'down')).toBe(3);
    expect(neighbour('1+5', 5, 'up')).toBe(2);
    // 1+12: from the large middle tile, left is a tile of the left column, up one of the top row
    const g = geometry('1+12');
    expect(g.tiles[neighbour('1+12', 0, 'left')].col).toBe(0);
    expect(g.tiles[neighbour('1+12', 0, 'up')].row).toBe(0);
    expect(neighbour('2+8', 0, 'right')).toBe(1);
    expect(geometry('2+8').tiles[neighbour('2+8', 1, 'down')].row).toBe(2);
  });
});

describe('wall state', () => {
  const load = (s: WallState) => wallReducer(s, { type: 'load', layout: '4', cameras: [A, B, null, C] });
  it('assigns, swaps, clears and keeps cameras beyond a smaller layout', () => {
    let s = load(initialWall());
    s = wallReducer(s, { type: 'swap', from: 0, to: 3 });
    expect(s.tiles.slice(0, 4)).toEqual([C, B, null, A]);
    s = wallReducer(s, { type: 'layout', layout: '1' });
    expect(s.selected).toBe(0);
    s = wallReducer(s, { type: 'assign', index: 2, cameraId: A });
    expect(s.tiles[2]).toBe(null); // outside the layout: refused
    s = wallReducer(s, { type: 'layout', layout: '4' });
    expect(s.tiles.slice(0, 4)).toEqual([C, B, null, A]);
    s = wallReducer(s, { type: 'assign', index: 1, cameraId: null });
    expect(s.tiles.slice(0, 4)).toEqual([C, null, null, A]);
  });

  it('focuses only a tile with a camera, and the same gesture leaves focus', () => {
    let s = load(initialWall());
    s = wallReducer(s, { type: 'focus', index: 2 });
    expect(s.focused).toBe(null);
    s = wallReducer(s, { type: 'focus', index: 1 });
    expect(s.focused).toBe(1);
    s = wallReducer(s, { type: 'focus', index: 1 });
    expect(s.focused).toBe(null);
  });

  it('puts alarms on the designated tile until acknowledged, newest first, and tours leave that tile alone', () => {
    let s = wallReducer(load(initialWall()), { type: 'alarmTile', index: 3 });
    s = wallReducer(s, { type: 'alarm', alarm: { key: 'e1', topic: 'event.candidate', cameraId: A, title: 'x', at: 1 } });
    s = wallReducer(s, { type: 'alarm', alarm: { key: 'i1', topic: 'incident.created', cameraId: B, title: 'y', at: 2 } });
    expect(s.tiles[3]).toBe(B);
    s = wallReducer(s, { type: 'page', cameras: [C, C, C, C] });
    expect(s.tiles.slice(0, 4)).toEqual([C, C, C, B]);
    s = wallReducer(s, { type: 'ack' });
    expect(s.tiles[3]).toBe(A);
    expect(s.alarms.map((a) => a.key)).toEqual(['e1']);
    s = wallReducer(s, { type: 'ack' });
    expect(s.alarms).toEqual([]);
    // all acknowledged: the tile shows again what it showed before the first alarm
    expect(s.tiles[3]).toBe(C);
  });

  it('drops the overlay for a camera an operator puts on the alarm tile, and keeps that camera after the ack', () => {
    let s = wallReducer(load(initialWall()), { type: 'alarmTile', index: 2 });
    s = wallReducer(s, { type: 'alarm', alarm: { key: 'i1', topic: 'incident.created', cameraId: B, title: '110', at: 1 } });
    expect(alarmShown(s)?.key).toBe('i1');
    s = wallReducer(s, { type: 'assign', index: 2, cameraId: C });
    expect(alarmShown(s)).toBe(null);
    expect(s.alarms).toHaveLength(1); // still unacknowledged (the toolbar counts it)
    s = wallReducer(s, { type: 'ack', all: true });
    expect(s.tiles[2]).toBe(C);
    expect(s.beforeAlarm).toBe(null);
  });

  it('tours over the tiles an alarm leaves free, so a 4-tile wall touring 8 cameras shows all 8', () => {
    const group = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'];
    let s = wallReducer(load(initialWall()), { type: 'alarmTile', index: 0 });
    s = wallReducer(s, { type: 'alarm', alarm: { key: 'e1', topic: 'event.candidate', cameraId: A, title: 'x', at: 1 } });
    expect(tourCapacity(s)).toBe(3);
    const seen = new Set<string>();
    for (let step = 0; step < 3; step++) {
      s = wallReducer(s, { type: 'page', cameras: tourPage(group, tourCapacity(s), step) });
      expect(s.tiles[0]).toBe(A);
      for (const c of s.tiles.slice(1, 4)) if (c) seen.add(c);
    }
    expect([...seen].sort()).toEqual(group);
  });
});

describe('tours and deep links', () => {
  it('pages a group across the wall, wrapping', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    expect(tourPage(ids, 1, 0)).toEqual(['a']);
    expect(tourPage(ids, 1, 6)).toEqual(['b']);
    expect(tourPage(ids, 4, 0)).toEqual(['a', 'b', 'c', 'd']);
    expect(tourPage(ids, 4, 1)).toEqual(['e', null, null, null]);
    expect(tourPage(ids, 9, 3)).toEqual(ids);
  });

  it('reads and writes /wall links, dropping what is malformed', () => {
    expect(parseLink(new URLSearchParams(`layout=4&cameras=${A},,nope,${B}`))).toEqual({ layout: '4', cameras: [A, null, null, B], tour: undefined, interval: undefined, preset: undefined });
    expect(parseLink(new URLSearchParams(`cameras=${A},${B},${C}`)).layout).toBe('4');
    expect(parseLink(new URLSearchParams(`layout=7&tour=${A}&interval=2`))).toMatchObject({ layout: undefined, tour: A, interval: undefined });
    expect(wallQuery('16', [A, null, B, null], null)).toBe(`layout=16&cameras=${A},,${B}`);
    expect(wallQuery('1+5', [], { groupId: C, intervalS: 10 })).toBe(`layout=1%2B5&tour=${C}&interval=10`);
    expect(parseLink(new URLSearchParams(wallQuery('1+5', [A], null))).layout).toBe('1+5');
  });
});

describe('decode budget', () => {
  const tiles = (n: number, o: Partial<TileSample> = {}): TileSample[] => Array.from({ length: n }, () => ({ rate: 'full', frames: 50, dropped: 0, behind: false, playing: true, ...o }));
  const healthy = (n: number) => ({ windowMs: 2000, busy: 0.05, tiles: tiles(n) });
  const rates = (b: DecodeBudget, n: number, prio: number[] = []) => {
    const m = b.assign(Array.from({ length: n }, (_, i) => i), new Set(prio));
    return Array.from({ length: n }, (_, i) => m.get(i) ?? '');
  };

  it('starts a few tiles per core at full rate, the rest on keyframes, never above the cap', () => {
    expect(initialFullTiles(2, 16)).toBe(4);
    expect(initialFullTiles(16, 16)).toBe(16);
    const b = new DecodeBudget({ maxFull: 16, initialFull: initialFullTiles(2, 16) });
    const r = rates(b, 36);
    expect(r.filter((x) => x === 'full')).toHaveLength(4);
    expect(r.filter((x) => x === 'reduced')).toHaveLength(32);
  });

  it('steps the others down when frames drop or the main thread is busy, keeping priority tiles full, then to stills', () => {
    const b = new DecodeBudget({ maxFull: 16, initialFull: 8 });
    const seen: string[][] = [];
    for (let w = 0; w < 20; w++) {
      b.update({ windowMs: 2000, busy: 0.8, tiles: tiles(9) }, 8);
      seen.push(rates(b, 9, [4]));
    }
    expect(b.verdict).toBe('saturated');
    const end = rates(b, 9, [4]);
    expect(end[4]).toBe('full');
    expect(end.filter((x) => x === 'still')).toHaveLength(8);
    // on the way down tile 1 was reduced (keyframes) before it went still
    const t1 = seen.map((r) => r[0]);
    expect(t1.indexOf('reduced')).toBeGreaterThan(-1);
    expect(t1.indexOf('reduced')).toBeLessThan(t1.indexOf('still'));
    // dropped frames alone saturate too
    const d = new DecodeBudget({ maxFull: 16, initialFull: 8 });
    for (let w = 0; w < 3; w++) d.update({ windowMs: 2000, busy: null, tiles: tiles(9, { dropped: 20 }) }, 9);
    expect(d.full).toBeLessThan(8);
  });

  it('a focused tile that drops frames keeps the others at keyframes, not still', () => {
    const b = new DecodeBudget({ maxFull: 16, initialFull: 4 });
    const sample = () => ({ windowMs: 2000, busy: 0.05, tiles: [{ rate: 'full' as const, frames: 50, dropped: 10, behind: false, playing: true, priority: true }, ...tiles(8, { frames: 2, rate: 'reduced' })] });
    for (let w = 0; w < 30; w++) b.update(sample(), 8);
    expect(b.verdict).toBe('saturated');
    expect(rates(b, 9, [0])).toEqual(['full', ...Array(8).fill('reduced')]);
  });

  it('makes no tile still while the wall\'s players are starting: the grace runs from when the last one is up', () => {
    const b = new DecodeBudget({ maxFull: 16, initialFull: 0 });
    // 64 keyframe tiles, a fifth still connecting, the main thread busy with starting them, for 30 s
    const starting = (n: number) => ({ windowMs: 2000, busy: 0.8, tiles: [...tiles(64 - n, { rate: 'reduced', frames: 2 }), ...tiles(n, { rate: 'reduced', frames: 0, playing: false })] });
    for (let w = 0; w < 15; w++) b.update(starting(12), 64);
    expect(rates(b, 64).filter((x) => x === 'still')).toHaveLength(0);
    // all up, and still busy: stills after the grace
    for (let w = 0; w < 12; w++) b.update(starting(0), 64);
    expect(rates(b, 64).filter((x) => x === 'still').length).toBeGreaterThan(0);
    // a tile that never plays (a dead camera) does not hold the grace for ever
    const c = new DecodeBudget({ maxFull: 16, initialFull: 0 });
    for (let w = 0; w < 40; w++) c.update(starting(1), 64);
    expect(rates(c, 64).filter((x) => x === 'still').length).toBeGreaterThan(0);
  });

  it('full-rate tiles behind live take full rate away but never motion; keyframe tiles behind do not', () => {
    const b = new DecodeBudget({ maxFull: 16, initialFull: 4 });
    for (let w = 0; w < 30; w++) b.update({ windowMs: 2000, busy: 0, tiles: [...tiles(4, { behind: true }), ...tiles(5, { rate: 'reduced', frames: 2 })] }, 9);
    expect(rates(b, 9)).toEqual(Array(9).fill('reduced'));
    for (let w = 0; w < 30; w++) b.update({ windowMs: 2000, busy: 0, tiles: tiles(9, { rate: 'reduced', frames: 2, behind: true }) }, 9);
    expect(b.full).toBeGreaterThan(0);
  });

  it('steps back up when healthy: moving first, then one full tile at a time, up to the cap; a failed step up is undone', () => {
    const b = new DecodeBudget({ maxFull: 3, initialFull: 2 });
    for (let w = 0; w < 12; w++) b.update({ windowMs: 2000, busy: 0.9, tiles: tiles(8) }, 8);
    expect(rates(b, 8).every((x) => x === 'still')).toBe(true);
    let w = 0;
    while (rates(b, 8).includes('still') && w++ < 100) b.update(healthy(8), 8);
    expect(rates(b, 8)).toEqual(Array(8).fill('reduced'));
    while (b.full < 3 && w++ < 200) b.update(healthy(8), 8);
    expect(rates(b, 8).filter((x) => x === 'full')).toHaveLength(3);
    for (let k = 0; k < 50; k++) b.update(healthy(8), 8);
    expect(b.full).toBe(3); // the cap
    // a step up that saturates is undone at once
    const c = new DecodeBudget({ maxFull: 16, initialFull: 2 });
    let k = 0;
    while (c.full === 2 && k++ < 50) c.update(healthy(8), 8);
    expect(c.full).toBe(3);
    c.update({ windowMs: 2000, busy: 0.9, tiles: tiles(8) }, 8);
    expect(c.full).toBe(2);
  });
});
