import { useState, type FormEvent } from 'react';
import { ApiError, type FieldErrors } from '../api';
import { useUser } from '../auth';
import { ROLE_LABELS } from '../types';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { adminApi } from '../admin/admin-api';

/** 我的账号: every user changes their own password (the current one is asked again; other sessions end). */
export default function AccountPage() {
  const user = useUser();
  const [f, setF] = useState({ current: '', next: '', again: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const errs: FieldErrors = {};
    if (!f.current) errs.currentPassword = '请输入当前密码 enter your current password';
    if (f.next.length < 8) errs.newPassword = '新密码至少 8 位 at least 8 characters';
    else if (f.next !== f.again) errs.again = '两次输入的新密码不一致 the two new passwords differ';
    setErrors(errs);
    setDone(false);
    if (Object.keys(errs).length) return;
    setBusy(true);
    setError(null);
    try {
      await adminApi.changePassword(f.current, f.next);
      setDone(true);
      setF({ current: '', next: '', again: '' });
    } catch (err) {
      if (err instanceof ApiError) { setError(err.message); setErrors(err.fieldErrors); } else setError(String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="page" data-testid="account-page">
      <div className="page-head"><h1>我的账号 <span className="en">My account</span></h1></div>
      <p>{user.displayName ?? user.username} <span className="mono muted">{user.username}</span> · {ROLE_LABELS[user.role]}</p>
      <form className="form" onSubmit={submit} noValidate data-testid="password-form" style={{ maxWidth: 420 }}>
        <fieldset disabled={busy} style={{ gridTemplateColumns: '1fr' }}>
          <legend>修改密码 Change password</legend>
          <Field label="当前密码" en="Current password" error={errors.currentPassword}>
            {(p) => <input {...p} name="currentPassword" type="password" autoComplete="current-password" value={f.current} onChange={(e) => setF((x) => ({ ...x, current: e.target.value }))} />}
          </Field>
          <Field label="新密码" en="New password" error={errors.newPassword} hint="至少 8 位 at least 8 characters">
            {(p) => <input {...p} name="newPassword" type="password" autoComplete="new-password" value={f.next} onChange={(e) => setF((x) => ({ ...x, next: e.target.value }))} />}
          </Field>
          <Field label="再次输入新密码" en="New password again" error={errors.again}>
            {(p) => <input {...p} name="again" type="password" autoComplete="new-password" value={f.again} onChange={(e) => setF((x) => ({ ...x, again: e.target.value }))} />}
          </Field>
          <div className="form-actions"><button type="submit" className="btn btn-primary">修改 Change</button></div>
        </fieldset>
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {done ? <Notice kind="ok">密码已修改，其他设备上的登录已退出。Password changed; your other sessions were signed out.</Notice> : null}
    </section>
  );
}
