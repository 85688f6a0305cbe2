import { useCallback, useEffect, useRef, useState } from 'react';
import Hls from 'hls.js';
import { ApiError } from '../api';
import { exportUrl, fetchPlayback, fetchTimeline, RATES, type Marker, type Timeline as TimelineData } from './recording-api';
import { Timeline, ZOOMS } from './Timeline';
import { broadcastSeek, inSync, joinSync, leaveSync, SYNC_MAX } from './sync-group';
import './recording.css';

type Phase = { kind: 'loading' } | { kind: 'playing' } | { kind: 'paused' } | { kind: 'empty'; message: string } | { kind: 'error'; message: string };

const PHASE_LABEL: Record<Phase['kind'], string> = {
  loading: '加载录像 loading recording…', playing: '回放 playback', paused: '已暂停 paused', empty: '无录像 no recording', error: '无法播放 cannot play',
};

export interface PlaybackViewProps {
  cameraId: string;
  /** wall-clock ms to start at (default: five minutes ago) */
  startAtMs?: number;
  /** a stable id for synchronised playback (e.g. the tile index) */
  syncId?: string;
  compact?: boolean;
}

/**
 * Plays a camera's recording from a wall-clock time: a VOD HLS playlist whose timeline is the wall clock (gaps are gaps),
 * a timeline of the day's spans and markers under it, rates 1x–16x (keyframes only above 4x, chosen by the server),
 * "export clip" of a shift-drag selection (or the 60 s around the cursor), and synchronised seeking across up to 4 tiles.
 */
