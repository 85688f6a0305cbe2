/**
 * VOD HLS (fMP4) for a camera and a time range, built from the segment index alone (plus the open file's GOPs on
 * the node writing it). The playlist's timeline is the wall clock: media time 0 is `timelineStartMs`, a hole in the
 * recording is a run of EXT-X-GAP segments of its length (players skip them; the timeline keeps the hole), and each
 * new file starts with EXT-X-DISCONTINUITY, its own EXT-X-MAP and EXT-X-PROGRAM-DATE-TIME. Media URIs name byte
 * ranges of the files by GOP index (s<id>_<g0>_<g1>.m4s) so nothing but the index is needed to serve them.
 * Keyframes-only playlists (rates above 4x) list k<id>_<g0>_<g1>.m4s: one keyframe per GOP, lasting the GOP.
 */
import type { GopTuple } from './segment-file.js';

export interface PlaylistFile {
  id: number;
  startMs: number;
  initBytes: number;
  gops: GopTuple[];
  /** absolute base URL for its media when another node holds it ('' = same place as the playlist) */
  base: string;
  available: boolean;
}

export interface BuiltPlaylist {
  text: string;
  /** wall-clock ms at media time 0 */
  timelineStartMs: number;
  /** media seconds where the requested start lies */
  startOffsetS: number;
  durationS: number;
  /** recorded pieces within the range (for the console's seek arithmetic) */
  pieces: Array<{ fromMs: number; toMs: number }>;
}

const GAP_CHUNK_MS = 10_000;

export function buildVodPlaylist(files: PlaylistFile[], fromMs: number, toMs: number, o: { keyframesOnly?: boolean; targetSegmentMs?: number } = {}): BuiltPlaylist {
  const target = o.targetSegmentMs ?? (o.keyframesOnly ? 8000 : 4000);
  type Seg = { kind: 'media'; file: PlaylistFile; g0: number; g1: number; startMs: number; durMs: number } | { kind: 'gap'; startMs: number; durMs: number };
  const segs: Seg[] = [];
  const pieces: Array<{ fromMs: number; toMs: number }> = [];
  for (const f of files.slice().sort((a, b) => a.startMs - b.startMs)) {
    if (!f.available) continue;
    let open: Extract<Seg, { kind: 'media' }> | undefined;
    for (let i = 0; i < f.gops.length; i++) {
      const [, ms, dur] = f.gops[i];
      const s = f.startMs + ms;
      const e = s + dur;
      if (e <= fromMs || s >= toMs || dur <= 0) { open = undefined; continue; }
      if (open && open.g1 === i - 1 && open.durMs < target) {
        open.g1 = i;
        open.durMs = e - open.startMs;
      } else {
        open = { kind: 'media', file: f, g0: i, g1: i, startMs: s, durMs: dur };
        segs.push(open);
      }
    }
  }
  segs.sort((a, b) => a.startMs - b.startMs);
  // overlapping files (two streams, a restart) would break the wall-clock timeline: later pieces start after earlier ones
  const media: Seg[] = [];
  let end = -Infinity;
  for (const s of segs) {
    if (s.startMs < end - 200) continue;
    media.push(s);
    end = s.startMs + s.durMs;
  }
  // the timeline starts with the first recorded GOP of the range (the one holding `from`, or the first after it)
  const timelineStartMs = media.length ? media[0].startMs : fromMs;
  const out: Seg[] = [];
  let cursor = timelineStartMs;
  const gap = (until: number) => {
    while (until - cursor > 50) {
      const d = Math.min(GAP_CHUNK_MS, until - cursor);
      out.push({ kind: 'gap', startMs: cursor, durMs: d });
      cursor += d;
    }
  };
  for (const s of media) {
    gap(s.startMs);
    out.push(s);
    cursor = s.startMs + s.durMs;
    const last = pieces[pieces.length - 1];
    if (last && s.startMs - last.toMs <= 50) last.toMs = cursor;
    else pieces.push({ fromMs: s.startMs, toMs: cursor });
  }
  if (media.length) gap(Math.min(toMs, Date.now()));
  const lines: string[] = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const td = Math.max(1, ...out.map((s) => Math.ceil(s.durMs / 1000)));
  lines.push(`#EXT-X-TARGETDURATION:${td}`, '#EXT-X-MEDIA-SEQUENCE:0');
  const startOffsetS = Math.max(0, (fromMs - timelineStartMs) / 1000);
  lines.push(`#EXT-X-START:TIME-OFFSET=${startOffsetS.toFixed(3)},PRECISE=YES`);
  let prevFile: PlaylistFile | undefined;
  let prevEnd: number | undefined;
  let lastMap: string | undefined;
  for (const s of out) {
    if (s.kind === 'gap') {
      // a gap needs a map and a URI too; players never load it
      if (!lastMap && media.length) {
        const f = (media[0] as Extract<Seg, { kind: 'media' }>).file;
        lastMap = `${f.base}i${f.id}.mp4`;
        lines.push(`#EXT-X-MAP:URI="${lastMap}"`);
      }
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.startMs).toISOString()}`, '#EXT-X-GAP', `#EXTINF:${(s.durMs / 1000).toFixed(3)},`, 'gap.m4s');
      prevFile = undefined;
      continue;
    }
    const newFile = s.file !== prevFile || prevEnd === undefined || Math.abs(s.startMs - prevEnd) > 50;
    if (newFile) {
      if (lines.some((l) => l.startsWith('#EXTINF'))) lines.push('#EXT-X-DISCONTINUITY');
      const map = `${s.file.base}i${s.file.id}.mp4`;
      lines.push(`#EXT-X-MAP:URI="${map}"`);
      lastMap = map;
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.startMs).toISOString()}`);
    }
    lines.push(`#EXTINF:${(s.durMs / 1000).toFixed(3)},`, `${s.file.base}${o.keyframesOnly ? 'k' : 's'}${s.file.id}_${s.g0}_${s.g1}.m4s`);
    prevFile = s.file;
    prevEnd = s.startMs + s.durMs;
  }
  lines.push('#EXT-X-ENDLIST', '');
  const durationS = out.reduce((a, s) => a + s.durMs, 0) / 1000;
  return { text: lines.join('\n'), timelineStartMs, startOffsetS, durationS, pieces };
}

/** Byte range [start, end) of GOPs g0..g1 of a file whose total size is `fileBytes`. */
export function gopRange(gops: GopTuple[], g0: number, g1: number, fileBytes: number): [number, number] | undefined {
  if (g0 < 0 || g1 < g0 || g1 >= gops.length) return undefined;
  const start = gops[g0][0];
  const end = g1 + 1 < gops.length ? gops[g1 + 1][0] : fileBytes;
  return end > start ? [start, end] : undefined;
}
