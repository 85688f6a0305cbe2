import { useState } from 'react';
import { ApiError, request } from '../api';
import { useUser } from '../auth';
import type { Camera } from '../types';
import { StatusBadge } from './StatusBadge';

/**
 * On the camera page: "test connection" (POST /api/cameras/:id/probe: ONVIF device info, else RTSP OPTIONS) and a
 * snapshot of what the camera sees now, refreshed on demand (a new t= each time: an <img> reloads only when its src changes).
 */
interface Probe { reachable: boolean; authFailed?: boolean; method: string; error: string | null; status: string; rttMs: number | null; manufacturer: string | null; model: string | null; clockDriftMs: number | null }

export function CameraCheck({ camera }: { camera: Camera }) {
  const user = useUser();
  const mayProbe = user.role === 'admin' || user.role === 'technician';
  const [probe, setProbe] = useState<Probe | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [snap, setSnap] = useState(() => Date.now());
  const [snapState, setSnapState] = useState<'loading' | 'ok' | 'failed'>('loading');

  async function test() {
    setBusy(true);
    setError(null);
    try {
      setProbe(await request<Probe>(`/api/cameras/${encodeURIComponent(camera.id)}/probe`, { method: 'POST' }));
      setSnapState('loading');
      setSnap(Date.now());
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="camera-check" data-testid="camera-check">
      <figure>
        <img key={snap} src={`/api/cameras/${encodeURIComponent(camera.id)}/snapshot?stream=sub&t=${snap}`} alt={`${camera.name} 快照 snapshot`}
          onLoad={() => setSnapState('ok')} onError={() => setSnapState('failed')} data-state={snapState} />
        <figcaption className="muted small">
          {snapState === 'loading' ? '正在取快照… Fetching a snapshot' : snapState === 'failed' ? '取不到快照：摄像机离线或不提供快照 No snapshot: the camera is offline or gives none' : '当前画面 What it sees now'}
          {' '}<button type="button" className="btn btn-small" onClick={() => { setSnapState('loading'); setSnap(Date.now()); }}>刷新 Refresh</button>
        </figcaption>
      </figure>
      {mayProbe ? (
        <div>
          <button type="button" className="btn" onClick={() => void test()} disabled={busy} data-testid="test-connection">{busy ? '测试中… Testing' : '测试连接 Test connection'}</button>
          {probe ? (
            <div className="small" data-testid="probe-result" style={{ marginTop: 6 }}>
              <StatusBadge status={probe.status} /> {probe.reachable ? (probe.authFailed ? '可达，但用户名或密码不对 reachable, wrong credentials' : '连接正常 reachable') : '无法连接 unreachable'}
              <span className="muted"> · {probe.method === 'onvif' ? 'ONVIF' : probe.method === 'rtsp' ? 'RTSP OPTIONS' : '无地址 no address'}{probe.rttMs !== null ? ` · ${probe.rttMs} ms` : ''}</span>
              {probe.manufacturer || probe.model ? <div className="muted">{[probe.manufacturer, probe.model].filter(Boolean).join(' ')}</div> : null}
              {probe.error ? <div className="field-error">{probe.error}</div> : null}
            </div>
          ) : null}
          {error ? <div className="field-error">{error}</div> : null}
        </div>
      ) : null}
    </div>
  );
}
