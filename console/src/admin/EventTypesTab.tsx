import { useEffect, useState } from 'react';
import { ApiError } from '../api';
import { fmtTime } from '../lib/format';
import { Notice } from '../components/Notice';
import { casesApi, type Calendar, type EventTypeLimit } from '../cases/cases-api';
import { fmtWorkingHours } from '../cases/labels';

const WEEKDAYS = ['', '一', '二', '三', '四', '五', '六', '日'];

/** Event types and their time limits (时限) in working hours: a change applies to cases filed afterwards. */
export function EventTypesTab() {
  const [rows, setRows] = useState<EventTypeLimit[] | null>(null);
  const [calendar, setCalendar] = useState<Calendar | null>(null);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);

  useEffect(() => {
    const ac = new AbortController();
    casesApi.timeLimits(ac.signal).then((r) => { setRows(r.items); setCalendar(r.calendar); }, (err: unknown) => { if (!ac.signal.aborted) setError(String(err)); });
    return () => ac.abort();
  }, []);

  async function save(t: EventTypeLimit) {
    const hours = Number(draft[t.eventType]);
    if (!(hours > 0)) { setError(`${t.name}: 时限须为大于 0 的小时数 the limit must be more than 0 hours`); return; }
    setError(null);
    try {
      const u = await casesApi.setTimeLimit(t.eventType, hours);
      setRows((r) => r && r.map((x) => (x.eventType === t.eventType ? u : x)));
      setDraft(({ [t.eventType]: _g, ...rest }) => rest);
      setInfo(`${t.name}: 时限改为 ${fmtWorkingHours(hours)}，对之后立案的案卷生效 applies to cases filed from now`);
    } catch (err) {
      setError(`${t.name}: ${err instanceof ApiError ? err.message : String(err)}`);
    }
  }

  return (
    <div data-testid="event-types-tab">
      {calendar ? (
        <p className="muted">
          工作时间 Working time: 周{calendar.workdays.map((d) => WEEKDAYS[d]).join('、')} {calendar.periods.map(([a, b]) => `${a}–${b}`).join('，')}
          {calendar.holidays.length ? `；节假日 holidays ${calendar.holidays.join(', ')}` : ''}（UTC{calendar.utcOffsetMinutes >= 0 ? '+' : ''}{calendar.utcOffsetMinutes / 60}）
        </p>
      ) : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      {info ? <Notice kind="ok">{info}</Notice> : null}
      <div className="table-wrap">
        <table className="grid-table" data-testid="event-types-table">
          <thead><tr><th>编码 Code</th><th>事件类型 Event type</th><th>标识 Key</th><th>启用 Enabled</th><th>处置时限 Time limit</th><th>修改为（工作小时）Set to (working h)</th><th>更新 Updated</th></tr></thead>
          <tbody>
            {rows?.map((t) => (
              <tr key={t.eventType} data-event-type={t.eventType}>
                <td className="mono">{t.code}</td>
                <td>{t.name}</td>
                <td className="mono muted">{t.eventType}</td>
                <td>{t.enabled ? <span className="badge badge-ok">启用</span> : <span className="badge badge-off">停用</span>}</td>
                <td data-testid="limit">{fmtWorkingHours(t.hours)}</td>
                <td>
                  <div className="row-actions">
                    <input type="number" min="0.5" step="0.5" style={{ width: 90, height: 22 }} aria-label={`${t.name} 时限 hours`} value={draft[t.eventType] ?? ''}
                      placeholder={t.hours === null ? '—' : String(t.hours)} onChange={(e) => setDraft((d) => ({ ...d, [t.eventType]: e.target.value }))} />
                    <button type="button" className="btn btn-small" disabled={!draft[t.eventType]} onClick={() => void save(t)}>保存 Save</button>
                  </div>
                </td>
                <td className="tabular muted">{fmtTime(t.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
