import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../api';
import { fleetApi, type CameraAlarm } from '../fleet-api';
import { fmtTime } from '../lib/format';
import { useLiveMessages } from '../live';

const KIND: Record<CameraAlarm['kind'], string> = {
  tamper: '视频遮挡/移位 Tampering', video_loss: '视频丢失 Video loss', motion: '移动侦测 Motion', other: '其他 Other',
};

/** The cameras' own active alarms (ONVIF events), newest first, refreshed as they come and go; acknowledge each. */
export function CameraAlarms() {
  const [alarms, setAlarms] = useState<CameraAlarm[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    const ctl = new AbortController();
    fleetApi.alarms({ active: true, limit: 100 }, ctl.signal).then((p) => { setAlarms(p.items); setError(null); }, (e: unknown) => {
      if (!ctl.signal.aborted) setError(e instanceof ApiError ? e.message : '无法读取报警 Cannot load alarms');
    });
    return () => ctl.abort();
  }, [tick]);
  useLiveMessages({ topic: 'camera.alarm' }, refresh);

  const ack = (a: CameraAlarm) => fleetApi.ackAlarm(a.id).then(refresh, (e: unknown) => setError(e instanceof ApiError ? e.message : '确认失败 Acknowledge failed'));

  return (
    <>
      {error ? <div className="muted" role="alert">{error}</div> : null}
      {alarms && !alarms.length ? <div className="muted">没有 None</div> : null}
      <div className="fleet-list">
        <table className="grid-table" data-testid="camera-alarms">
          <tbody>
            {(alarms ?? []).map((a) => (
              <tr key={a.id} data-kind={a.kind}>
                <td>{a.cameraName}</td>
                <td>{KIND[a.kind]}</td>
                <td className="muted tabular">{fmtTime(a.startedAt)}</td>
                <td>{a.ackedBy ? <span className="muted">已确认 {a.ackedBy}</span>
                  : <button type="button" className="btn btn-small" onClick={() => void ack(a)}>确认 Ack</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
