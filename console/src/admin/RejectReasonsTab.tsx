import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, type FieldErrors } from '../api';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { reviewApi, type EventType, type RejectReason } from '../review/review-api';

/**
 * 驳回原因 per event type: what the review desk offers when a candidate of that type is rejected. Add, rename,
 * reorder, disable, remove. Keys permanent_object, legal_parking_bay and licensed_vendor also teach the rule a
 * suppression region; "other" asks the reviewer for a note.
 */
export function RejectReasonsTab() {
  const [types, setTypes] = useState<EventType[]>([]);
  const [eventType, setEventType] = useState('illegal_motor_parking');
  const [rows, setRows] = useState<RejectReason[] | null>(null);
  const [f, setF] = useState({ key: '', nameZh: '', nameEn: '', sort: '50' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => { reviewApi.eventTypes().then(setTypes, (err: unknown) => setError(String(err))); }, []);
  useEffect(() => {
    setRows(null);
    reviewApi.rejectReasons(eventType).then((r) => setRows(r.items), (err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
  }, [eventType, reload]);

  async function put(key: string, body: { nameZh: string; nameEn: string; sort?: number; enabled?: boolean }, done: string) {
    setError(null);
    try {
      await reviewApi.putRejectReason(eventType, key, body);
      setInfo(done);
      setReload((n) => n + 1);
      return true;
    } catch (err) {
      if (err instanceof ApiError) { setError(err.message); setErrors(err.fieldErrors); } else setError(String(err));
      return false;
    }
  }

  async function add(e: FormEvent) {
    e.preventDefault();
    const bad: FieldErrors = {};
    if (!/^[a-z][a-z0-9_]{1,63}$/.test(f.key)) bad.key = '小写字母开头，只用小写字母、数字、下划线 a lower-case letter first, then lower-case letters, digits or _';
    if (!f.nameZh.trim()) bad.nameZh = '请填写中文名称 give the Chinese name';
    if (!f.nameEn.trim()) bad.nameEn = '请填写英文名称 give the English name';
    const sort = Number(f.sort);
    if (!Number.isInteger(sort) || sort < 0 || sort > 10_000) bad.sort = '0-10000 的整数 a whole number 0-10000';
    setErrors(bad);
    if (Object.keys(bad).length) return;
    if (await put(f.key, { nameZh: f.nameZh.trim(), nameEn: f.nameEn.trim(), sort }, `已添加 Added ${f.nameZh.trim()}`)) setF({ key: '', nameZh: '', nameEn: '', sort: '50' });
  }

  async function remove(r: RejectReason) {
    if (!window.confirm(`删除驳回原因 Delete reason “${r.nameZh}”?`)) return;
    try { await reviewApi.deleteRejectReason(r.eventType, r.key); setInfo(`已删除 Deleted ${r.nameZh}`); setReload((n) => n + 1); } catch (err) { setError(err instanceof ApiError ? err.message : String(err)); }
  }

  function rename(r: RejectReason) {
    const zh = window.prompt(`${r.nameZh} · 中文名称 Chinese name`, r.nameZh);
    if (zh === null || !zh.trim()) return;
    void put(r.key, { nameZh: zh.trim(), nameEn: r.nameEn }, `${zh.trim()}: 已更新 updated`);
  }

  return (
    <div data-testid="reject-reasons-tab">
      <Field label="事件类型" en="Event type">{(p) => (
        <select {...p} value={eventType} onChange={(e) => setEventType(e.target.value)} data-testid="reasons-event-type">
          {types.map((t) => <option key={t.key} value={t.key}>{t.code} {t.nameZh}</option>)}
        </select>)}
      </Field>
      <form className="form form-inline" onSubmit={(e) => void add(e)} noValidate data-testid="reason-form">
        <fieldset>
          <legend>新增驳回原因 Add a reason</legend>
          <Field label="代码" en="Key" error={errors.key}>{(p) => <input {...p} name="key" value={f.key} onChange={(e) => setF((x) => ({ ...x, key: e.target.value }))} placeholder="taxi_rank" />}</Field>
          <Field label="中文名称" en="Chinese name" error={errors.nameZh}>{(p) => <input {...p} name="nameZh" value={f.nameZh} maxLength={40} onChange={(e) => setF((x) => ({ ...x, nameZh: e.target.value }))} />}</Field>
          <Field label="英文名称" en="English name" error={errors.nameEn}>{(p) => <input {...p} name="nameEn" value={f.nameEn} maxLength={80} onChange={(e) => setF((x) => ({ ...x, nameEn: e.target.value }))} />}</Field>
          <Field label="顺序" en="Order" error={errors.sort}>{(p) => <input {...p} name="sort" type="number" value={f.sort} onChange={(e) => setF((x) => ({ ...x, sort: e.target.value }))} />}</Field>
          <div className="form-actions"><button type="submit" className="btn btn-primary">添加 Add</button></div>
        </fieldset>
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {info ? <Notice kind="ok">{info}</Notice> : null}
      <div className="table-wrap">
        <table className="grid-table" data-testid="reasons-table">
          <thead><tr><th className="num">顺序 Order</th><th>原因 Reason</th><th>代码 Key</th><th>状态 State</th><th /></tr></thead>
          <tbody>
            {rows === null ? <tr><td colSpan={5}><div className="loading-line" /></td></tr> : null}
            {rows?.length === 0 ? <tr><td colSpan={5} className="empty">此类型没有驳回原因 No reasons for this type</td></tr> : null}
            {rows?.map((r) => (
              <tr key={r.key} data-reason={r.key} className={r.enabled ? undefined : 'row-disabled'}>
                <td className="num tabular">{r.sort}</td>
                <td>{r.nameZh} <span className="en">{r.nameEn}</span></td>
                <td className="mono">{r.key}</td>
                <td>{r.enabled ? <span className="badge badge-ok">启用 active</span> : <span className="badge badge-off">停用 disabled</span>}</td>
                <td><div className="row-actions">
                  <button type="button" className="btn btn-small" onClick={() => rename(r)}>改名 Rename</button>
                  <button type="button" className={`btn btn-small${r.enabled ? ' btn-danger' : ''}`}
                    onClick={() => void put(r.key, { nameZh: r.nameZh, nameEn: r.nameEn, enabled: !r.enabled }, `${r.nameZh}: ${r.enabled ? '已停用 disabled' : '已启用 enabled'}`)}>
                    {r.enabled ? '停用 Disable' : '启用 Enable'}
                  </button>
                  <button type="button" className="btn btn-small btn-ghost" onClick={() => void remove(r)}>删除 Delete</button>
                </div></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
