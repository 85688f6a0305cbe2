/**
 * How many wall tiles this PC can decode at full frame rate, measured, not configured. Every window (2 s) the wall
 * feeds in what its players saw (frames decoded and dropped, tiles behind the live edge) and how busy the page's
 * main thread was (long tasks); the budget answers with a frame rate for each tile:
 *   full     the whole stream (25 fps)
 *   reduced  the keyframe-only rendition (1 frame per GOP: 1 fps, 25x less to decode), still at the live edge
 *   still    a snapshot now and then (nothing to decode)
 * Saturated: fewer full tiles (a quarter, or half when far over), then fewer moving tiles. Not saturated for a while:
 * still tiles move again (a quarter of the wall at a time); healthy for a while: one more tile at full rate; a step up that saturates the client again is undone and the next try waits twice as long.
 * Priority tiles (focused, alarm, PTZ) are always full; the rest take the budget in wall order.
 * No DOM here: the wall page does the measuring (useDecodeBudget), the tests drive this directly.
 */
export type TileRate = 'full' | 'reduced' | 'still';

export interface TileSample {
  /** what the tile was given: its player's rendition (full, reduced), or still (no player) */
  rate: TileRate;
  /** frames decoded and dropped during the window */
  frames: number;
  dropped: number;
  /** behind the live edge beyond the tile's warning threshold at the end of the window */
  behind: boolean;
  /** the player is up (live); a tile still connecting says nothing about the client */
  playing: boolean;
  /** focused, alarm or PTZ tile (always full) */
  priority?: boolean;
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
  /** keyframe tiles' dropped/decoded frames above this: stills */
  stillDropped?: number;
  /** windows after the wall's tiles change (a page load, a layout) in which no tile is made still, counted again from
   *  when the last of their players is up (up to maxStartWindows after the change: a dead camera does not hold it) */
  startWindows?: number;
  maxStartWindows?: number;
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
  private busyRun = 0;
  private lastOthers = -1;
  private graceLeft = 0;
  private sinceTiles = 0;
  private calmRun = 0;
  private probe: number;
  private sinceChange = Infinity;
  /** the last change was a step up: undo it if the next windows saturate */
  private lastStepUp: null | 'full' | 'moving' = null;
  private beforeStepUp = { full: 0, moving: 0 };

  constructor(o: BudgetOptions) {
    this.o = {
      saturatedDropped: 0.08, healthyDropped: 0.02, stillDropped: 0.25, saturatedBusy: 0.5, healthyBusy: 0.25, saturatedBehind: 0.2,
      probeWindows: 4, maxProbeWindows: 16, settleWindows: 1, startWindows: 5, maxStartWindows: 20, ...o,
    };
    this.full = Math.max(0, Math.min(o.maxFull, o.initialFull));
    this.probe = this.o.probeWindows;
  }

