import { isLayout, layoutFor, MAX_TILES } from './layouts';
import type { Layout, Tour } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface WallLink { layout?: Layout; cameras?: (string | null)[]; tour?: string; interval?: number; preset?: string }

/**
 * /wall?layout=16&cameras=ID,,ID   (an empty entry is an empty tile; without layout, the smallest that fits)
 * /wall?layout=4&tour=GROUP&interval=10   (a running tour)
 * /wall?preset=ID
 * Anything malformed is dropped rather than refused: a shared link with one bad id still opens the rest.
 */
export function parseLink(sp: URLSearchParams): WallLink {
  const raw = sp.get('cameras');
  const cameras = raw !== null && raw !== '' ? raw.split(',').slice(0, MAX_TILES).map((s) => (UUID.test(s.trim()) ? s.trim().toLowerCase() : null)) : undefined;
  const l = sp.get('layout');
  const layout = isLayout(l) ? l : cameras ? layoutFor(cameras.length) : undefined;
  const tour = sp.get('tour');
  const iv = Number(sp.get('interval'));
  const preset = sp.get('preset');
  return {
    layout, cameras,
    tour: tour && UUID.test(tour) ? tour : undefined,
    interval: Number.isInteger(iv) && iv >= 3 && iv <= 3600 ? iv : undefined,
    preset: preset && UUID.test(preset) ? preset : undefined,
  };
}

/** The query string of the current wall (what "copy link" shares and the address bar shows). */
export function wallQuery(layout: Layout, tiles: (string | null)[], tour: Tour | null): string {
  const q = new URLSearchParams({ layout });
  if (tour) {
    q.set('tour', tour.groupId);
    q.set('interval', String(tour.intervalS));
  } else {
    const cams = tiles.map((x) => x ?? '').join(',').replace(/,+$/, '');
    if (cams) q.set('cameras', cams);
  }
  return q.toString().replace(/%2C/g, ',');
}
