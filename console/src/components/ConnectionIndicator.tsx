import { useEffect, useState } from 'react';
import { useLiveState, type LiveState } from '../live';

export const LIVE_LABELS: Record<LiveState, string> = {
  connecting: '连接中 Connecting',
  live: '实时 Live',
  offline: '离线 Offline',
  error: '连接失败 Error',
};

/** Header dot: the live push connection's state, with the retry countdown when down. */
export function ConnectionIndicator() {
  const { state, retryAt } = useLiveState();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!retryAt) return;
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, [retryAt]);
  const secs = retryAt ? Math.max(0, Math.ceil((retryAt - now) / 1000)) : 0;
  return (
    <span className={`conn conn-${state}`} role="status" aria-live="polite" data-testid="live-state" data-state={state}
      title="实时推送连接 Live push connection (/api/ws)">
      <span className="dot" aria-hidden="true" />
      {LIVE_LABELS[state]}
      {retryAt && (state === 'offline' || state === 'error') ? <span className="muted"> · {secs}s</span> : null}
    </span>
  );
}
