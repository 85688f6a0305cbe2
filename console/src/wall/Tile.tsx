import { memo, useCallback, useEffect, useRef, useState, type DragEvent } from 'react';
import { useLiveMessages } from '../live';
import { emptyStats, TilePlayer, type PlayerStats, type PlayerStatus } from './TilePlayer';
import type { TileRate } from './decode-budget';
import type { StatsBoard } from './useDecodeBudget';
import { SnapshotView } from './SnapshotView';
import { PtzPanel } from './PtzPanel';
import { PlaybackView } from '../recording/PlaybackView';
import type { Alarm, CameraStatePayload, ServerState, StreamKind, TileState, TreeCamera } from './types';
import { Icon } from '../components/Icon';

export const CAMERA_MIME = 'application/x-streeteye-camera';
export const TILE_MIME = 'application/x-streeteye-tile';

const LABEL: Record<TileState, string> = {
  empty: '空闲 empty',
  connecting: '连接中 connecting',
  live: '实时 live',
  reconnecting: '重连中 reconnecting',
  offline: '离线 offline',
  auth_failed: '认证失败 auth failed',
  error: '故障 error',
  snapshot: '快照 snapshot',
  unsupported: '无法播放 cannot play here',
};

/** What the wall's decode budget gave the tile: the whole stream, its keyframes (1 fps), or a still picture. */
export const RATE_LABEL: Record<TileRate, string> = { full: '全帧 full', reduced: '降帧 reduced', still: '静帧 still' };
const RATE_TITLE: Record<TileRate, string> = {
  full: '全帧率播放 Full frame rate',
  reduced: '本机解码已满，仅播放关键帧（约 1 帧/秒，仍为实时）The PC is at its decode limit: keyframes only (≈ 1 fps, still live)',
  still: '本机解码已满，显示定时快照 The PC is at its decode limit: snapshots',
};

/** The server's word wins when it knows the camera is down; otherwise the player's. */
function tileState(mode: 'live' | 'snapshot', server: { state: ServerState; reason: string | null } | null, player: PlayerStatus): { state: TileState; reason: string | null } {
  if (server && (server.state === 'offline' || server.state === 'auth_failed' || server.state === 'error')) return { state: server.state, reason: server.reason };
  if (mode === 'snapshot') return { state: 'snapshot', reason: null };
  if (player.phase === 'live') return { state: 'live', reason: null };
  if (server?.state === 'reconnecting') return { state: 'reconnecting', reason: server.reason };
  if (player.phase === 'stalled') return { state: 'reconnecting', reason: player.reason };
  if (player.phase === 'error' && player.unsupported) return { state: 'unsupported', reason: player.reason };
  if (player.phase === 'error') return { state: player.fatal ? 'error' : 'reconnecting', reason: player.reason };
  return { state: 'connecting', reason: null };
}

export interface TileProps {
  index: number;
  camera: TreeCamera | null;
  /** id of a camera that is not in the tree (deleted or hidden): shown as unavailable */
  cameraId: string | null;
  /** the decode budget's frame rate for this tile: full, reduced (keyframes only) or still (snapshots) */
  rate: TileRate;
  stream: StreamKind;
  /** where the tile's player publishes its stats for the wall's decode budget */
  board: StatsBoard;
  selected: boolean;
  focused: boolean;
  isAlarmTile: boolean;
  alarm: Alarm | null;
  snapshotEveryMs: number;
  onSelect(index: number): void;
  onToggleFocus(index: number): void;
  onDropCamera(index: number, cameraId: string): void;
  onSwap(from: number, to: number): void;
  onClear(index: number): void;
  onAck(index: number): void;
  onSetAlarmTile(index: number): void;
}

