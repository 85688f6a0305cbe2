import { useEffect, useState } from 'react';
import { wallApi } from './wall-api';

/**
 * A tile beyond the live budget: the camera's latest snapshot, refreshed every few seconds, with its age.
 * Object URLs are revoked as soon as the next picture (or the unmount) replaces them.
 */
export function SnapshotView({ cameraId, everyMs, delayMs }: { cameraId: string; everyMs: number; delayMs: number }) {
  const [img, setImg] = useState<{ url: string; at: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const ac = new AbortController();
    let timer: number | undefined;
    const load = async () => {
      try {
        const res = await fetch(wallApi.snapshotUrl(cameraId), { credentials: 'same-origin', signal: ac.signal });
        if (!res.ok) {
          let msg = `${res.status}`;
          try { msg = ((await res.json()) as { message?: string }).message ?? msg; } catch { /* not JSON */ }
          throw new Error(msg);
        }
        const blob = await res.blob();
        if (ac.signal.aborted) return;
        setImg({ url: URL.createObjectURL(blob), at: Date.now() });
        setError(null);
      } catch (e) {
        if (ac.signal.aborted) return;
        setError((e as Error).message);
      }
      if (!ac.signal.aborted) timer = window.setTimeout(() => void load(), everyMs);
    };
    timer = window.setTimeout(() => void load(), delayMs);
    return () => { ac.abort(); window.clearTimeout(timer); };
  }, [cameraId, everyMs, delayMs]);

  // revoke the previous picture once the next one is on screen, and the last one on unmount
  useEffect(() => (img ? () => URL.revokeObjectURL(img.url) : undefined), [img]);

  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, []);

  const age = img ? Math.max(0, Math.round((now - img.at) / 1000)) : null;
  return (
    <div className="tile-snapshot" data-testid="tile-snapshot">
      {img ? <img src={img.url} alt="" draggable={false} /> : null}
      <span className="snap-age" data-age={age ?? ''}>
        快照 snapshot{age !== null ? ` · ${age} s` : ''}{error ? ` · ${img ? '刷新失败 refresh failed' : '无画面 no picture'}: ${error}` : ''}
      </span>
    </div>
  );
}
