import { describe, expect, it } from 'vitest';
import { geometry, layoutFor, neighbour, tileCount } from './layouts';
import { alarmShown, initialWall, tourCapacity, wallReducer, type WallState } from './wall-state';
import { tourPage } from './useTour';
import { parseLink, wallQuery } from './deep-link';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';

describe('wall layouts', () => {
  it('has the tile counts and the large tile of 1+5 and 1+7', () => {
    expect(['1', '4', '9', '16', '25', '36', '1+5', '1+7'].map((l) => tileCount(l as never))).toEqual([1, 4, 9, 16, 25, 36, 6, 8]);
    expect(geometry('1+5').tiles[0]).toEqual({ row: 0, col: 0, rowSpan: 2, colSpan: 2 });
    expect(geometry('1+7').tiles[0]).toEqual({ row: 0, col: 0, rowSpan: 3, colSpan: 3 });
    // every cell of the grid is covered exactly once
    for (const l of ['1+5', '1+7', '9'] as const) {
      const g = geometry(l);
      const cells = new Set<string>();
      for (const t of g.tiles) for (let r = 0; r < t.rowSpan; r++) for (let c = 0; c < t.colSpan; c++) cells.add(`${t.row + r},${t.col + c}`);
      expect(cells.size).toBe(g.rows * g.cols);
    }
    expect(layoutFor(5)).toBe('9');
    expect(layoutFor(40)).toBe('36');
  });

  it('moves between tiles with the arrows, around the large tile too', () => {
    expect(neighbour('16', 0, 'right')).toBe(1);
    expect(neighbour('16', 0, 'down')).toBe(4);
    expect(neighbour('16', 0, 'left')).toBe(0);
    expect(neighbour('1+5', 0, 'right')).toBe(1);
    expect(neighbour('1+5', 0, 'down')).toBe(3);
    expect(neighbour('1+5', 5, 'up')).toBe(2);
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
