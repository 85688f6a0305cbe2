import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { request, ApiError } from '../api';
import { Notice } from '../components/Notice';
import { PlaybackView } from '../recording/PlaybackView';

/**
 * /playback?camera=ID&at=ISO — the recording around a moment: the review desk, the case page and the 110 desk link
 * here (10 s before their event). Up to four cameras side by side with ?camera=A,B,C,D play in sync.
 */
export default function PlaybackPage() {
  const [q] = useSearchParams();
  const incident = q.get('incident');
  // the 110 desk: the incident's camera, else the nearest one, at the report time
  const [resolved, setResolved] = useState<{ cameraId: string; at: string; distanceM: number } | { error: string } | null>(null);
  useEffect(() => {
    if (!incident) return;
    request<{ cameraId: string; at: string; distanceM: number }>(`/api/recordings/incident/${encodeURIComponent(incident)}`)
      .then(setResolved, (e: unknown) => setResolved({ error: e instanceof ApiError ? e.message : String(e) }));
  }, [incident]);
  if (incident && !resolved) return <div className="loading-line" aria-label="loading" />;
  if (resolved && 'error' in resolved) return <Notice kind="error" title="无法回放 Cannot play">{resolved.error}</Notice>;
  const cameras = resolved ? [resolved.cameraId] : (q.get('camera') ?? '').split(',').filter(Boolean).slice(0, 4);
  const at = Date.parse(resolved ? resolved.at : q.get('at') ?? '');
  if (!cameras.length) return <Notice kind="error" title="未指定摄像机 No camera">请从视频墙、审核台、案件或 110 联动打开回放。Open playback from the wall, the review desk, a case or the 110 desk.</Notice>;
  return (
    <div className="playback-page" style={{ display: 'grid', gap: 8, gridTemplateColumns: cameras.length > 1 ? '1fr 1fr' : '1fr', height: 'calc(100vh - 90px)' }}>
      {cameras.map((id, i) => (
        <PlaybackView key={id} cameraId={id} startAtMs={Number.isFinite(at) ? at - 10_000 : undefined} syncId={cameras.length > 1 ? `page-${i}` : undefined} />
      ))}
    </div>
  );
}
