import { useEffect, useState } from 'react';
import { reviewApi, type EngineStatus } from '../review/review-api';
import { Notice } from './Notice';

/**
 * The analytics engine's state where people depend on it (Rules, Review): when detection is off or degraded the
 * page says so and why, Chinese first, instead of an empty queue that looks like a quiet street.
 * Polls while the engine is not ready (it may be starting), every 15 s.
 */
export function EngineNotice({ onStatus }: { onStatus?: (s: EngineStatus) => void }) {
  const [status, setStatus] = useState<EngineStatus | null>(null);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      reviewApi.status().then((s) => {
        if (stop) return;
        setStatus(s);
        onStatus?.(s);
        if (s.state !== 'ready') timer = setTimeout(load, 15_000);
      }, () => { if (!stop) timer = setTimeout(load, 15_000); });
    };
    load();
    return () => { stop = true; if (timer) clearTimeout(timer); };
  }, [onStatus]);
  if (!status?.notice) return null;
  return (
    <div data-testid="engine-notice">
      <Notice kind={status.state === 'starting' ? 'info' : 'warn'} title={status.notice.zh}>{status.notice.en}</Notice>
    </div>
  );
}
