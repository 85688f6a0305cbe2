/**
 * How many wall tiles this PC can decode at full frame rate, measured, not configured. Every window (2 s) the wall
 * feeds in what its players saw (frames decoded and dropped, tiles behind the live edge) and how busy the page's
 * main thread was (long tasks); the budget answers with a frame rate for each tile:
 *   full     the whole stream (25 fps)
 *   reduced  the keyframe-only rendition (1 frame per GOP: 1 fps, 25x less to decode), still at the live edge
 *   still    a snapshot now and then (nothing to decode)
 * Saturated: fewer full tiles (a quarter, or half when far over), then fewer moving tiles. Healthy for a while: still
 * tiles move again first (a quarter of the wall at a time), then one more tile at full rate; a step up that saturates the client again is undone and the next try waits twice as long.
 * Priority tiles (focused, alarm, PTZ) are always full; the rest take the budget in wall order.
 * No DOM here: the wall page does the measuring (useDecodeBudget), the tests drive this directly.
 */
export type TileRate = 'full' | 'reduced' | 'still';

export interface TileSample {
  rate: TileRate;
  /** frames decoded and dropped during the window */
  frames: number;
  dropped: number;
  /** behind the live edge beyond the tile's warning threshold at the end of the window */
  behind: boolean;
  /** the player is up (live); a tile still connecting says nothing about the client */
  playing: boolean;
}

export interface ClientSample {
  /** window length, ms */
  windowMs: number;
  /** fraction of the window the main thread spent in long tasks (0..1), null where it cannot be measured */
  busy: number | null;
  tiles: TileSample[];
}

export interface BudgetOptions {
  /** upper bound on full-rate tiles (WALL_LIVE_BUDGET, or the operator's own setting) */
  maxFull: number;
  /** full-rate tiles to start with (before anything is measured) */
  initialFull: number;
  /** dropped/decoded frames above this: saturated; below `healthyDropped`: healthy */
  saturatedDropped?: number;
  healthyDropped?: number;
  /** main thread busy (long tasks) above this: saturated; below `healthyBusy`: healthy */
  saturatedBusy?: number;
  healthyBusy?: number;
  /** share of the playing tiles behind the live edge that means saturated */
  saturatedBehind?: number;
  /** healthy windows in a row before a step up (doubles after each step up that failed, up to maxProbeWindows) */
  probeWindows?: number;
  maxProbeWindows?: number;
  /** windows after a change in which the change itself is judged (new players starting cost a little) */
  settleWindows?: number;
}

export type Verdict = 'saturated' | 'healthy' | 'steady';

export class DecodeBudget {
  readonly o: Required<BudgetOptions>;
  /** tiles at full rate beyond the priority ones */
  full: number;
  /** tiles that move (full + reduced) beyond the priority ones; Infinity: all */
  moving = Infinity;
  verdict: Verdict = 'steady';
  /** measured over the last window (for the page's data attributes and the bench) */
  droppedRatio = 0;
  busy: number | null = null;
  private healthyRun = 0;
  private probe: number;
  private sinceChange = Infinity;
  /** the last change was a step up: undo it if the next windows saturate */
  private lastStepUp: null | 'full' | 'moving' = null;
  private beforeStepUp = { full: 0, moving: 0 };

  constructor(o: BudgetOptions) {
    this.o = {
      saturatedDropped: 0.08, healthyDropped: 0.02, saturatedBusy: 0.5, healthyBusy: 0.25, saturatedBehind: 0.2,
      probeWindows: 4, maxProbeWindows: 32, settleWindows: 1, ...o,
    };
    this.full = Math.max(0, Math.min(o.maxFull, o.initialFull));
    this.probe = this.o.probeWindows;
  }

