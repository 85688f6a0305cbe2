import { useCallback, useEffect, useRef, useState } from 'react';

export interface TourState {
  groupId: string;
  name: string;
  cameraIds: string[];
  intervalS: number;
  paused: boolean;
  step: number;
  /** ms epoch of the next switch (null while paused) */
  nextAt: number | null;
  /** ms left when paused, so resuming keeps the rest of the dwell */
  remainingMs: number | null;
}

/** Cameras of tour step `step` for `tiles` tiles: the group paged across the wall, wrapping around. */
export function tourPage(cameraIds: string[], tiles: number, step: number): (string | null)[] {
  if (!cameraIds.length) return [];
  if (cameraIds.length <= tiles) return cameraIds.slice();
  const pages = Math.ceil(cameraIds.length / tiles);
  const start = (step % pages) * tiles;
  return Array.from({ length: tiles }, (_, i) => cameraIds[start + i] ?? null);
}

/**
 * 轮巡: rotates a group's cameras through the layout every intervalS seconds; pausable and resumable.
 * onStep(cameras, step) is called at the start and at each switch.
 */
export function useTour(tiles: number, onStep: (cameras: (string | null)[], step: number) => void) {
  const [tour, setTour] = useState<TourState | null>(null);
  const stepRef = useRef(onStep);
  useEffect(() => { stepRef.current = onStep; });

  const start = useCallback((t: { groupId: string; name: string; cameraIds: string[]; intervalS: number }) => {
    setTour({ ...t, paused: false, step: 0, nextAt: Date.now() + t.intervalS * 1000, remainingMs: null });
  }, []);
  const stop = useCallback(() => setTour(null), []);
  const pause = useCallback(() => setTour((t) => (t && !t.paused ? { ...t, paused: true, remainingMs: Math.max(0, (t.nextAt ?? Date.now()) - Date.now()), nextAt: null } : t)), []);
  const resume = useCallback(() => setTour((t) => (t && t.paused ? { ...t, paused: false, nextAt: Date.now() + (t.remainingMs ?? t.intervalS * 1000), remainingMs: null } : t)), []);
  const toggle = useCallback(() => setTour((t) => {
    if (!t) return t;
    return t.paused
      ? { ...t, paused: false, nextAt: Date.now() + (t.remainingMs ?? t.intervalS * 1000), remainingMs: null }
      : { ...t, paused: true, remainingMs: Math.max(0, (t.nextAt ?? Date.now()) - Date.now()), nextAt: null };
  }), []);

  // show the current step whenever it (or the layout) changes
  const key = tour ? `${tour.groupId}|${tour.step}|${tour.cameraIds.join(',')}` : '';
  useEffect(() => {
    if (!tour) return;
    stepRef.current(tourPage(tour.cameraIds, tiles, tour.step), tour.step);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, tiles]);

  // one timer per dwell
  useEffect(() => {
    if (!tour || tour.paused || tour.nextAt === null) return;
    const t = window.setTimeout(() => {
      setTour((cur) => (cur && !cur.paused && cur.groupId === tour.groupId ? { ...cur, step: cur.step + 1, nextAt: Date.now() + cur.intervalS * 1000 } : cur));
    }, Math.max(0, tour.nextAt - Date.now()));
    return () => window.clearTimeout(t);
  }, [tour]);

  return { tour, start, stop, pause, resume, toggle };
}
