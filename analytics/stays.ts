import { randomUUID } from 'node:crypto';
import { iou, type Box } from './types.js';
import type { Track } from './tracker.js';

export interface StayOptions {
  minDwellSeconds: number;
  minCount: number;
  cooldownSeconds: number;
  /** A stay closes once nothing has refreshed it for this long (seconds of video time). */
  graceSeconds: number;
  /** Overlap with a stay's box that counts as "the same place". */
  regionIou: number;
  /** Emit 'updated' at most this often while a stay lasts. */
  updateEverySeconds: number;
  /** A stay opens only with at least one member of these labels (empty: any). */
  requireLabels?: readonly string[];
}

export interface Stay {
  id: string;
  /** Box when the stay opened (frame pixels): the place the stay is about. */
  anchorBox: Box;
  /** Latest box (union of members for group rules). */
  box: Box;
  label: string;
  score: number;
  count: number;
  trackIds: number[];
  firstSeen: number;
  openedAt: number;
  lastSeen: number;
  closedAt: number | null;
  /** Rejected by a reviewer: still followed until it clears, but no longer reported as updated. */
  suppressed: boolean;
}

export type StayChange = { kind: 'opened' | 'updated' | 'closed'; stay: Stay };

interface Quiet {
  until: number;
  region: Box | null;
}

/** A standing suppression region (frame pixels): a spot reviewers said is not an event (until: ms, null = for good). */
export interface SuppressionArea {
  box: Box;
  until: number | null;
}

/**
 * Candidate lifecycle of one rule: a stationary object (or, with minCount > 1, a group) that has dwelt long
 * enough opens ONE stay, refreshes it while it remains, and closes it after graceSeconds without it. Places
 * are matched by overlap, not only by track id, so an object that loses its track behind passers-by and
 * comes back is the same stay; cooldown and reviewer rejection keep a place quiet for a while.
 */
export class StayManager {
  private readonly open: (Stay & { lastEmitted: number })[] = [];
  private readonly quiet: Quiet[] = [];
  private areas: SuppressionArea[] = [];

  constructor(private opts: StayOptions) {}

  /**
   * Replaces the standing suppression regions (learnt from reviews, edited on the rule page). A stay whose place
   * lies in one raises nothing; open stays there stop being reported.
   */
  setAreas(areas: SuppressionArea[]): void {
    this.areas = areas.map((a) => ({ box: { ...a.box }, until: a.until }));
    for (const s of this.open) if (this.inArea(s.anchorBox, s.lastSeen)) s.suppressed = true;
  }

  reconfigure(opts: StayOptions): void {
    this.opts = opts;
  }

  /** Tracks must already be filtered to the rule (zone, classes, score, area). */
  update(tracks: Track[], ts: number): StayChange[] {
    const changes: StayChange[] = [];
    const dwellMs = this.opts.minDwellSeconds * 1000;
    const dwelling = tracks.filter((t) => ts - t.stationarySince >= dwellMs && t.lastSeen === ts);
    this.pruneQuiet(ts);

    if (this.opts.minCount <= 1) {
      const used = new Set<number>();
      for (const stay of this.open) {
        // Whatever track now stands where the stay began continues it (ids change behind passers-by).
        const here = tracks.filter((t) => t.lastSeen === ts && !used.has(t.id) && iou(stay.anchorBox, t.box) >= this.opts.regionIou);
        if (!here.length) continue;
        const best = here.reduce((a, b) => (b.peakScore > a.peakScore ? b : a));
        used.add(best.id);
        this.refresh(stay, [best], ts, changes);
      }
      for (const t of dwelling) {
        if (used.has(t.id) || !this.required([t]) || this.overlapsOpen(t.box) || this.isQuiet(t.box, ts)) continue;
        used.add(t.id);
        changes.push({ kind: 'opened', stay: this.start([t], ts) });
      }
    } else {
      const stay = this.open[0];
      if (dwelling.length >= this.opts.minCount) {
        if (stay) this.refresh(stay, dwelling, ts, changes);
        else if (this.required(dwelling) && !this.isQuiet(union(dwelling.map((t) => t.box)), ts)) changes.push({ kind: 'opened', stay: this.start(dwelling, ts) });
      }
    }

    for (let i = this.open.length - 1; i >= 0; i--) {
      const stay = this.open[i];
      if (ts - stay.lastSeen > this.opts.graceSeconds * 1000) {
        this.open.splice(i, 1);
        stay.closedAt = ts;
        this.quiet.push({ until: ts + this.opts.cooldownSeconds * 1000, region: stay.anchorBox });
        changes.push({ kind: 'closed', stay: snapshot(stay) });
      }
    }
    return changes;
  }

