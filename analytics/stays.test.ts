import { describe, expect, it } from 'vitest';
import { StayManager, type StayOptions } from './stays.js';
import type { Track } from './tracker.js';

const base: StayOptions = { minDwellSeconds: 10, minCount: 1, cooldownSeconds: 0, graceSeconds: 5, regionIou: 0.3, updateEverySeconds: 30 };
const track = (id: number, ts: number, since: number, x = 100, score = 0.8): Track => ({
  id, box: { x1: x, y1: 100, x2: x + 50, y2: 140 }, score, peakScore: score, label: 'car', firstSeen: since, lastSeen: ts, stationarySince: since, hits: 1,
});

/** Feeds one track per second from `from` to `to` (seconds) and collects the changes. */
function run(m: StayManager, from: number, to: number, make: (ts: number) => Track[]) {
  const changes = [];
  for (let s = from; s <= to; s++) changes.push(...m.update(make(s * 1000), s * 1000));
  return changes;
}

describe('StayManager', () => {
  it('opens exactly one candidate per stay, after the dwell, and closes it after the grace period', () => {
    const m = new StayManager(base);
    const changes = run(m, 0, 60, (ts) => (ts <= 40_000 ? [track(1, ts, 0)] : []));
    const kinds = changes.map((c) => c.kind);
    expect(kinds.filter((k) => k === 'opened')).toHaveLength(1);
    expect(changes.find((c) => c.kind === 'opened')?.stay.openedAt).toBe(10_000);
    const closed = changes.find((c) => c.kind === 'closed');
    expect(closed?.stay).toMatchObject({ lastSeen: 40_000, firstSeen: 0 });
    expect(closed!.stay.closedAt).toBeGreaterThan(45_000);
  });

  it('treats a new track id in the same place as the same stay (lost behind passers-by)', () => {
    const m = new StayManager(base);
    const changes = run(m, 0, 40, (ts) => [ts < 20_000 ? track(1, ts, 0) : track(7, ts, 20_000)]);
    expect(changes.filter((c) => c.kind === 'opened')).toHaveLength(1);
    expect(m.current()[0].trackIds).toEqual([1, 7]);
  });

  it('opens separate candidates for separate objects', () => {
    const m = new StayManager(base);
    const changes = run(m, 0, 20, (ts) => [track(1, ts, 0, 100), track(2, ts, 0, 400)]);
    expect(changes.filter((c) => c.kind === 'opened')).toHaveLength(2);
  });

  it('does not raise a rejected place again before the suppression ends, and does after', () => {
    const m = new StayManager(base);
    run(m, 0, 15, (ts) => [track(1, ts, 0)]);
    const [open] = m.current();
    m.suppress(100_000, open.anchorBox);
    // The object leaves (stay closes), comes back and dwells again while suppressed: nothing is raised.
    const during = run(m, 16, 80, (ts) => (ts < 30_000 ? [] : [track(2, ts, 30_000)]));
    expect(during.filter((c) => c.kind === 'opened')).toHaveLength(0);
    expect(during.filter((c) => c.kind === 'closed')).toHaveLength(1);
    const after = run(m, 81, 120, (ts) => [track(2, ts, 30_000)]);
    expect(after.filter((c) => c.kind === 'opened')).toHaveLength(1);
  });

  it('applies the rule cooldown after a stay closes', () => {
    const m = new StayManager({ ...base, cooldownSeconds: 60 });
    // Closes at 25 s (5 s grace), quiet until 85 s; the object is back and dwelling from 51 s.
    const changes = run(m, 0, 84, (ts) => (ts < 20_000 || ts > 40_000 ? [track(ts < 20_000 ? 1 : 2, ts, ts < 20_000 ? 0 : 41_000)] : []));
    expect(changes.filter((c) => c.kind === 'opened')).toHaveLength(1);
    expect(run(m, 85, 86, (ts) => [track(2, ts, 41_000)]).filter((c) => c.kind === 'opened')).toHaveLength(1);
  });

  it('with minCount > 1 raises one group candidate only while enough objects dwell together', () => {
    const m = new StayManager({ ...base, minCount: 3 });
    const two = run(m, 0, 20, (ts) => [track(1, ts, 0, 0), track(2, ts, 0, 100)]);
    expect(two).toHaveLength(0);
    const three = run(m, 21, 40, (ts) => [track(1, ts, 0, 0), track(2, ts, 0, 100), track(3, ts, 21_000, 200)]);
    const opened = three.filter((c) => c.kind === 'opened');
    expect(opened).toHaveLength(1);
    expect(opened[0].stay.count).toBe(3);
    expect(opened[0].stay.box).toEqual({ x1: 0, y1: 100, x2: 250, y2: 140 });
  });

  it('reports the score that qualified the stay, not the weak detection that keeps it alive', () => {
    const m = new StayManager(base);
    const weak = (ts: number) => [{ ...track(1, ts, 0), score: 0.2, peakScore: 0.7 }];
    const opened = run(m, 0, 12, weak).find((c) => c.kind === 'opened');
    expect(opened?.stay.score).toBe(0.7);
  });
  it('a group rule with required classes does not open on people alone, and opens once the umbrella is there', () => {
    const m = new StayManager({ ...base, minCount: 2, requireLabels: ['umbrella', 'dining table'] });
    const person = (id: number, ts: number, x: number): Track => ({ ...track(id, ts, 0, x), label: 'person' });
    const people = run(m, 0, 20, (ts) => [person(1, ts, 100), person(2, ts, 200)]);
    expect(people.filter((c) => c.kind === 'opened')).toHaveLength(0);
    const stall = run(m, 21, 40, (ts) => [person(1, ts, 100), person(2, ts, 200), { ...track(3, ts, 21_000, 150), label: 'umbrella' }]);
    expect(stall.filter((c) => c.kind === 'opened')).toHaveLength(1);
  });

  it('raises nothing where a suppression area stands while it is in force, and again once it has expired', () => {
    const m = new StayManager(base);
    m.setAreas([{ box: { x1: 90, y1: 90, x2: 160, y2: 150 }, until: 30_000 }]);
    const here = run(m, 0, 25, (ts) => [track(1, ts, 0, 100), track(2, ts, 0, 400)]);
    expect(here.filter((c) => c.kind === 'opened').map((c) => c.stay.box.x1)).toEqual([400]);
    const later = run(m, 26, 40, (ts) => [track(1, ts, 0, 100), track(2, ts, 0, 400)]);
    expect(later.filter((c) => c.kind === 'opened').map((c) => c.stay.box.x1)).toEqual([100]);
  });
});
