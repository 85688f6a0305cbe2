import { useEffect, useRef } from 'react';
import Hls, { type ErrorData, type HlsConfig } from 'hls.js';
import { ApiError } from '../api';
import { CannotPlayError, chooseSource, type SourceChoice, type Via } from './codec-choice';
import type { StreamKind } from './types';

/**
 * hls.js tuned for a live wall: LL-HLS (parts, blocking reload), a short back buffer and a small forward
 * buffer so that 64 players stay within a bounded heap. The target latency is the playlist's PART-HOLD-BACK
 * (3 parts, ≈ 0.6 s); a tile that drifts behind catches up by playback rate (hls.js, while it is within a target
 * duration of the target) and else jumps to the live edge (this player, well before it is seconds behind).
 */
export const HLS_CONFIG: Partial<HlsConfig> = {
  lowLatencyMode: true,
  enableWorker: true,
  backBufferLength: 4,
  maxBufferLength: 4,
  maxMaxBufferLength: 8,
  maxBufferSize: 8 * 1000 * 1000,
  // no liveSyncDuration(Count) nor liveMaxLatency*: setting one makes hls.js ignore the playlist's PART-HOLD-BACK
  // (≈ 3 parts) and sit whole segments behind; the jump to the edge is this player's (see LIVE_SYNC)
  maxLiveSyncPlaybackRate: 1.5,
  // a stall moves hls.js's target back by this much (default 1 s = a whole segment: seconds behind after a few)
  liveSyncOnStallIncrease: 0.1,
  startFragPrefetch: true,
  // our own loop restarts a dead player with backoff; hls.js retries a little first
  manifestLoadPolicy: { default: { maxTimeToFirstByteMs: 15_000, maxLoadTimeMs: 20_000, timeoutRetry: { maxNumRetry: 1, retryDelayMs: 500, maxRetryDelayMs: 1000 }, errorRetry: { maxNumRetry: 1, retryDelayMs: 1000, maxRetryDelayMs: 2000 } } },
};

/**
 * The keyframe-only rendition: one frame per GOP (1 s), each a one-frame part. Its PART-HOLD-BACK (3 parts = 3 s)
 * would put the tile 3 s behind; hls.js measures latency from the end of the last part, which lasts until the next
 * keyframe, so a target of one part plus a little margin puts the playhead where the next keyframe starts just as it
 * arrives: each keyframe is on screen at once. One that comes late holds the playhead at the end of the last
 * frame (still on screen) and plays the moment it is appended; hls.js raises its target by liveSyncOnStallIncrease
 * only for a wait it reports as a stall.
 */
export const KEYFRAME_HLS_CONFIG: Partial<HlsConfig> = {
  ...HLS_CONFIG,
  // one part (the 1 s GOP of the simulator and most cameras) + 0.1 s for the next keyframe to arrive
  liveSyncDuration: 1.1,
  maxLiveSyncPlaybackRate: 1.25,
  // one small fMP4 part a second needs no remuxing thread: 64 tiles would start 64 workers for it
  enableWorker: false,
  backBufferLength: 3,
  maxBufferLength: 3,
  maxMaxBufferLength: 4,
  maxBufferSize: 2 * 1000 * 1000,
};

/**
 * The main stream (a focused tile: the one the operator is looking at): two parts (0.4 s) behind the newest instead
 * of PART-HOLD-BACK's three. A stall moves the target back by liveSyncOnStallIncrease, so a PC that cannot hold it
 * settles a little further back instead of stalling again.
 */
export const MAIN_HLS_CONFIG: Partial<HlsConfig> = { ...HLS_CONFIG, liveSyncDuration: 0.4 };

export type Rendition = 'full' | 'keyframes';

/**
 * When a tile jumps back to the live edge: hls.js latency (s, from the playlist's end) beyond `jumpS` for
 * `holdMs`, at most once per `cooldownMs`. The keyframe rendition's latency includes the last frame's own
 * second (see KEYFRAME_HLS_CONFIG), hence its larger figures. `warnS`: the tile says it is behind.
 */
export const LIVE_SYNC: Record<Rendition, { jumpS: number; warnS: number; holdMs: number; cooldownMs: number; edgeOffsetS: number }> = {
  full: { jumpS: 2, warnS: 1.5, holdMs: 1000, cooldownMs: 5000, edgeOffsetS: 0 },
  keyframes: { jumpS: 3, warnS: 2.5, holdMs: 1000, cooldownMs: 5000, edgeOffsetS: 1 },
};

export type PlayerPhase = 'connecting' | 'live' | 'stalled' | 'error';
export interface PlayerStatus {
  phase: PlayerPhase;
  reason: string | null;
  /** the server refused for a reason that retrying will not fix soon (no such camera, no stream URL, no access) */
  fatal?: boolean;
  /** this browser cannot play the stream's codec and the server cannot transcode it now (codec-choice.ts) */
  unsupported?: boolean;
}

