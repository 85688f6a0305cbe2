import { useEffect, useRef } from 'react';
import Hls, { type ErrorData, type HlsConfig } from 'hls.js';
import { ApiError } from '../api';
import { wallApi } from './wall-api';
import type { StreamKind } from './types';

/**
 * hls.js tuned for a live wall: LL-HLS (parts, blocking reload), a short back buffer and a small forward
 * buffer so that 36 players stay within a bounded heap, catch-up by playback rate rather than seeking.
 * The worker is off: the relay sends fMP4, which needs no transmuxing, and 36 workers cost more than they save.
 */
export const HLS_CONFIG: Partial<HlsConfig> = {
  lowLatencyMode: true,
  enableWorker: true,
  backBufferLength: 4,
  maxBufferLength: 4,
  maxMaxBufferLength: 8,
  maxBufferSize: 8 * 1000 * 1000,
  // no liveSyncDuration(Count) nor liveMaxLatency*: setting one makes hls.js ignore the playlist's PART-HOLD-BACK
  // (≈ 3 parts) and sit whole segments behind; drift is caught up by playback rate instead
  maxLiveSyncPlaybackRate: 1.25,
  startFragPrefetch: true,
  // our own loop restarts a dead player with backoff; hls.js retries a little first
  manifestLoadPolicy: { default: { maxTimeToFirstByteMs: 15_000, maxLoadTimeMs: 20_000, timeoutRetry: { maxNumRetry: 1, retryDelayMs: 500, maxRetryDelayMs: 1000 }, errorRetry: { maxNumRetry: 1, retryDelayMs: 1000, maxRetryDelayMs: 2000 } } },
};

export type PlayerPhase = 'connecting' | 'live' | 'stalled' | 'error';
export interface PlayerStatus {
  phase: PlayerPhase;
  reason: string | null;
  /** the server refused for a reason that retrying will not fix soon (no such camera, no stream URL, no access) */
  fatal?: boolean;
}

/** Written by the player twice a second; read by the tile's hover panel, the tests and the bench. */
export interface PlayerStats {
  latencyS: number | null;
  bitrateKbps: number | null;
  width: number;
  height: number;
  droppedFrames: number;
  stalls: number;
  restarts: number;
  /** jumps back to the live edge after drifting too far behind */
  resyncs: number;
}

/** A tile further behind live than this (s) jumps back to the edge: on a wall, old video is wrong video. */
const MAX_LATENCY_S = 6;
/** at most one jump per tile in this many ms: a machine that cannot decode in real time must not thrash */
const RESYNC_COOLDOWN_MS = 20_000;

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15_000];

function describe(d: ErrorData): string {
  const code = (d.response as { code?: number } | undefined)?.code;
  return code ? `HTTP ${code} (${d.details})` : d.details;
}

export function TilePlayer({ cameraId, stream, kick, onStatus, statsRef }: {
  cameraId: string;
  stream: StreamKind;
  /** changes when the tile wants a fresh start now (e.g. the server says the camera is live again) */
  kick: number;
  onStatus: (s: PlayerStatus) => void;
  statsRef: { current: PlayerStats };
}) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const onStatusRef = useRef(onStatus);
  useEffect(() => { onStatusRef.current = onStatus; });

  useEffect(() => {
    const video = videoRef.current!;
    const ac = new AbortController();
    const stats: PlayerStats = { latencyS: null, bitrateKbps: null, width: 0, height: 0, droppedFrames: 0, stalls: 0, restarts: 0, resyncs: 0 };
    let behindSince = 0;
    let lastResync = 0;
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
    let status: PlayerStatus = { phase: 'connecting', reason: null };
    const loaded: Array<{ t: number; n: number }> = [];

    const report = (phase: PlayerPhase, reason: string | null = null, fatal = false) => {
      if (status.phase === phase && status.reason === reason && !!status.fatal === fatal) return;
      status = { phase, reason, fatal };
      video.dataset.phase = phase;
      onStatusRef.current(status);
    };
    const teardown = () => {
      if (hls) { hls.destroy(); hls = null; }
      loaded.length = 0;
      video.removeAttribute('src');
      video.load();
    };
    const retryLater = (reason: string, fatal = false) => {
      teardown();
      report('error', reason, fatal);
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
      let live: { url: string; expiresAt: string };
      try {
        live = await wallApi.live(cameraId, stream, ac.signal);
      } catch (e) {
        if (disposed) return;
        const fatal = e instanceof ApiError && [403, 404, 409].includes(e.status);
        retryLater(e instanceof ApiError ? `${e.status || ''} ${e.message}`.trim() : String(e), fatal);
        return;
      }
      if (disposed) return;
      stats.restarts++;
      lastAdvance = performance.now();
      let h: Hls;
      try {
        h = new Hls(HLS_CONFIG);
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
      h.loadSource(live.url);
      h.attachMedia(video);
      // a new signed URL a minute before this one expires
      const renewIn = Math.max(10_000, Date.parse(live.expiresAt) - Date.now() - 60_000);
      renewTimer = window.setTimeout(() => void start(), Math.min(renewIn, 2 ** 31 - 1));
    };

    const watch = window.setInterval(() => {
      const now = performance.now();
      const t = video.currentTime;
      if (t !== lastTime && !video.paused && video.readyState >= 2) {
        lastTime = t;
        lastAdvance = now;
        stallCounted = false;
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
      stats.latencyS = hls && Number.isFinite(hls.latency) && hls.latency > 0 ? hls.latency : null;
      // catch-up by playback rate failed (a busy machine decodes too slowly): jump to the live edge after 4 s behind
      if (hls && status.phase === 'live' && stats.latencyS !== null && stats.latencyS > MAX_LATENCY_S) {
        behindSince ||= now;
        const edge = hls.liveSyncPosition;
        if (now - behindSince > 4000 && now - lastResync > RESYNC_COOLDOWN_MS && edge !== null && Number.isFinite(edge) && edge > video.currentTime) {
          video.currentTime = edge;
          stats.resyncs++;
          behindSince = 0;
          lastResync = now;
        }
      } else behindSince = 0;
      stats.width = video.videoWidth;
      stats.height = video.videoHeight;
      stats.droppedFrames = video.getVideoPlaybackQuality?.().droppedVideoFrames ?? 0;
      video.dataset.stalls = String(stats.stalls);
      video.dataset.resyncs = String(stats.resyncs);
    }, 500);

    void start();
    return () => {
      disposed = true;
      ac.abort();
      window.clearTimeout(retryTimer);
      window.clearTimeout(renewTimer);
      window.clearInterval(watch);
      teardown();
    };
  }, [cameraId, stream, kick, statsRef]);

  return <video ref={videoRef} className="tile-video" muted playsInline autoPlay data-camera={cameraId} data-stream={stream} />;
}
