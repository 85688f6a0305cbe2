/**
 * The keyframe-only rendition of a camera stream: every keyframe of the session's stream, cut out of the fragments
 * the session already has (keyframe-cut.ts: no decode, no transcode), each one a one-frame LL-HLS part in a window
 * of its own (a second LlhlsMuxer, URIs prefixed `kf-`). With the simulator's and most cameras' 1 s GOP that is
 * 1 frame/s: a wall tile that plays it decodes 25x less than the full stream and still sits at the live edge.
 *
 * A frame lasts until the next keyframe, which has not arrived when the frame is published: its duration is the
 * last keyframe interval seen (the camera's GOP), which is exact for a constant GOP.
 */
import type { Fragment, InitSegment } from './fmp4.js';
import { keyframeFragment } from './keyframe-cut.js';
import { LlhlsMuxer, type Part } from './llhls-muxer.js';

export const KEYFRAME_PREFIX = 'kf-';
/** a keyframe interval outside this range (s) is not a GOP (a restart, a pause): the last good one is kept */
const GOP_RANGE = [0.1, 10] as const;

export class KeyframeRendition {
  readonly muxer: LlhlsMuxer;
  private init?: InitSegment;
  private lastKeyframeDts?: number;
  private gopS: number;

  constructor(opts: { firstMsn: number; gopS?: number }) {
    this.gopS = opts.gopS && opts.gopS >= GOP_RANGE[0] && opts.gopS <= GOP_RANGE[1] ? opts.gopS : 1;
    // one keyframe per part and per segment: PART-TARGET and TARGETDURATION follow the GOP (raised by the muxer)
    this.muxer = new LlhlsMuxer({ firstMsn: opts.firstMsn, partTargetS: this.gopS, minSegmentS: Math.min(1, this.gopS), windowSegments: 12, maxBytes: 8 * 1024 * 1024, uriPrefix: KEYFRAME_PREFIX });
  }

  /**
   * Starts the window from the keyframes the full stream still holds (oldest first), so a player finds a playlist
   * with complete segments at once instead of waiting for the next keyframe.
   */
  seed(init: InitSegment | undefined, keyframes: Part[]): void {
    if (!init) return;
    this.setInit(init);
    for (let i = 0; i < keyframes.length; i++) {
      const next = keyframes[i + 1];
      const gap = next ? next.decodeTime - keyframes[i].decodeTime : this.gopS;
      if (gap >= GOP_RANGE[0] && gap <= GOP_RANGE[1]) this.gopS = gap;
      this.push(keyframes[i].data, keyframes[i].decodeTime, keyframes[i].availableAt, this.gopS);
    }
  }

  setInit(init: InitSegment): void {
    this.init = init;
    this.lastKeyframeDts = undefined;
    this.muxer.setInit(init);
  }

  /** A fragment of the full stream: kept when it starts with a keyframe. */
  onFragment(f: Fragment, now = Date.now()): void {
    if (!f.independent || !this.init) return;
    const t = f.baseDecodeTime / (f.timescale || 1);
    if (this.lastKeyframeDts !== undefined) {
      const gap = t - this.lastKeyframeDts;
      if (gap >= GOP_RANGE[0] && gap <= GOP_RANGE[1]) this.gopS = gap;
    }
    this.push(f.data, t, now, this.gopS);
  }

  private push(data: Buffer, decodeTimeS: number, at: number, durationS: number): void {
    if (!this.init) return;
    const kf = keyframeFragment(data, this.init.track, durationS);
    if (!kf) return;
    this.lastKeyframeDts = decodeTimeS;
    this.muxer.pushFragment(kf, at);
  }

  endOfStream(): void {
    this.lastKeyframeDts = undefined;
    this.muxer.endOfStream();
  }

  close(): void {
    this.muxer.close();
  }
}
