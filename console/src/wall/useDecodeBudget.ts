import { useEffect, useMemo, useRef, useState, type RefObject } from 'react';
import { DecodeBudget, initialFullTiles, type TileRate, type TileSample } from './decode-budget';
import type { PlayerStats } from './TilePlayer';

/** The tiles' player stats by tile index (each tile registers its own). */
export type StatsBoard = Map<number, { current: PlayerStats }>;

const WINDOW_MS = 2000;

/**
 * Main-thread busy time: the sum of long tasks (> 50 ms, PerformanceObserver 'longtask') since the last call.
 * Null where the browser has no long-task timing.
 */
function longTaskMeter(): { take(): number | null; stop(): void } {
  const supported = typeof PerformanceObserver !== 'undefined' && (PerformanceObserver.supportedEntryTypes ?? []).includes('longtask');
  if (!supported) return { take: () => null, stop: () => {} };
  let sum = 0;
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) sum += e.duration; });
  obs.observe({ type: 'longtask', buffered: false });
  return { take: () => { const s = sum; sum = 0; return s; }, stop: () => obs.disconnect() };
}

/**
 * The wall's frame-rate plan, measured on this client every 2 s (decode-budget.ts has the rules). `order`: tiles
 * with a camera, in wall order; `priority`: tiles that always get full rate. The budget's state is written on
 * `expose` as data attributes (data-full-budget, data-moving-budget, data-verdict, data-dropped-ratio, data-busy)
 * for the bench and the tests.
 */
export function useDecodeBudget(board: StatsBoard, order: readonly number[], priority: ReadonlySet<number>, maxFull: number, expose: RefObject<HTMLElement | null>): Map<number, TileRate> {
  const budgetRef = useRef<DecodeBudget | null>(null);
  budgetRef.current ??= new DecodeBudget({ maxFull, initialFull: initialFullTiles(navigator.hardwareConcurrency, maxFull) });
  const budget = budgetRef.current;
  budget.o.maxFull = maxFull;
  const [version, setVersion] = useState(0);
  const live = useRef({ order, priority, rates: new Map<number, TileRate>() });
  live.current.order = order;
  live.current.priority = priority;

  useEffect(() => {
    const meter = longTaskMeter();
    // per tile: the stats object last seen (a new player is a new object) and its counters then
    const last = new Map<number, { stats: PlayerStats; frames: number; dropped: number }>();
    let windowStart = performance.now();
    const t = window.setInterval(() => {
      const now = performance.now();
      const windowMs = now - windowStart;
      windowStart = now;
      const { order: o, priority: p, rates } = live.current;
      // a hidden page presents nothing (no frame callbacks, no painting): that says nothing about decoding
      if (document.hidden) { meter.take(); return; }
      const tiles: TileSample[] = [];
      for (const i of o) {
        const ref = board.get(i);
        if (!ref) continue;
        const s = ref.current;
        const prev = last.get(i);
        const base = prev && prev.stats === s ? prev : { frames: 0, dropped: 0 };
        const frames = Math.max(0, s.totalFrames - base.frames);
        const dropped = Math.max(0, s.droppedFrames - base.dropped);
        last.set(i, { stats: s, frames: s.totalFrames, dropped: s.droppedFrames });
        tiles.push({ rate: rates.get(i) === 'still' ? 'still' : s.rendition === 'keyframes' ? 'reduced' : 'full', frames, dropped, behind: s.behind, playing: frames > 0, priority: p.has(i) });
      }
      const busyMs = meter.take();
      const others = o.filter((i) => !p.has(i)).length;
      if (budget.update({ windowMs, busy: busyMs === null ? null : busyMs / windowMs, tiles }, others)) setVersion((v) => v + 1);
      const el = expose.current;
      if (el) {
        el.dataset.fullBudget = String(Math.min(budget.full, others));
        el.dataset.movingBudget = String(Math.min(budget.moving, others));
        el.dataset.verdict = budget.verdict;
        el.dataset.droppedRatio = budget.droppedRatio.toFixed(3);
        el.dataset.busy = budget.busy === null ? '' : budget.busy.toFixed(2);
      }
    }, WINDOW_MS);
    return () => { window.clearInterval(t); meter.stop(); };
  }, [board, budget, expose]);

  // eslint-disable-next-line react-hooks/exhaustive-deps
  const rates = useMemo(() => budget.assign(order, priority), [budget, order, priority, version, maxFull]);
  live.current.rates = rates;
  return rates;
}