export const Tile = memo(function Tile(p: TileProps) {
  const { index, camera, cameraId, board } = p;
  const mode = p.rate === 'still' ? 'snapshot' : 'live';
  const [server, setServer] = useState<{ state: ServerState; reason: string | null; stream: StreamKind } | null>(null);
  const [player, setPlayer] = useState<PlayerStatus>({ phase: 'connecting', reason: null });
  const [kick, setKick] = useState(0);
  const [hover, setHover] = useState(false);
  const [over, setOver] = useState(false);
  // live ⇄ playback, per tile (the wall's layout and state stay live-only)
  const [playback, setPlayback] = useState(false);
  useEffect(() => { setPlayback(false); }, [cameraId]);
  const statsRef = useRef<PlayerStats>(emptyStats());
  const [lag, setLag] = useState<number | null>(null);
  useEffect(() => {
    board.set(index, statsRef);
    return () => { if (board.get(index) === statsRef) board.delete(index); };
  }, [board, index]);
  const elRef = useRef<HTMLDivElement>(null);
  const playerRef = useRef(player);
  useEffect(() => { playerRef.current = player; });

  useEffect(() => { setServer(null); setPlayer({ phase: 'connecting', reason: null }); }, [cameraId, p.stream]);

  useLiveMessages<CameraStatePayload>({ topic: 'camera.state', cameraId: cameraId ?? '\u0000none' }, (msg) => {
    const s = msg.payload;
    if (!s || s.stream !== p.stream) return;
    setServer((prev) => (prev?.state === s.state && prev.reason === s.reason ? prev : { state: s.state, reason: s.reason, stream: s.stream }));
    // the camera is back: do not wait for the player's backoff
    if (s.state === 'live' && playerRef.current.phase === 'error') setKick((k) => k + 1);
  });

  const onStatus = useCallback((s: PlayerStatus) => setPlayer(s), []);

  const st = cameraId ? (camera ? tileState(mode, server, player) : { state: 'error' as const, reason: '点位不可用 camera unavailable' }) : { state: 'empty' as const, reason: null };

  const onDragStart = (e: DragEvent) => {
    if (!cameraId) { e.preventDefault(); return; }
    e.dataTransfer.setData(TILE_MIME, String(index));
    e.dataTransfer.setData(CAMERA_MIME, cameraId);
    e.dataTransfer.effectAllowed = 'move';
  };
  const accepts = (e: DragEvent) => e.dataTransfer.types.includes(CAMERA_MIME) || e.dataTransfer.types.includes(TILE_MIME);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const from = e.dataTransfer.getData(TILE_MIME);
    if (from !== '') { const f = Number(from); if (f !== index) p.onSwap(f, index); return; }
    const cam = e.dataTransfer.getData(CAMERA_MIME);
    if (cam) p.onDropCamera(index, cam);
  };

  const fullscreen = () => { void elRef.current?.requestFullscreen?.().catch(() => {}); };

  const cls = ['tile', `ts-${st.state}`, p.selected && 'tile-selected', p.focused && 'tile-focused', p.alarm && 'tile-alarm', over && 'tile-over'].filter(Boolean).join(' ');
  return (
    <div ref={elRef} className={cls} data-testid="tile" data-index={index} data-camera={cameraId ?? ''} data-state={st.state} data-mode={cameraId ? mode : ''} data-rate={cameraId ? p.rate : ''} data-lag={lag ?? ''}
      data-stream={p.stream} role="gridcell" aria-selected={p.selected} tabIndex={p.selected ? 0 : -1}
      aria-label={`${index + 1}: ${camera?.name ?? '空 empty'} ${LABEL[st.state]}`}
      draggable={!!cameraId && !playback} onDragStart={onDragStart}
      onDragOver={(e) => { if (accepts(e)) { e.preventDefault(); setOver(true); } }} onDragLeave={() => setOver(false)} onDrop={onDrop}
      onClick={() => p.onSelect(index)} onDoubleClick={() => cameraId && p.onToggleFocus(index)}
      onMouseEnter={() => setHover(true)} onMouseLeave={() => setHover(false)}>
      {cameraId && camera && playback ? <PlaybackView cameraId={cameraId} syncId={`tile-${index}`} compact /> : null}
      {cameraId && camera && mode === 'live' && !playback ? <TilePlayer cameraId={cameraId} stream={p.stream} rendition={p.rate === 'reduced' ? 'keyframes' : 'full'} kick={kick} onStatus={onStatus} onLag={setLag} statsRef={statsRef} /> : null}
      {cameraId && camera && mode === 'snapshot' && !playback ? <SnapshotView cameraId={cameraId} everyMs={p.snapshotEveryMs} delayMs={(index % 12) * 250} /> : null}
      <div className="tile-head">
        <span className="tile-no">{index + 1}</span>
        <span className="tile-name" title={camera?.name}>{camera?.name ?? (cameraId ? '—' : '')}</span>
        {p.isAlarmTile ? <span className="tile-tag" title="报警联动窗口 Alarm tile">⚑</span> : null}
        {p.stream === 'main' && cameraId ? <span className="tile-tag">主码流 main</span> : null}
        {cameraId && camera && !playback ? <span className={`tile-tag rate-${p.rate}`} data-testid="tile-rate" title={RATE_TITLE[p.rate]}>{RATE_LABEL[p.rate]}</span> : null}
      </div>
      {lag !== null && mode === 'live' && st.state === 'live' && !playback ? (
        <div className="tile-lag" data-testid="tile-lag" role="status" title="画面落后于实时，正在追赶 The picture is behind live and catching up">滞后 {lag.toFixed(1)} s behind</div>
      ) : null}
      {st.state !== 'live' && st.state !== 'empty' && st.state !== 'snapshot' ? (
        <div className="tile-state" data-testid="tile-state" role="status">
          <span className={`state-dot state-${st.state}`} aria-hidden="true" />
          {LABEL[st.state]}
          {st.reason ? <span className="tile-reason">{st.reason}</span> : null}
        </div>
      ) : null}
      {!cameraId ? <div className="tile-empty">拖入点位 Drop a camera here</div> : null}
      {hover && cameraId && mode === 'live' ? <HoverStats statsRef={statsRef} /> : null}
      {p.focused && cameraId && camera ? <PtzPanel cameraId={cameraId} /> : null}
      {p.alarm ? (
        <div className="tile-alarm-bar" data-testid="tile-alarm" role="alert">
          <span><Icon name="warning" /> {p.alarm.title}</span>
          <button type="button" className="btn btn-small" onClick={(e) => { e.stopPropagation(); p.onAck(index); }} data-testid="alarm-ack">确认 Ack (A)</button>
        </div>
      ) : null}
      {hover ? (
        <div className="tile-tools">
          {!p.isAlarmTile ? <button type="button" className="btn btn-small" title="设为报警联动窗口 Make this the alarm tile" onClick={(e) => { e.stopPropagation(); p.onSetAlarmTile(index); }}>⚑</button> : null}
          {cameraId && camera ? (
            <button type="button" className="btn btn-small" data-testid="tile-playback" title={playback ? '返回实时 Back to live' : '回放 Playback'}
              onClick={(e) => { e.stopPropagation(); setPlayback((x) => !x); }}>{playback ? '实时 Live' : '回放 Playback'}</button>
          ) : null}
          <button type="button" className="btn btn-small" title="全屏 Fullscreen (Shift+F)" onClick={(e) => { e.stopPropagation(); fullscreen(); }}><Icon name="fullscreen" /></button>
          {cameraId ? <button type="button" className="btn btn-small" title="清除 Clear (Delete)" data-testid="tile-clear" onClick={(e) => { e.stopPropagation(); p.onClear(index); }}><Icon name="close" /></button> : null}
        </div>
      ) : null}
    </div>
  );
});

function HoverStats({ statsRef }: { statsRef: { current: PlayerStats } }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const t = window.setInterval(() => setTick((x) => x + 1), 1000);
    return () => window.clearInterval(t);
  }, []);
  const s = statsRef.current;
  return (
    <div className="tile-stats mono" data-testid="tile-stats">
      <span>延迟 latency {s.latencyS !== null ? `${s.latencyS.toFixed(1)} s` : '—'}</span>
      <span>码率 {s.bitrateKbps !== null ? `${s.bitrateKbps} kb/s` : '—'}</span>
      <span>{s.width ? `${s.width}×${s.height}` : ''}{s.stalls ? ` · 卡顿 stalls ${s.stalls}` : ''}</span>
      {s.via === 'sub' ? <span>本机不支持该编码，播放子码流 codec not playable here: sub stream</span> : s.via === 'transcode' ? <span>服务器转码 H.264 server transcode</span> : null}
      <span>{s.rendition === 'keyframes' ? '关键帧 keyframes' : '全帧 full'}{s.totalFrames ? ` · 丢帧 dropped ${s.droppedFrames}/${s.totalFrames}` : ''}{s.resyncs ? ` · 追帧 jumps ${s.resyncs}` : ''}</span>
    </div>
  );
}
