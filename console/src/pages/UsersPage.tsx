import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, type FieldErrors } from '../api';
import { useUser } from '../auth';
import { ROLE_LABELS, ROLES, type Page, type Role, type UserItem } from '../types';
import { useDebounced } from '../lib/hooks';
import { fmtTime } from '../lib/format';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { Pager } from '../components/Pager';

const LIMIT = 100;

function NewUserForm({ onCreated }: { onCreated: (u: UserItem) => void }) {
  const [f, setF] = useState({ username: '', displayName: '', password: '', role: 'operator' as Role });
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f, v: string) => { setF((x) => ({ ...x, [k]: v })); setFieldErrors(({ [k]: _gone, ...rest }) => rest); };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      const u = await api.createUser({ username: f.username.trim(), password: f.password, role: f.role, displayName: f.displayName.trim() || undefined });
      setF({ username: '', displayName: '', password: '', role: f.role });
      onCreated(u);
    } catch (err) {
      if (err instanceof ApiError) { setError(err.message); setFieldErrors(err.fieldErrors); } else setError(String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form form-inline" onSubmit={submit} noValidate data-testid="new-user">
      <fieldset disabled={busy}>
        <legend>新建用户 New user</legend>
        <Field label="用户名" en="Username" error={fieldErrors.username} hint="2–64: A-Z a-z 0-9 _ . @ -">
          {(p) => <input {...p} name="username" autoComplete="off" value={f.username} onChange={(e) => set('username', e.target.value)} />}
        </Field>
        <Field label="姓名" en="Display name" error={fieldErrors.displayName}>
          {(p) => <input {...p} name="displayName" autoComplete="off" value={f.displayName} onChange={(e) => set('displayName', e.target.value)} />}
        </Field>
        <Field label="初始密码" en="Password" error={fieldErrors.password} hint="至少 8 位 at least 8 characters">
          {(p) => <input {...p} name="password" type="password" autoComplete="new-password" value={f.password} onChange={(e) => set('password', e.target.value)} />}
        </Field>
        <Field label="角色" en="Role" error={fieldErrors.role}>
          {(p) => (
            <select {...p} name="role" value={f.role} onChange={(e) => set('role', e.target.value)}>
              {ROLES.map((r) => <option key={r} value={r}>{ROLE_LABELS[r]}</option>)}
            </select>
          )}
        </Field>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">{busy ? '创建中… Creating' : '创建 Create'}</button>
        </div>
      </fieldset>
      {error ? <Notice kind="error">{error}</Notice> : null}
    </form>
  );
}