  /** Judge one window; true when the budget changed. `others`: the non-priority tiles on the wall now. */
  update(s: ClientSample, others: number): boolean {
    const playing = s.tiles.filter((t) => t.playing);
    const ratio = (ts: TileSample[]) => {
      const frames = ts.reduce((a, t) => a + t.frames, 0);
      const dropped = ts.reduce((a, t) => a + t.dropped, 0);
      // a handful of frames (keyframe tiles give 1 a second) or a frame or two dropped says nothing about a ratio
      return frames >= 20 && dropped >= 3 ? dropped / frames : 0;
    };
    this.droppedRatio = ratio(playing);
    // the stepped-down tiles' own frames: a priority tile that cannot keep up is no reason to stop the others moving
    // (a keyframe tile costs 1/25 of a full one); keyframe tiles that drop frames are
    const droppedOthers = ratio(playing.filter((t) => !t.priority));
    this.busy = s.busy;
    const busy = s.busy ?? 0;
    // full-rate tiles behind live: the decoder may not keep up (or the network, the camera): that alone takes full
    // rate away, never motion; keyframe tiles behind say nothing about decoding
    const fullTiles = playing.filter((t) => t.rate === 'full');
    const lagging = fullTiles.length >= 3 && fullTiles.filter((t) => t.behind).length / fullTiles.length >= this.o.saturatedBehind;
    const fullTooMuch = this.droppedRatio > this.o.saturatedDropped || busy > this.o.saturatedBusy || lagging;
    // motion goes only on lasting evidence: keyframe tiles losing a quarter of their frames, or the main thread busy
    // three windows in a row, and never while the wall's tiles have just changed (players starting cost a burst of main-thread work)
    this.busyRun = busy > this.o.saturatedBusy ? this.busyRun + 1 : 0;
    if (others !== this.lastOthers) { this.lastOthers = others; this.graceLeft = this.o.startWindows; this.sinceTiles = 0; }
    else { this.sinceTiles++; if (this.graceLeft > 0) this.graceLeft--; }
    // 64 players starting on a slow PC take longer than the grace: their start-up work says nothing about what the
    // wall costs once it plays, so the grace runs from when the last of them is up
    if (this.sinceTiles < this.o.maxStartWindows && s.tiles.some((t) => !t.priority && t.rate !== 'still' && !t.playing)) this.graceLeft = this.o.startWindows;
    // (a still tile is worse for the operator than a lost keyframe: the bar is higher than for full rate)
    const movingTooMuch = this.graceLeft === 0 && (droppedOthers > this.o.stillDropped || this.busyRun >= 3);
    const healthy = !fullTooMuch && this.droppedRatio < this.o.healthyDropped && busy < this.o.healthyBusy && !fullTiles.some((t) => t.behind);
    this.verdict = fullTooMuch || movingTooMuch ? 'saturated' : healthy ? 'healthy' : 'steady';
    this.sinceChange++;
    const moving = Math.min(this.moving, others);
    const full = Math.min(this.full, moving);
    if (fullTooMuch) this.healthyRun = 0;
    if (movingTooMuch) this.calmRun = 0;

    // the last step up did this: undo it at once and wait longer before the next try
    if (this.lastStepUp && this.sinceChange <= this.o.settleWindows + 1 && (this.lastStepUp === 'full' ? fullTooMuch : movingTooMuch)) {
      // (only full rate backs off: a keyframe tile costs little, and still tiles should not wait long)
      if (this.lastStepUp === 'full') this.probe = Math.min(this.o.maxProbeWindows, this.probe * 2);
      this.full = this.beforeStepUp.full;
      this.moving = this.beforeStepUp.moving;
      return this.changed(null);
    }
    // a step up that held through its settling windows: the next one may come sooner again
    if (this.lastStepUp && this.sinceChange > this.o.settleWindows + 1) {
      this.lastStepUp = null;
      this.probe = Math.max(this.o.probeWindows, this.probe / 2);
    }
    // a change just made is still starting players: judge it when they have settled
    if (this.sinceChange <= this.o.settleWindows) return false;
    // far over (a third of the frames dropped, the main thread mostly busy): halve; else a quarter less
    const keep = this.droppedRatio > 0.33 || busy > 0.6 ? 0.5 : 0.75;
    if (fullTooMuch && full > 0) { this.full = Math.floor(full * keep); return this.changed(null); }
    if (movingTooMuch && full === 0 && moving > 0) { this.moving = Math.floor(moving * keep); return this.changed(null); }

    // still tiles move again as soon as the stepped-down tiles keep up (a keyframe tile costs little); full rate
    // comes back only while the whole client is healthy
    if (!movingTooMuch) this.calmRun++;
    if (healthy) this.healthyRun++; else this.healthyRun = 0;
    if (moving < others) {
      if (movingTooMuch || this.calmRun < this.o.probeWindows) return false;
      this.calmRun = 0;
      this.beforeStepUp = { full, moving };
      // a quarter of the wall at a time
      const m = moving + Math.max(1, Math.ceil(others / 4));
      this.moving = m >= others ? Infinity : m;
      return this.changed('moving');
    }
    if (this.healthyRun < this.probe) return false;
    this.healthyRun = 0;
    if (full < Math.min(this.o.maxFull, others)) {
      this.beforeStepUp = { full, moving };
      this.full = full + 1;
      return this.changed('full');
    }
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
