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
  return { layout, tiles: fill(cameras), selected: 0, focused: null, alarmTile: 0, alarms: [] };
}

function fill(cameras: (string | null)[]): (string | null)[] {
  const out = cameras.slice(0, MAX_TILES);
  while (out.length < MAX_TILES) out.push(null);
  return out;
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
      return { ...s, tiles, selected: a.index, focused: a.cameraId === null && s.focused === a.index ? null : s.focused };
    }
    case 'swap': {
      if (a.from === a.to || a.from >= n || a.to >= n) return s;
      const tiles = s.tiles.slice();
      [tiles[a.from], tiles[a.to]] = [tiles[a.to], tiles[a.from]];
      return { ...s, tiles, selected: a.to };
    }
    case 'load': {
      const layout = a.layout ?? s.layout;
      return { ...s, layout, tiles: fill(a.cameras), focused: null, selected: Math.min(s.selected, tileCount(layout) - 1) };
    }
    case 'page': {
      // a tour step: fill the visible tiles, leaving the alarm tile alone while an alarm is up
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
      tiles[s.alarmTile] = a.alarm.cameraId;
      return { ...s, tiles, alarms: [...s.alarms.filter((x) => x.key !== a.alarm.key), a.alarm].slice(-50) };
    }
    case 'ack': {
      const alarms = a.all ? [] : s.alarms.slice(0, -1);
      const tiles = s.tiles.slice();
      const next = alarms.at(-1);
      if (next) tiles[s.alarmTile] = next.cameraId;
      return { ...s, alarms, tiles };
    }
  }
}