/** Written by the player twice a second; read by the tile's hover panel, the wall's decode budget, the tests and the bench. */
export interface PlayerStats {
  /** seconds behind the newest frame the relay has (hls.js latency less the keyframe rendition's last frame) */
  latencyS: number | null;
  bitrateKbps: number | null;
  width: number;
  height: number;
  /** getVideoPlaybackQuality(): frames decoded since this player started */
  totalFrames: number;
  /**
   * Frames decoded that never became the picture: on a keyframe tile decoded less presented (presentedFrames), else
   * getVideoPlaybackQuality's dropped count. Chromium counts a frame as dropped when nothing fetched it for painting
   * before the next one replaced it, which on a 1 fps keyframe tile is most frames although each was the picture for
   * its second (bench/kf-probe.ts shows it): that count is no measure of decoding there.
   */
  droppedFrames: number;
  /** keyframe tiles: frames that became the element's picture (requestVideoFrameCallback's presentedFrames); else null */
  presentedFrames: number | null;
  stalls: number;
  restarts: number;
  /** jumps back to the live edge after drifting too far behind */
  resyncs: number;
  rendition: Rendition;
  /** media seconds played (currentTime progress) since this player started: frames / media second = frame rate */
  playedS: number;
  /** behind the live edge by more than the warning threshold now */
  behind: boolean;
  /** what plays: the stream itself, the camera's sub stream (codec not playable here), or the server's H.264 transcode */
  via?: Via;
}

export function emptyStats(rendition: Rendition = 'full'): PlayerStats {
  return { latencyS: null, bitrateKbps: null, width: 0, height: 0, totalFrames: 0, droppedFrames: 0, presentedFrames: null, stalls: 0, restarts: 0, resyncs: 0, rendition, playedS: 0, behind: false };
}

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15_000];
/** each player effect's number, on the element (data-run): the bench and tests tell a new player's counters from an old one's */
let runs = 0;

/** the video element's frame callbacks, which not every browser has (the DOM typings say every one does) */
type FrameCallbackVideo = {
  requestVideoFrameCallback?(cb: (now: number, meta: { presentedFrames: number; mediaTime: number }) => void): number;
  cancelVideoFrameCallback?(id: number): void;
};

let stillCanvas: HTMLCanvasElement | null = null;
/**
 * The frame on screen as the element's poster, small: a tile switching rendition (full ⇄ keyframes) keeps showing
 * its last picture until the new player has one, instead of a black tile.
 */
function keepLastFrame(video: HTMLVideoElement): void {
  if (video.readyState < 2 || !video.videoWidth) return;
  try {
    stillCanvas ??= document.createElement('canvas');
    const w = Math.min(320, video.videoWidth);
    stillCanvas.width = w;
    stillCanvas.height = Math.round((video.videoHeight / video.videoWidth) * w);
    stillCanvas.getContext('2d')?.drawImage(video, 0, 0, stillCanvas.width, stillCanvas.height);
    video.poster = stillCanvas.toDataURL('image/jpeg', 0.6);
  } catch { /* a tainted or lost context: no poster */ }
}

function describe(d: ErrorData): string {
  const code = (d.response as { code?: number } | undefined)?.code;
  return code ? `HTTP ${code} (${d.details})` : d.details;
}

