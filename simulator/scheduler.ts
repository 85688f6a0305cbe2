/**
 * One timer for the whole fleet: it wakes at the earliest frame due on any stream that has viewers and
 * lets each stream send what is due. Streams without viewers are not scheduled at all.
 */
export interface Pumpable {
  /** Send everything due at `now`; return the wall time (ms) at which the next frame is due. */
  pump(now: number): number;
}

export class Scheduler {
  private readonly active = new Set<Pumpable>();
  private timer: NodeJS.Timeout | undefined;
  private nextAt = Infinity;
  private stopped = false;

  activate(p: Pumpable): void {
    if (this.stopped) return;
    this.active.add(p);
    this.arm(Date.now());
  }

  deactivate(p: Pumpable): void {
    this.active.delete(p);
    if (this.active.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.nextAt = Infinity;
    }
  }

  get activeCount(): number {
    return this.active.size;
  }

  private arm(at: number): void {
    if (this.stopped || (this.timer && at >= this.nextAt)) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextAt = at;
    this.timer = setTimeout(() => this.run(), Math.max(0, at - Date.now()));
  }

  private run(): void {
    this.timer = undefined;
    this.nextAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const p of this.active) {
      const due = p.pump(now);
      if (due < next) next = due;
    }
    // Never spin: at least 1 ms between wake-ups even when a stream is behind.
    if (next !== Infinity && this.active.size > 0) this.arm(Math.max(next, now + 1));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.active.clear();
  }
}