  /**
   * No new stay in `region` (frame pixels; the whole rule when null) before `until` (ms). Open stays there
   * are marked suppressed: a rejected candidate is not reported again while it lasts.
   */
  suppress(until: number, region: Box | null = null): void {
    this.quiet.push({ until, region });
    for (const s of this.open) if (!region || iou(region, s.anchorBox) >= this.opts.regionIou) s.suppressed = true;
  }

  /** Open stays, newest last. */
  current(): Stay[] {
    return this.open.map(snapshot);
  }

  /** Closes everything (rule removed or disabled). */
  closeAll(ts: number): StayChange[] {
    return this.open.splice(0).map((s) => ({ kind: 'closed' as const, stay: snapshot({ ...s, closedAt: ts }) }));
  }

  private start(members: Track[], ts: number): Stay {
    const box = union(members.map((t) => t.box));
    // peak, not latest: a weak detection that keeps a track alive must not report less than the rule asked for
    const best = members.reduce((a, b) => (b.peakScore > a.peakScore ? b : a));
    const stay = {
      id: randomUUID(),
      anchorBox: box,
      box,
      label: best.label,
      score: best.peakScore,
      count: members.length,
      trackIds: members.map((t) => t.id),
      firstSeen: Math.min(...members.map((t) => t.stationarySince)),
      openedAt: ts,
      lastSeen: ts,
      closedAt: null,
      suppressed: false,
      lastEmitted: ts,
    };
    this.open.push(stay);
    return snapshot(stay);
  }

  private refresh(stay: Stay & { lastEmitted: number }, members: Track[], ts: number, changes: StayChange[]): void {
    const best = members.reduce((a, b) => (b.peakScore > a.peakScore ? b : a));
    const scoreRose = best.peakScore > stay.score + 0.05;
    stay.box = union(members.map((t) => t.box));
    stay.lastSeen = ts;
    stay.count = members.length;
    stay.score = Math.max(stay.score, best.peakScore);
    if (this.opts.minCount <= 1) stay.label = best.label;
    for (const t of members) if (!stay.trackIds.includes(t.id)) stay.trackIds.push(t.id);
    if (!stay.suppressed && (scoreRose || ts - stay.lastEmitted >= this.opts.updateEverySeconds * 1000)) {
      stay.lastEmitted = ts;
      changes.push({ kind: 'updated', stay: snapshot(stay) });
    }
  }

  private required(members: Track[]): boolean {
    const need = this.opts.requireLabels;
    return !need?.length || members.some((t) => need.includes(t.label));
  }

  private overlapsOpen(box: Box): boolean {
    return this.open.some((s) => iou(s.anchorBox, box) >= this.opts.regionIou);
  }

  private isQuiet(box: Box, ts: number): boolean {
    return this.inArea(box, ts) || this.quiet.some((q) => ts < q.until && (!q.region || iou(q.region, box) >= this.opts.regionIou));
  }

  /** Where the object stands (bottom centre, as zones judge it) is inside a region in force, or the boxes overlap enough. */
  private inArea(box: Box, ts: number): boolean {
    const cx = (box.x1 + box.x2) / 2;
    const foot = box.y2 - 0.02 * (box.y2 - box.y1);
    return this.areas.some(
      (a) => (a.until === null || ts < a.until) && ((cx >= a.box.x1 && cx <= a.box.x2 && foot >= a.box.y1 && foot <= a.box.y2) || iou(a.box, box) >= this.opts.regionIou),
    );
  }

  private pruneQuiet(ts: number): void {
    for (let i = this.quiet.length - 1; i >= 0; i--) if (this.quiet[i].until <= ts) this.quiet.splice(i, 1);
  }
}

function snapshot(s: Stay & { lastEmitted?: number }): Stay {
  const { lastEmitted: _e, ...rest } = s;
  return { ...rest, box: { ...rest.box }, anchorBox: { ...rest.anchorBox }, trackIds: [...rest.trackIds] };
}

export function union(boxes: Box[]): Box {
  return boxes.reduce((a, b) => ({ x1: Math.min(a.x1, b.x1), y1: Math.min(a.y1, b.y1), x2: Math.max(a.x2, b.x2), y2: Math.max(a.y2, b.y2) }));
}
