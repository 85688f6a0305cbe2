/** LL-HLS media playlist text (RFC 8216bis): pure rendering from a window snapshot. */

export interface PlaylistPart {
  uri: string;
  duration: number;
  independent: boolean;
}

export interface PlaylistSegment {
  msn: number;
  uri: string;
  duration: number;
  initUri: string;
  /** EXT-X-DISCONTINUITY before this segment */
  discontinuity: boolean;
  /** wall-clock time of the segment's first sample, ms since the epoch */
  programDateTime: number;
  /** parts to list (LL-HLS); empty for old segments */
  parts: PlaylistPart[];
}

export interface PlaylistInput {
  targetDuration: number;
  partTarget: number;
  mediaSequence: number;
  discontinuitySequence: number;
  /** complete segments, oldest first */
  segments: PlaylistSegment[];
  /** the segment being built: parts only, no EXTINF yet */
  open?: { msn: number; initUri: string; discontinuity: boolean; programDateTime: number; parts: PlaylistPart[] };
  preloadHintUri?: string;
  /** every listed segment starts with a keyframe (EXT-X-INDEPENDENT-SEGMENTS) */
  independentSegments?: boolean;
  /** advertise delta updates (EXT-X-SKIP) for segments older than this many seconds from the end */
  canSkipUntil?: number;
  /** number of leading segments to replace by EXT-X-SKIP (delta update); 0 or undefined: full playlist */
  skipSegments?: number;
}

const fmt = (n: number): string => n.toFixed(5).replace(/0{1,2}$/, '');

export function renderPlaylist(p: PlaylistInput): string {
  const partHoldBack = 3 * p.partTarget;
  const control = [`CAN-BLOCK-RELOAD=YES`, `PART-HOLD-BACK=${fmt(partHoldBack)}`];
  if (p.canSkipUntil) control.push(`CAN-SKIP-UNTIL=${fmt(p.canSkipUntil)}`);
  const out: string[] = [
    '#EXTM3U',
    `#EXT-X-VERSION:${p.canSkipUntil ? 9 : 6}`,
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
    `#EXT-X-SERVER-CONTROL:${control.join(',')}`,
    `#EXT-X-PART-INF:PART-TARGET=${fmt(p.partTarget)}`,
    `#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}`,
  ];
  if (p.discontinuitySequence) out.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  if (p.independentSegments) out.push('#EXT-X-INDEPENDENT-SEGMENTS');
  const skip = Math.min(p.skipSegments ?? 0, p.segments.length);
  if (skip > 0) out.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skip}`);
  let map: string | undefined;
  const emit = (seg: { initUri: string; discontinuity: boolean; programDateTime: number }): void => {
    if (seg.discontinuity) out.push('#EXT-X-DISCONTINUITY');
    if (seg.initUri !== map) {
      out.push(`#EXT-X-MAP:URI="${seg.initUri}"`);
      map = seg.initUri;
    }
    out.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(seg.programDateTime).toISOString()}`);
  };
  const parts = (list: PlaylistPart[]): void => {
    for (const part of list)
      out.push(`#EXT-X-PART:DURATION=${fmt(part.duration)},URI="${part.uri}"${part.independent ? ',INDEPENDENT=YES' : ''}`);
  };
  for (const seg of p.segments.slice(skip)) {
    emit(seg);
    parts(seg.parts);
    out.push(`#EXTINF:${fmt(seg.duration)},`, seg.uri);
  }
  if (p.open && p.open.parts.length) {
    emit(p.open);
    parts(p.open.parts);
  }
  if (p.preloadHintUri) out.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${p.preloadHintUri}"`);
  return out.join('\n') + '\n';
}
