import { iou, type Box, type Detection } from './types.js';

export interface TrackerOptions {
  /** Detections at or above this score can start tracks (ByteTrack's high bucket). */
  highScore: number;
  /** Minimum IoU to associate a detection with a track. */
  matchIou: number;
  /** A track survives this long unseen (occlusion by passers-by), in seconds of video time. */
  maxAgeSeconds: number;
  /** The centre may wander this fraction of sqrt(box area) and still count as not moving (box jitter). */
  stationaryTolerance: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  highScore: 0.45,
  matchIou: 0.3,
  maxAgeSeconds: 10,
  stationaryTolerance: 0.25,
};

export interface Track {
  id: number;
  box: Box;
  /** Score of the latest detection (a weak one may extend the track). */
  score: number;
  /** Best score over the track's life: at least highScore, since only confident detections start tracks. */
  peakScore: number;
  /** Most confident label so far (a van flickers between car and truck). */
  label: string;
  firstSeen: number;
  lastSeen: number;
  /** Since when the centre has stayed within the tolerance of its anchor (ms). */
  stationarySince: number;
  hits: number;
}

interface TrackState extends Track {
  anchorX: number;
  anchorY: number;
  labelScores: Map<string, number>;
}

/**
 * IoU tracker with ByteTrack's two-stage association: confident detections first, then weak ones may only
 * extend existing tracks (a half-occluded parked car keeps its id instead of spawning a new one).
 * Times are frame timestamps in ms, never wall time.
 */
export class IouTracker {
  private readonly tracks: TrackState[] = [];
  private nextId = 1;
  private lastObserved = -Infinity;

  constructor(private readonly opts: TrackerOptions = DEFAULT_TRACKER_OPTIONS) {}

  update(dets: Detection[], ts: number): Track[] {
    const high = dets.filter((d) => d.score >= this.opts.highScore);
    const low = dets.filter((d) => d.score < this.opts.highScore);
    const unmatched = new Set(this.tracks);
    const leftoverHigh = this.associate(high, unmatched, ts);
    this.associate(low, unmatched, ts);
    for (const d of leftoverHigh) {
      const cx = (d.box.x1 + d.box.x2) / 2;
      const cy = (d.box.y1 + d.box.y2) / 2;
      this.tracks.push({
        id: this.nextId++,
        box: d.box,
        score: d.score,
        peakScore: d.score,
        label: d.label,
        firstSeen: ts,
        lastSeen: ts,
        stationarySince: ts,
        hits: 1,
        anchorX: cx,
        anchorY: cy,
        labelScores: new Map([[d.label, d.score]]),
      });
    }
    this.expire(ts);
    this.lastObserved = ts;
    return this.active();
  }

  /**
   * The frame was skipped as unchanged (motion gate): what was seen at the last observation is taken as
   * still there; what was already missing stays missing (and ages out as usual).
   */
  hold(ts: number): Track[] {
    for (const t of this.tracks) if (t.lastSeen === this.lastObserved) t.lastSeen = ts;
    this.lastObserved = ts;
    this.expire(ts);
    return this.active();
  }

  active(): Track[] {
    return this.tracks.map(({ anchorX: _x, anchorY: _y, labelScores: _l, ...t }) => ({ ...t }));
  }

  private associate(dets: Detection[], open: Set<TrackState>, ts: number): Detection[] {
    const pairs: { t: TrackState; d: number; v: number }[] = [];
    for (const t of open) {
      dets.forEach((d, i) => {
        const v = iou(t.box, d.box);
        if (v >= this.opts.matchIou) pairs.push({ t, d: i, v });
      });
    }
    pairs.sort((a, b) => b.v - a.v);
    const usedDets = new Set<number>();
    for (const p of pairs) {
      if (!open.has(p.t) || usedDets.has(p.d)) continue;
      open.delete(p.t);
      usedDets.add(p.d);
      this.apply(p.t, dets[p.d], ts);
    }
    return dets.filter((_, i) => !usedDets.has(i));
  }

  private apply(t: TrackState, d: Detection, ts: number): void {
    t.box = d.box;
    t.score = d.score;
    t.peakScore = Math.max(t.peakScore, d.score);
    t.lastSeen = ts;
    t.hits++;
    t.labelScores.set(d.label, (t.labelScores.get(d.label) ?? 0) + d.score);
    let bestScore = -1;
    for (const [label, s] of t.labelScores) {
      if (s > bestScore) {
        bestScore = s;
        t.label = label;
      }
    }
    const cx = (d.box.x1 + d.box.x2) / 2;
    const cy = (d.box.y1 + d.box.y2) / 2;
    const size = Math.sqrt(Math.max(1, (d.box.x2 - d.box.x1) * (d.box.y2 - d.box.y1)));
    if (Math.hypot(cx - t.anchorX, cy - t.anchorY) > this.opts.stationaryTolerance * size) {
      t.anchorX = cx;
      t.anchorY = cy;
      t.stationarySince = ts;
    }
  }

  private expire(ts: number): void {
    const maxAge = this.opts.maxAgeSeconds * 1000;
    for (let i = this.tracks.length - 1; i >= 0; i--) if (ts - this.tracks[i].lastSeen > maxAge) this.tracks.splice(i, 1);
  }
}
