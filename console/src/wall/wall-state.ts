import { MAX_TILES, tileCount } from './layouts';
import type { Alarm, Layout } from './types';

export interface WallState {
  layout: Layout;
  /** camera per tile position (MAX_TILES long: a smaller layout keeps the rest for when it grows again) */
  tiles: (string | null)[];
  selected: number;
  focused: number | null;
  /** the designated tile that alarms switch to */
  alarmTile: number;
  /** unacknowledged alarms, newest last; the newest is on the alarm tile */
  alarms: Alarm[];
  /** what the alarm tile showed before the first unacknowledged alarm took it (or what an operator put there since): shown again once all are acknowledged */
  beforeAlarm: string | null;
}

export type WallAction =
  | { type: 'layout'; layout: Layout }
  | { type: 'assign'; index: number; cameraId: string | null }
  | { type: 'swap'; from: number; to: number }
  | { type: 'load'; layout?: Layout; cameras: (string | null)[] }
  | { type: 'page'; cameras: (string | null)[]; skip?: number }
  | { type: 'select'; index: number }
  | { type: 'focus'; index: number | null }
  | { type: 'alarmTile'; index: number }
  | { type: 'alarm'; alarm: Alarm }
  | { type: 'ack'; all?: boolean };

export function initialWall(layout: Layout = '16', cameras: (string | null)[] = []): WallState {
  return { layout, tiles: fill(cameras), selected: 0, focused: null, alarmTile: 0, alarms: [], beforeAlarm: null };
}

function fill(cameras: (string | null)[]): (string | null)[] {
  const out = cameras.slice(0, MAX_TILES);
  while (out.length < MAX_TILES) out.push(null);
  return out;
}

/** The alarm on the alarm tile, or null when the tile shows another camera (an operator put one there): no overlay then. */
export function alarmShown(s: WallState): Alarm | null {
  const a = s.alarms.at(-1);
  return a && s.tiles[s.alarmTile] === a.cameraId ? a : null;
}

/** Tiles a tour may fill: all of them, less the alarm tile while an alarm holds it. */
export function tourCapacity(s: WallState): number {
  const n = tileCount(s.layout);
  return s.alarms.length && s.alarmTile < n ? n - 1 : n;
}

/** An operator's own choice for the alarm tile (assign, swap, load) is what it returns to after the alarms. */
function remember(s: WallState, tiles: (string | null)[]): WallState {
  return { ...s, tiles, beforeAlarm: s.alarms.length ? tiles[s.alarmTile] : s.beforeAlarm };
}

export function wallReducer(s: WallState, a: WallAction): WallState {
  const n = tileCount(s.layout);
  switch (a.type) {
    case 'layout': {
      const m = tileCount(a.layout);
      return { ...s, layout: a.layout, selected: Math.min(s.selected, m - 1), focused: s.focused !== null && s.focused < m ? s.focused : null, alarmTile: Math.min(s.alarmTile, m - 1) };
    }
    case 'assign': {
      if (a.index < 0 || a.index >= n) return s;
      const tiles = s.tiles.slice();
      tiles[a.index] = a.cameraId;
      return { ...remember(s, tiles), selected: a.index, focused: a.cameraId === null && s.focused === a.index ? null : s.focused };
    }
    case 'swap': {
      if (a.from === a.to || a.from >= n || a.to >= n) return s;
      const tiles = s.tiles.slice();
      [tiles[a.from], tiles[a.to]] = [tiles[a.to], tiles[a.from]];
      return { ...remember(s, tiles), selected: a.to };
    }
    case 'load': {
      const layout = a.layout ?? s.layout;
      return { ...remember(s, fill(a.cameras)), layout, focused: null, selected: Math.min(s.selected, tileCount(layout) - 1) };
    }
    case 'page': {
      // a tour step: fill the visible tiles, leaving the alarm tile alone while an alarm is up (the step was paged
      // for the tiles left, tourCapacity, so no camera of the group is dropped)
      const tiles = s.tiles.slice();
      let k = 0;
      for (let i = 0; i < n; i++) {
        if (s.alarms.length && i === s.alarmTile) continue;
        tiles[i] = a.cameras[k++] ?? null;
      }
      return { ...s, tiles };
    }
    case 'select':
      return a.index >= 0 && a.index < n ? { ...s, selected: a.index } : s;
    case 'focus':
      // the same gesture on the focused tile leaves focus
      if (a.index !== null && a.index === s.focused) return { ...s, focused: null };
      return { ...s, focused: a.index !== null && a.index < n && s.tiles[a.index] ? a.index : null, selected: a.index ?? s.selected };
    case 'alarmTile':
      return a.index < n ? { ...s, alarmTile: a.index } : s;
    case 'alarm': {
      const tiles = s.tiles.slice();
      const beforeAlarm = s.alarms.length ? s.beforeAlarm : s.tiles[s.alarmTile];
      tiles[s.alarmTile] = a.alarm.cameraId;
      return { ...s, tiles, beforeAlarm, alarms: [...s.alarms.filter((x) => x.key !== a.alarm.key), a.alarm].slice(-50) };
    }
    case 'ack': {
      // the alarm acknowledged is the one on show (or the newest when the operator replaced it on the tile)
      const shown = alarmShown(s) ?? s.alarms.at(-1);
      const alarms = a.all ? [] : s.alarms.filter((x) => x !== shown);
      const tiles = s.tiles.slice();
      const next = alarms.at(-1);
      // an operator who put another camera on the alarm tile keeps it; otherwise the next alarm, or what was there before
      const operatorChoice = tiles[s.alarmTile] !== shown?.cameraId;
      if (!operatorChoice) tiles[s.alarmTile] = next ? next.cameraId : s.beforeAlarm;
      return { ...s, alarms, tiles, beforeAlarm: alarms.length ? s.beforeAlarm : null };
    }
  }
}
