import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, type FieldErrors } from '../api';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { casesApi, type Department } from '../cases/cases-api';

/** Departments cases are dispatched to (处置部门): a disabled one keeps its cases and takes no new ones. */
export function DepartmentsTab() {
  const [rows, setRows] = useState<Department[] | null>(null);
  const [f, setF] = useState({ name: '', contact: '', phone: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    casesApi.departments(ac.signal).then((r) => setRows(r.items), (err: unknown) => { if (!ac.signal.aborted) setError(String(err)); });
    return () => ac.abort();
  }, [reload]);

  async function add(e: FormEvent) {
    e.preventDefault();
    if (!f.name.trim()) { setErrors({ name: '请填写部门名称 give the department name' }); return; }
    setError(null);
    setErrors({});
    try {
      const d = await casesApi.createDepartment({ name: f.name.trim(), contact: f.contact.trim() || null, phone: f.phone.trim() || null });
      setInfo(`已添加 Added ${d.name}`);
      setF({ name: '', contact: '', phone: '' });
      setReload((n) => n + 1);
    } catch (err) {
      if (err instanceof ApiError) { setError(err.message); setErrors(err.fieldErrors); } else setError(String(err));
    }
  }

  async function patch(d: Department, body: Parameters<typeof casesApi.updateDepartment>[1], done: string) {
    setError(null);
    try { await casesApi.updateDepartment(d.id, body); setInfo(`${d.name}: ${done}`); setReload((n) => n + 1); } catch (err) { setError(`${d.name}: ${err instanceof ApiError ? err.message : String(err)}`); }
  }

  function edit(d: Department, field: 'contact' | 'phone', zh: string) {
    const v = window.prompt(`${d.name} · ${zh}`, d[field] ?? '');
    if (v === null) return;
    void patch(d, { [field]: v.trim() || null }, `${zh}已更新 updated`);
  }

  return (
    <div data-testid="departments-tab">
      <form className="form form-inline" onSubmit={add} noValidate data-testid="department-form">
        <fieldset>
          <legend>新增部门 Add a department</legend>
          <Field label="部门名称" en="Name" error={errors.name}>{(p) => <input {...p} name="name" value={f.name} onChange={(e) => setF((x) => ({ ...x, name: e.target.value }))} />}</Field>
          <Field label="联系人" en="Contact" error={errors.contact}>{(p) => <input {...p} name="contact" value={f.contact} onChange={(e) => setF((x) => ({ ...x, contact: e.target.value }))} />}</Field>
          <Field label="电话" en="Phone" error={errors.phone} hint="数字、空格、+ - ( ) digits, spaces, + - ( )">{(p) => <input {...p} name="phone" value={f.phone} onChange={(e) => setF((x) => ({ ...x, phone: e.target.value }))} />}</Field>
          <div />
          <div className="form-actions"><button type="submit" className="btn btn-primary">添加 Add</button></div>
        </fieldset>
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {info ? <Notice kind="ok">{info}</Notice> : null}
      <div className="table-wrap">
        <table className="grid-table" data-testid="departments-table">
          <thead><tr><th>部门 Department</th><th>联系人 Contact</th><th>电话 Phone</th><th className="num">在办案卷 Open cases</th><th>状态 State</th><th /></tr></thead>
          <tbody>
            {rows?.map((d) => (
              <tr key={d.id} data-department={d.name} className={d.enabled ? undefined : 'row-disabled'}>
                <td>{d.name}</td>
                <td>{d.contact ?? '—'}</td>
                <td className="mono">{d.phone ?? '—'}</td>
                <td className="num tabular">{d.openCases}</td>
                <td>{d.enabled ? <span className="badge badge-ok">启用 active</span> : <span className="badge badge-off">停用 disabled</span>}</td>
                <td><div className="row-actions">
                  <button type="button" className="btn btn-small" onClick={() => edit(d, 'contact', '联系人')}>联系人 Contact</button>
                  <button type="button" className="btn btn-small" onClick={() => edit(d, 'phone', '电话')}>电话 Phone</button>
                  <button type="button" className={`btn btn-small${d.enabled ? ' btn-danger' : ''}`} onClick={() => void patch(d, { enabled: !d.enabled }, d.enabled ? '已停用 disabled' : '已启用 enabled')}>
                    {d.enabled ? '停用 Disable' : '启用 Enable'}
                  </button>
                </div></td>
              </tr>
            ))}
            {rows && !rows.length ? <tr><td colSpan={6} className="empty">还没有部门：先添加，才能派遣案卷。No departments yet: add one to dispatch cases.</td></tr> : null}
          </tbody>
        </table>
      </div>
    </div>
  );
}
