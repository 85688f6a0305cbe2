import { useCallback, useEffect, useRef, useState, type PointerEvent } from 'react';
import { ApiError } from '../api';
import { useLiveMessages } from '../live';
import { wallApi, type PtzController, type PtzState } from './wall-api';

/** Velocities of the pad's keys: pan, tilt, zoom. */
const PAD: Array<{ label: string; title: string; v: [number, number, number] } | null> = [
  { label: '↖', title: '左上 Up left', v: [-0.5, 0.5, 0] }, { label: '↑', title: '上 Up', v: [0, 0.5, 0] }, { label: '↗', title: '右上 Up right', v: [0.5, 0.5, 0] },
  { label: '←', title: '左 Left', v: [-0.5, 0, 0] }, null, { label: '→', title: '右 Right', v: [0.5, 0, 0] },
  { label: '↙', title: '左下 Down left', v: [-0.5, -0.5, 0] }, { label: '↓', title: '下 Down', v: [0, -0.5, 0] }, { label: '↘', title: '右下 Down right', v: [0.5, -0.5, 0] },
];
const ZOOM: Array<{ label: string; title: string; v: [number, number, number] }> = [
  { label: '+', title: '放大 Zoom in', v: [0, 0, 0.5] }, { label: '-', title: '缩小 Zoom out', v: [0, 0, -0.5] },
];
/** A held key repeats the move this often; the camera stops by itself after MOVE_TIMEOUT_MS without one. */
const REPEAT_MS = 400;
const MOVE_TIMEOUT_MS = 1000;

/**
 * PTZ controls on the focused tile (云台控制): press and hold a direction or zoom key, release to stop; presets.
 * If the browser goes away mid-move, the camera's own timeout stops it. Another user's control shows who and until when.
 */
export function PtzPanel({ cameraId }: { cameraId: string }) {
  const [state, setState] = useState<PtzState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [moving, setMoving] = useState(false);
  const repeat = useRef<number | null>(null);
  const held = useRef(false);

  useEffect(() => {
    const ac = new AbortController();
    setState(null);
    setError(null);
    wallApi.ptz(cameraId, ac.signal).then(setState, (e: Error) => { if (e.name !== 'AbortError') setError(e.message); });
    return () => {
      ac.abort();
      // closing the panel (unfocus, another camera) stops the camera and hands the controls back
      if (repeat.current !== null) window.clearInterval(repeat.current);
      if (held.current) void wallApi.ptzStop(cameraId).catch(() => {});
      void wallApi.ptzRelease(cameraId).catch(() => {});
    };
  }, [cameraId]);

  useLiveMessages<{ cameraId: string; controller: PtzController | null }>({ topic: 'camera.ptz', cameraId }, (msg) => {
    setState((s) => (s ? { ...s, controller: msg.payload.controller } : s));
  });

  const fail = (e: unknown) => setError(e instanceof ApiError ? e.message : '云台命令失败 PTZ command failed');

  const stop = useCallback(() => {
    if (repeat.current !== null) window.clearInterval(repeat.current);
    repeat.current = null;
    if (!held.current) return;
    held.current = false;
    setMoving(false);
    wallApi.ptzStop(cameraId).catch(fail);
  }, [cameraId]);

  const start = (v: [number, number, number]) => (e: PointerEvent) => {
    e.preventDefault();
    e.stopPropagation();
    (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
    const send = () => wallApi.ptzMove(cameraId, { pan: v[0], tilt: v[1], zoom: v[2] }, MOVE_TIMEOUT_MS).then(() => setError(null), (err) => { fail(err); stop(); });
    held.current = true;
    setMoving(true);
    void send();
    if (repeat.current !== null) window.clearInterval(repeat.current);
    repeat.current = window.setInterval(() => { void send(); }, REPEAT_MS);
  };

  const key = (k: { label: string; title: string; v: [number, number, number] }) => (
    <button key={k.title} type="button" className="ptz-key" title={k.title} aria-label={k.title}
      onPointerDown={start(k.v)} onPointerUp={stop} onPointerCancel={stop} onLostPointerCapture={stop}
      onClick={(e) => e.stopPropagation()} onDoubleClick={(e) => e.stopPropagation()}>{k.label}</button>
  );

  if (!state && !error) return <div className="ptz-panel ptz-muted" data-testid="ptz-panel" data-ptz="loading">云台… PTZ…</div>;
  if (state && !state.available) return null; // a fixed camera: nothing to steer
  return (
    <div className="ptz-panel" data-testid="ptz-panel" data-ptz={moving ? 'moving' : 'idle'} onClick={(e) => e.stopPropagation()} onDoubleClick={(e) => e.stopPropagation()}>
      {state ? (
        <>
          <div className="ptz-pad" role="group" aria-label="云台方向 Pan and tilt">
            {PAD.map((k, i) => (k ? key(k) : <button key={`stop-${i}`} type="button" className="ptz-key" title="停止 Stop" aria-label="停止 Stop"
              onClick={(e) => { e.stopPropagation(); held.current = true; stop(); }}>■</button>))}
          </div>
          <div className="ptz-zoom" role="group" aria-label="变倍 Zoom">{ZOOM.map(key)}</div>
          {state.presets.length ? (
            <select className="ptz-presets" aria-label="预置位 Preset" value="" onChange={(e) => { if (e.target.value) wallApi.ptzPreset(cameraId, e.target.value).then(() => setError(null), fail); }}>
              <option value="">预置位 Preset…</option>
              {state.presets.map((p) => <option key={p.token} value={p.token}>{p.token} · {p.name}</option>)}
            </select>
          ) : null}
          {state.controller ? <div className="ptz-muted" data-testid="ptz-controller">控制中 {state.controller.username}</div> : null}
        </>
      ) : null}
      {error ? <div className="ptz-error" role="alert" data-testid="ptz-error">{error}</div> : null}
    </div>
  );
}