export function PlaybackView({ cameraId, startAtMs, syncId, compact }: PlaybackViewProps) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const hlsRef = useRef<Hls | null>(null);
  const timelineStart = useRef<number | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const [rate, setRate] = useState(1);
  const [position, setPosition] = useState<number | null>(null);
  const [origin, setOrigin] = useState(() => startAtMs ?? Date.now() - 300_000);
  const [zoom, setZoom] = useState<number>(ZOOMS[1].ms);
  const [data, setData] = useState<TimelineData | null>(null);
  const [selection, setSelection] = useState<{ fromMs: number; toMs: number } | null>(null);
  const [synced, setSynced] = useState(false);

  const windowStart = zoom >= ZOOMS[0].ms ? new Date(new Date(origin).setHours(0, 0, 0, 0)).getTime() : origin - zoom / 2;

  useEffect(() => {
    let alive = true;
    fetchTimeline(cameraId, windowStart, windowStart + zoom).then((d) => { if (alive) setData(d); }, () => {});
    return () => { alive = false; };
  }, [cameraId, windowStart, zoom]);

  const load = useCallback(async (atMs: number, r: number) => {
    setPhase({ kind: 'loading' });
    try {
      const grant = await fetchPlayback(cameraId, atMs, r);
      const video = videoRef.current;
      if (!video) return;
      hlsRef.current?.destroy();
      const hls = new Hls({ enableWorker: true, startPosition: -1, maxBufferLength: 20 });
      hlsRef.current = hls;
      hls.on(Hls.Events.LEVEL_LOADED, (_e, d) => {
        const first = d.details.fragments.find((f) => f.programDateTime !== null);
        timelineStart.current = first?.programDateTime != null ? first.programDateTime - first.start * 1000 : null;
      });
      hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) setPhase({ kind: 'error', message: `播放器错误 player error: ${d.details}` }); });
      hls.loadSource(grant.url);
      hls.attachMedia(video);
      video.playbackRate = r;
      hls.on(Hls.Events.MANIFEST_PARSED, () => { void video.play().catch(() => setPhase({ kind: 'paused' })); });
    } catch (e) {
      const msg = e instanceof ApiError ? e.message : String(e);
      setPhase(e instanceof ApiError && e.status === 404 ? { kind: 'empty', message: msg } : { kind: 'error', message: msg });
    }
  }, [cameraId]);

  useEffect(() => { void load(origin, rate); return () => { hlsRef.current?.destroy(); hlsRef.current = null; }; }, [load]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const v = videoRef.current;
    if (!v) return;
    const onTime = () => { if (timelineStart.current !== null) setPosition(timelineStart.current + v.currentTime * 1000); };
    const onPlaying = () => setPhase({ kind: 'playing' });
    const onPause = () => setPhase((p) => (p.kind === 'playing' ? { kind: 'paused' } : p));
    v.addEventListener('timeupdate', onTime);
    v.addEventListener('playing', onPlaying);
    v.addEventListener('pause', onPause);
    return () => { v.removeEventListener('timeupdate', onTime); v.removeEventListener('playing', onPlaying); v.removeEventListener('pause', onPause); };
  }, []);

  /** Seek within the loaded playlist when it covers the time, else load a new one from there. */
  const seek = useCallback((atMs: number, r = rate, fromSync = false) => {
    setOrigin(atMs);
    const v = videoRef.current;
    const start = timelineStart.current;
    const covered = v && start !== null && atMs >= start && v.duration && atMs <= start + v.duration * 1000 && r === rate;
    if (covered) v!.currentTime = (atMs - start!) / 1000;
    else void load(atMs, r);
    if (!fromSync && syncId) broadcastSeek(syncId, atMs, r);
  }, [load, rate, syncId]);

  useEffect(() => {
    if (!syncId || !synced) return;
    if (!joinSync(syncId, (e) => { setRate(e.rate); seek(e.atMs, e.rate, true); })) setSynced(false);
    return () => leaveSync(syncId);
  }, [syncId, synced, seek]);

  const changeRate = (r: number) => {
    const keyframeSwitch = (r > 4) !== (rate > 4);
    setRate(r);
    if (keyframeSwitch) void load(position ?? origin, r);
    else if (videoRef.current) videoRef.current.playbackRate = r;
    if (syncId) broadcastSeek(syncId, position ?? origin, r);
  };

  const onMarker = (m: Marker) => seek(Date.parse(m.at) - 10_000);
  const clip = selection ?? (position !== null ? { fromMs: position - 30_000, toMs: position + 30_000 } : null);

  return (
    <div className={`rec-view${compact ? ' rec-compact' : ''}`} data-testid="playback-view" data-phase={phase.kind} data-position={position === null ? '' : Math.round(position)} onClick={(e) => e.stopPropagation()}>
      <div className="rec-video-wrap">
        <video ref={videoRef} className="rec-video" muted playsInline data-testid="playback-video" />
        {phase.kind !== 'playing' ? (
          <div className="rec-state" role="status">{PHASE_LABEL[phase.kind]}{'message' in phase ? <span className="rec-reason">{phase.message}</span> : null}</div>
        ) : null}
        {position !== null ? <div className="rec-clock mono" data-testid="playback-clock">{new Date(position).toLocaleString('zh-CN', { hour12: false })}</div> : null}
      </div>
      <div className="rec-controls">
        <button type="button" className="btn btn-small" onClick={() => { const v = videoRef.current; if (v) void (v.paused ? v.play() : Promise.resolve(v.pause())); }}>⏯</button>
        <select aria-label="倍速 Rate" value={rate} onChange={(e) => changeRate(Number(e.target.value))}>
          {RATES.map((r) => <option key={r} value={r}>{r}x{r > 4 ? ' (关键帧 keyframes)' : ''}</option>)}
        </select>
        <select aria-label="缩放 Zoom" value={zoom} onChange={(e) => setZoom(Number(e.target.value))}>
          {ZOOMS.map((z) => <option key={z.ms} value={z.ms}>{z.zh} {z.en}</option>)}
        </select>
        <input type="datetime-local" aria-label="跳转到时间 Go to time" step={1}
          onChange={(e) => { const t = Date.parse(e.target.value); if (Number.isFinite(t)) seek(t); }} />
        {syncId ? (
          <label title={`同步回放，最多 ${SYNC_MAX} 个窗口 Synchronised playback, up to ${SYNC_MAX} tiles`}>
            <input type="checkbox" checked={synced && inSync(syncId)} onChange={(e) => setSynced(e.target.checked)} /> 同步 sync
          </label>
        ) : null}
        {clip ? (
          <a className="btn btn-small" data-testid="export-clip" href={exportUrl(cameraId, clip.fromMs, clip.toMs)} download>
            导出片段 Export clip ({Math.round((clip.toMs - clip.fromMs) / 1000)} s)
          </a>
        ) : null}
      </div>
      <Timeline spans={data?.spans ?? []} markers={data?.markers ?? []} startMs={windowStart} zoomMs={zoom} playingMs={position}
        selection={selection} onSeek={(t) => seek(t)} onMarker={onMarker} onSelect={setSelection} />
    </div>
  );
}