export function TilePlayer({ cameraId, stream, rendition = 'full', kick, onStatus, onLag, statsRef }: {
  cameraId: string;
  stream: StreamKind;
  /** the full stream (default), or its keyframes only (1 frame per GOP) for a tile the wall has stepped down */
  rendition?: Rendition;
  /** changes when the tile wants a fresh start now (e.g. the server says the camera is live again) */
  kick: number;
  onStatus: (s: PlayerStatus) => void;
  /** seconds behind live (rounded to 0.5 s) while the tile is behind; null when it is at the edge */
  onLag?: (lagS: number | null) => void;
  statsRef: { current: PlayerStats };
}) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const onStatusRef = useRef(onStatus);
  const onLagRef = useRef(onLag);
  useEffect(() => { onStatusRef.current = onStatus; onLagRef.current = onLag; });

  useEffect(() => {
    const video = videoRef.current!;
    const ac = new AbortController();
    const stats = emptyStats(rendition);
    const sync = LIVE_SYNC[rendition];
    let behindSince = 0;
    let lastResync = 0;
    let lag: number | null = null;
    statsRef.current = stats;
    let hls: Hls | null = null;
    let disposed = false;
    let attempt = 0;
    let mediaRecoveries = 0;
    let retryTimer: number | undefined;
    let renewTimer: number | undefined;
    let lastTime = -1;
    let lastAdvance = performance.now();
    let stallCounted = false;
    // frames of the players this effect started before (a restart resets the element's counters)
    let framesBase = { total: 0, dropped: 0 };
    let status: PlayerStatus = { phase: 'connecting', reason: null };
    const loaded: Array<{ t: number; n: number }> = [];
    video.dataset.rendition = rendition;
    video.dataset.run = String(++runs);
    // a keyframe tile's frames presented (became the picture), counted across this effect's players: the element's own
    // counter starts again with each player, and a second callback for the same frame adds nothing. Only there: a
    // frame callback makes the page render again for each frame, which 25 fps tiles by the dozen cannot afford
    const fv = video as unknown as FrameCallbackVideo;
    const countFrames = rendition === 'keyframes' && typeof fv.requestVideoFrameCallback === 'function';
    let presented = 0;
    let lastPresented = -1;
    let frameCb = 0;
    const onFrame = (_now: number, meta: { presentedFrames: number }) => {
      if (disposed) return;
      const n = meta.presentedFrames;
      presented += lastPresented < 0 || n < lastPresented ? 1 : n - lastPresented;
      lastPresented = n;
      frameCb = fv.requestVideoFrameCallback!(onFrame);
    };
    const watchFrames = () => {
      if (!countFrames) return;
      if (frameCb) fv.cancelVideoFrameCallback?.(frameCb);
      lastPresented = -1;
      frameCb = fv.requestVideoFrameCallback!(onFrame);
    };

    const report = (phase: PlayerPhase, reason: string | null = null, fatal = false, unsupported = false) => {
      if (status.phase === phase && status.reason === reason && !!status.fatal === fatal && !!status.unsupported === unsupported) return;
      status = unsupported ? { phase, reason, fatal, unsupported } : { phase, reason, fatal };
      video.dataset.phase = phase;
      onStatusRef.current(status);
    };
    const setLag = (v: number | null) => {
      if (v === lag) return;
      lag = v;
      onLagRef.current?.(v);
    };
    const teardown = () => {
      const q = video.getVideoPlaybackQuality?.();
      if (q) framesBase = { total: framesBase.total + q.totalVideoFrames, dropped: framesBase.dropped + q.droppedVideoFrames };
      if (hls) { hls.destroy(); hls = null; }
      loaded.length = 0;
      lastTime = -1;
      video.removeAttribute('src');
      video.load();
    };
    const retryLater = (reason: string, fatal = false, unsupported = false) => {
      teardown();
      report('error', reason, fatal, unsupported);
      const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] * (0.8 + Math.random() * 0.4);
      attempt++;
      window.clearTimeout(retryTimer);
      retryTimer = window.setTimeout(() => void start(), delay);
    };

    const start = async () => {
      window.clearTimeout(retryTimer);
      window.clearTimeout(renewTimer);
      if (disposed) return;
      teardown();
      if (status.phase !== 'live' && status.phase !== 'stalled') report('connecting');
      // the URL this browser can play: the stream, else the camera's sub stream, else the server's H.264 transcode
      let choice: SourceChoice;
      try {
        choice = await chooseSource(cameraId, stream, rendition === 'keyframes', ac.signal);
      } catch (e) {
        if (disposed) return;
        if (e instanceof CannotPlayError) { retryLater(e.message, false, true); return; }
        const fatal = e instanceof ApiError && [403, 404, 409].includes(e.status);
        retryLater(e instanceof ApiError ? `${e.status || ''} ${e.message}`.trim() : String(e), fatal);
        return;
      }
      if (disposed) return;
      const live = choice.live;
      video.dataset.via = choice.via;
      stats.via = choice.via;
      video.dataset.codec = choice.codec ?? '';
      stats.restarts++;
      lastAdvance = performance.now();
      let h: Hls;
      try {
        h = new Hls(choice.keyframes ? KEYFRAME_HLS_CONFIG : choice.stream === 'main' ? MAIN_HLS_CONFIG : HLS_CONFIG);
      } catch (e) {
        retryLater(`播放器 player: ${(e as Error).message}`);
        return;
      }
      hls = h;
      h.on(Hls.Events.FRAG_LOADED, (_e, d) => { loaded.push({ t: performance.now(), n: d.payload.byteLength }); });
      h.on(Hls.Events.MANIFEST_PARSED, () => { void video.play().catch(() => {}); });
      h.on(Hls.Events.ERROR, (_e, d) => {
        if (!d.fatal || hls !== h) return;
        if (d.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 3) {
          mediaRecoveries++;
          h.recoverMediaError();
          return;
        }
        const code = (d.response as { code?: number } | undefined)?.code;
        // 403: the signed URL expired (or access changed): ask for a new one at once
        if (code === 403 && attempt === 0) { attempt++; void start(); return; }
        retryLater(describe(d));
      });
      h.loadSource(choice.url);
      h.attachMedia(video);
      watchFrames();
      // a new signed URL a minute before this one expires
      const renewIn = Math.max(10_000, Date.parse(live.expiresAt) - Date.now() - 60_000);
      renewTimer = window.setTimeout(() => void start(), Math.min(renewIn, 2 ** 31 - 1));
    };

    let lastTick = performance.now();
    const watch = window.setInterval(() => {
      const now = performance.now();
      const t = video.currentTime;
      if (t !== lastTime && !video.paused && video.readyState >= 2) {
        // media time played, not jumped over: at most what 2x playback covers since the last tick
        if (lastTime >= 0 && t > lastTime && t - lastTime <= ((now - lastTick) / 1000) * 2 + 0.1) stats.playedS += t - lastTime;
        lastTime = t;
        lastAdvance = now;
        stallCounted = false;
        if (video.poster) video.removeAttribute('poster');
        if (status.phase !== 'live') { attempt = 0; mediaRecoveries = 0; report('live'); }
      } else if (hls) {
        const idle = now - lastAdvance;
        if (status.phase === 'live' && idle > 1000 && !stallCounted) { stats.stalls++; stallCounted = true; }
        if (status.phase === 'live' && idle > 2500) report('stalled', '缓冲中 buffering');
        // wedged (no progress for 12 s): start over with a fresh player and URL
        if (idle > 12_000) { lastAdvance = now; void start(); }
        if (video.paused && video.readyState >= 2) void video.play().catch(() => {});
      }
      while (loaded.length && now - loaded[0].t > 5000) loaded.shift();
      const span = loaded.length ? Math.max(1000, now - loaded[0].t) : 0;
      stats.bitrateKbps = span ? Math.round((loaded.reduce((a, b) => a + b.n, 0) * 8) / span) : null;
      const hlsLatency = hls && Number.isFinite(hls.latency) && hls.latency > 0 ? hls.latency : null;
      stats.latencyS = hlsLatency === null ? null : Math.max(0, hlsLatency - sync.edgeOffsetS);
      // behind: hls.js's rate catch-up works only within a target duration of its target; beyond that, jump
      // to the live edge (hls.liveSyncPosition) once the tile has been too far behind for a moment
      const behind = !!hls && status.phase === 'live' && hlsLatency !== null && hlsLatency > sync.jumpS;
      if (behind) {
        behindSince ||= now;
        const edge = hls!.liveSyncPosition;
        if (now - behindSince > sync.holdMs && now - lastResync > sync.cooldownMs && edge !== null && Number.isFinite(edge) && edge > video.currentTime) {
          video.currentTime = edge;
          stats.resyncs++;
          behindSince = 0;
          lastResync = now;
        }
      } else behindSince = 0;
      stats.behind = stats.latencyS !== null && stats.latencyS > sync.warnS - sync.edgeOffsetS;
      // the operator is told (on the tile) when what they see is more than a moment old
      setLag(stats.behind && stats.latencyS !== null ? Math.round(stats.latencyS * 2) / 2 : null);
      stats.width = video.videoWidth;
      stats.height = video.videoHeight;
      const q = video.getVideoPlaybackQuality?.();
      stats.totalFrames = framesBase.total + (q?.totalVideoFrames ?? 0);
      stats.presentedFrames = countFrames ? presented : null;
      stats.droppedFrames = stats.presentedFrames !== null ? Math.max(0, stats.totalFrames - stats.presentedFrames) : framesBase.dropped + (q?.droppedVideoFrames ?? 0);
      if (stats.presentedFrames !== null) video.dataset.presented = String(stats.presentedFrames);
      video.dataset.stalls = String(stats.stalls);
      video.dataset.resyncs = String(stats.resyncs);
      video.dataset.frames = String(stats.totalFrames);
      video.dataset.dropped = String(stats.droppedFrames);
      video.dataset.played = stats.playedS.toFixed(2);
      video.dataset.latency = stats.latencyS === null ? '' : stats.latencyS.toFixed(2);
      lastTick = now;
    }, 500);

    void start();
    return () => {
      disposed = true;
      ac.abort();
      window.clearTimeout(retryTimer);
      window.clearTimeout(renewTimer);
      window.clearInterval(watch);
      if (frameCb) fv.cancelVideoFrameCallback?.(frameCb);
      // a rendition change reuses this element: keep its picture while the next player starts
      keepLastFrame(video);
      teardown();
      if (lag !== null) onLagRef.current?.(null);
    };
  }, [cameraId, stream, rendition, kick, statsRef]);

  return <video ref={videoRef} className="tile-video" muted playsInline autoPlay data-camera={cameraId} data-stream={stream} data-rendition={rendition} />;
}