export default function UsersPage() {
  const me = useUser();
  const [q, setQ] = useState('');
  const dq = useDebounced(q, 250);
  const [role, setRole] = useState<Role | ''>('');
  const [offset, setOffset] = useState(0);
  const [data, setData] = useState<Page<UserItem> | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [rowBusy, setRowBusy] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const [showNew, setShowNew] = useState(false);

  useEffect(() => { setOffset(0); }, [dq, role]);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    api.users({ q: dq || undefined, role, limit: LIMIT, offset }, ctl.signal).then(
      (page) => { setData(page); setLoading(false); },
      (err: unknown) => { if (!ctl.signal.aborted) { setError(err instanceof ApiError ? err.message : String(err)); setLoading(false); } },
    );
    return () => ctl.abort();
  }, [dq, role, offset, reload]);

  async function patch(u: UserItem, body: Parameters<typeof api.updateUser>[1], done: string) {
    setRowBusy(u.id);
    setError(null);
    setInfo(null);
    try {
      const updated = await api.updateUser(u.id, body);
      setData((d) => d && { ...d, items: d.items.map((x) => (x.id === u.id ? updated : x)) });
      setInfo(`${u.username}: ${done}`);
    } catch (err) {
      setError(`${u.username}: ${err instanceof ApiError ? err.message : String(err)}`);
    } finally {
      setRowBusy(null);
    }
  }

  function resetPassword(u: UserItem) {
    const pw = window.prompt(`为 ${u.username} 设置新密码（至少 8 位）New password for ${u.username} (8+ characters)`);
    if (pw === null) return;
    if (pw.length < 8) { setError('密码至少 8 位 Password must be at least 8 characters'); return; }
    void patch(u, { password: pw }, '密码已重置，已登出其会话 password reset, sessions ended');
  }

  return (
    <section className="page">
      <div className="page-head">
        <h1>用户管理 <span className="en">Users</span></h1>
        <div className="actions">
          <button type="button" className="btn btn-primary" onClick={() => setShowNew((s) => !s)} aria-expanded={showNew}>
            {showNew ? '收起 Close' : '+ 新建用户 New user'}
          </button>
        </div>
      </div>
      {showNew ? <NewUserForm onCreated={(u) => { setInfo(`已创建 Created ${u.username}`); setReload((n) => n + 1); }} /> : null}
      <div className="toolbar">
        <input type="search" className="search" placeholder="搜索 用户名/姓名 Search" aria-label="搜索用户 Search users" value={q} onChange={(e) => setQ(e.target.value)} />
        <select aria-label="角色 Role" value={role} onChange={(e) => setRole(e.target.value as Role | '')} className={role ? 'filter-on' : undefined}>
          <option value="">角色: 全部</option>
          {ROLES.map((r) => <option key={r} value={r}>{ROLE_LABELS[r]}</option>)}
        </select>
        <span className="spacer" />
        <Pager offset={offset} limit={LIMIT} total={data?.total ?? 0} onOffset={setOffset} />
      </div>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {info ? <Notice kind="ok">{info}</Notice> : null}
      <div className={`table-wrap${loading ? ' is-loading' : ''}`} aria-busy={loading}>
        {loading ? <div className="loading-line" /> : null}
        <table className="grid-table" data-testid="users-table">
          <thead>
            <tr><th>用户名 Username</th><th>姓名 Name</th><th>角色 Role</th><th>状态 State</th><th>最近登录 Last login</th><th>创建 Created</th><th>操作 Actions</th></tr>
          </thead>
          <tbody>
            {data?.items.map((u) => {
              const self = u.id === me.id;
              const busy = rowBusy === u.id;
              return (
                <tr key={u.id} className={u.disabled ? 'row-disabled' : undefined} data-username={u.username}>
                  <td className="mono">{u.username}{self ? <span className="muted"> (我 me)</span> : null}</td>
                  <td>{u.displayName ?? '—'}</td>
                  <td>
                    <select aria-label={`${u.username} 角色 role`} value={u.role} disabled={busy}
                      onChange={(e) => { const r = e.target.value as Role; void patch(u, { role: r }, `角色改为 role → ${ROLE_LABELS[r]}`); }}>
                      {ROLES.map((r) => <option key={r} value={r}>{ROLE_LABELS[r]}</option>)}
                    </select>
                  </td>
                  <td>{u.disabled ? <span className="badge badge-err">已停用 disabled</span> : <span className="badge badge-ok">启用 active</span>}</td>
                  <td className="tabular muted">{fmtTime(u.lastLoginAt)}</td>
                  <td className="tabular muted">{fmtTime(u.createdAt)}</td>
                  <td><div className="row-actions">
                    <button type="button" className={`btn btn-small${u.disabled ? '' : ' btn-danger'}`} disabled={busy || self}
                      title={self ? '不能停用自己 You cannot disable yourself' : undefined}
                      onClick={() => void patch(u, { disabled: !u.disabled }, u.disabled ? '已启用 enabled' : '已停用 disabled')}>
                      {u.disabled ? '启用 Enable' : '停用 Disable'}
                    </button>
                    <button type="button" className="btn btn-small" disabled={busy} onClick={() => resetPassword(u)}>重置密码 Reset password</button>
                  </div></td>
                </tr>
              );
            })}
            {data && !data.items.length ? <tr><td colSpan={7} className="empty">没有用户 No users match.</td></tr> : null}
          </tbody>
        </table>
      </div>
    </section>
  );
}
