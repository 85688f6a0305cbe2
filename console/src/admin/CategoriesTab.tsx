import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, type FieldErrors } from '../api';
import { fmtTime } from '../lib/format';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { casesApi, type EventTypeLimit } from '../cases/cases-api';
import { adminApi, type Category110 } from './admin-api';

/** The 110 category map: which event type a 110 incident category becomes (local data per city). */
export function CategoriesTab() {
  const [rows, setRows] = useState<Category110[] | null>(null);
  const [types, setTypes] = useState<EventTypeLimit[]>([]);
  const [f, setF] = useState({ code: '', name: '', eventType: '', enabled: true });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    adminApi.categories(ac.signal).then((r) => setRows(r.items), (err: unknown) => { if (!ac.signal.aborted) setError(String(err)); });
    casesApi.timeLimits(ac.signal).then((r) => setTypes(r.items)).catch(() => {});
    return () => ac.abort();
  }, [reload]);

  async function put(code: string, body: { name: string; eventType: string; enabled: boolean }, done: string) {
    setError(null);
    try {
      await adminApi.putCategory(code, body);
      setInfo(done);
      setReload((n) => n + 1);
      return true;
    } catch (err) {
      if (err instanceof ApiError) { setError(`${code}: ${err.message}`); setErrors(err.fieldErrors); } else setError(String(err));
      return false;
    }
  }

  async function add(e: FormEvent) {
    e.preventDefault();
    const errs: FieldErrors = {};
    if (!/^[0-9A-Za-z_.-]{1,32}$/.test(f.code)) errs.code = '1–32 位字母、数字或 _ . - letters, digits, _ . - (1–32)';
    if (!f.name.trim()) errs.name = '请填写类别名称 give the category name';
    if (!f.eventType) errs.eventType = '请选择事件类型 pick an event type';
    setErrors(errs);
    if (Object.keys(errs).length) return;
    if (await put(f.code, { name: f.name.trim(), eventType: f.eventType, enabled: f.enabled }, `已保存 Saved ${f.code}`)) setF({ code: '', name: '', eventType: '', enabled: true });
  }

  return (
    <div data-testid="categories-tab">
      <form className="form form-inline" onSubmit={add} noValidate data-testid="category-form">
        <fieldset>
          <legend>新增或修改类别 Add or change a category</legend>
          <Field label="类别代码" en="Code" error={errors.code}>{(p) => <input {...p} name="code" value={f.code} onChange={(e) => setF((x) => ({ ...x, code: e.target.value }))} />}</Field>
          <Field label="类别名称" en="Name" error={errors.name}>{(p) => <input {...p} name="name" value={f.name} onChange={(e) => setF((x) => ({ ...x, name: e.target.value }))} />}</Field>
          <Field label="对应事件类型" en="Event type" error={errors.eventType}>
            {(p) => (
              <select {...p} name="eventType" value={f.eventType} onChange={(e) => setF((x) => ({ ...x, eventType: e.target.value }))}>
                <option value="">请选择 Pick…</option>
                {types.map((t) => <option key={t.eventType} value={t.eventType}>{t.code} {t.name}</option>)}
              </select>
            )}
          </Field>
          <label className="check" style={{ gridColumn: 'auto', marginTop: 18 }}><input type="checkbox" checked={f.enabled} onChange={(e) => setF((x) => ({ ...x, enabled: e.target.checked }))} /> 启用 enabled</label>
          <div className="form-actions"><button type="submit" className="btn btn-primary">保存 Save</button></div>
        </fieldset>
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {info ? <Notice kind="ok">{info}</Notice> : null}
      <div className="table-wrap">
        <table className="grid-table" data-testid="categories-table">
          <thead><tr><th>110 类别代码 Code</th><th>类别名称 Name</th><th>事件类型 Event type</th><th>启用 Enabled</th><th>更新 Updated</th><th /></tr></thead>
          <tbody>
            {rows?.map((c) => (
              <tr key={c.code} data-code={c.code} className={c.enabled ? undefined : 'row-disabled'}>
                <td className="mono">{c.code}</td>
                <td>{c.name}</td>
                <td>
                  <select className="select-small" aria-label={`${c.code} 事件类型 event type`} value={c.eventType}
                    onChange={(e) => void put(c.code, { name: c.name, eventType: e.target.value, enabled: c.enabled }, `${c.code} → ${e.target.value}`)}>
                    {types.map((t) => <option key={t.eventType} value={t.eventType}>{t.code} {t.name}</option>)}
                  </select>
                </td>
                <td>{c.enabled ? <span className="badge badge-ok">启用</span> : <span className="badge badge-off">停用</span>}</td>
                <td className="tabular muted">{fmtTime(c.updatedAt)}</td>
                <td>
                  <button type="button" className="btn btn-small" onClick={() => void put(c.code, { name: c.name, eventType: c.eventType, enabled: !c.enabled }, `${c.code}: ${c.enabled ? '已停用 disabled' : '已启用 enabled'}`)}>
                    {c.enabled ? '停用 Disable' : '启用 Enable'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