  /** Judge one window; true when the budget changed. `others`: the non-priority tiles on the wall now. */
  update(s: ClientSample, others: number): boolean {
    const playing = s.tiles.filter((t) => t.playing);
    const frames = playing.reduce((a, t) => a + t.frames, 0);
    const dropped = playing.reduce((a, t) => a + t.dropped, 0);
    // a handful of frames says nothing about a ratio
    this.droppedRatio = frames >= 20 ? dropped / frames : 0;
    this.busy = s.busy;
    const behind = playing.length ? playing.filter((t) => t.behind).length / playing.length : 0;
    const overloaded = this.droppedRatio > this.o.saturatedDropped || (s.busy ?? 0) > this.o.saturatedBusy;
    // tiles behind live can also be the network or the camera: that alone takes full rate away, never motion
    const lagging = playing.length >= 3 && behind >= this.o.saturatedBehind;
    const saturated = overloaded || lagging;
    const healthy = !saturated && this.droppedRatio < this.o.healthyDropped && (s.busy ?? 0) < this.o.healthyBusy && !playing.some((t) => t.behind);
    this.verdict = saturated ? 'saturated' : healthy ? 'healthy' : 'steady';
    this.sinceChange++;
    const moving = Math.min(this.moving, others);
    const full = Math.min(this.full, moving);

    if (saturated) {
      this.healthyRun = 0;
      // the last step up did this: undo it at once and wait longer before the next try
      if (this.lastStepUp && this.sinceChange <= this.o.settleWindows + 1) {
        this.full = this.beforeStepUp.full;
        this.moving = this.beforeStepUp.moving;
        this.probe = Math.min(this.o.maxProbeWindows, this.probe * 2);
        return this.changed(null);
      }
      // a change just made is still starting players: judge it when they have settled
      if (this.sinceChange <= this.o.settleWindows) return false;
      // far over (a third of the frames dropped, the main thread mostly busy): halve; else a quarter less
      const keep = this.droppedRatio > 0.33 || (s.busy ?? 0) > 0.6 ? 0.5 : 0.75;
      if (full > 0) { this.full = Math.floor(full * keep); return this.changed(null); }
      if (moving > 0 && overloaded) { this.moving = Math.floor(moving * keep); return this.changed(null); }
      return false;
    }
    // a step up that held through its settling windows: the next one may come sooner again
    if (this.lastStepUp && this.sinceChange > this.o.settleWindows + 1) {
      this.lastStepUp = null;
      this.probe = Math.max(this.o.probeWindows, this.probe / 2);
    }
    if (!healthy) { this.healthyRun = 0; return false; }
    this.healthyRun++;
    if (this.healthyRun < this.probe || this.sinceChange <= this.o.settleWindows) return false;
    this.healthyRun = 0;
    this.beforeStepUp = { full, moving };
    // moving first (a still tile is the worst), then full rate
    // a keyframe tile costs little: moving tiles come back a quarter of the wall at a time
    if (moving < others) { const m = moving + Math.max(1, Math.ceil(others / 4)); this.moving = m >= others ? Infinity : m; return this.changed('moving'); }
    if (full < Math.min(this.o.maxFull, others)) { this.full = full + 1; return this.changed('full'); }
    return false;
  }

  private changed(stepUp: null | 'full' | 'moving'): boolean {
    this.lastStepUp = stepUp;
    this.sinceChange = 0;
    return true;
  }

  /**
   * The rate of each tile: `order` lists the tiles with a camera in wall order, `priority` those that are always
   * full (focused, alarm, PTZ).
   */
  assign(order: readonly number[], priority: ReadonlySet<number>): Map<number, TileRate> {
    const out = new Map<number, TileRate>();
    let full = 0;
    let moving = 0;
    for (const i of order) if (priority.has(i)) out.set(i, 'full');
    const fullCap = Math.min(this.full, this.o.maxFull);
    for (const i of order) {
      if (out.has(i)) continue;
      if (moving >= this.moving) { out.set(i, 'still'); continue; }
      moving++;
      if (full < fullCap) { full++; out.set(i, 'full'); } else out.set(i, 'reduced');
    }
    return out;
  }
}

/** Full-rate tiles to start with on this PC: a few per core, before anything is measured. */
export function initialFullTiles(cores: number | undefined, maxFull: number): number {
  return Math.max(1, Math.min(maxFull, Math.round((cores && cores > 0 ? cores : 4) * 2)));
}
