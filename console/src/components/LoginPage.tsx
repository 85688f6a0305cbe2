import { useState, type FormEvent } from 'react';
import { useAuth } from '../auth';
import { ApiError } from '../api';

export function LoginPage() {
  const { login, expired } = useAuth();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setPassword('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login-wrap">
      <form className="login" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          <span className="brand-mark" aria-hidden="true">◉</span> StreetEye <span className="muted">城管视频综合平台</span>
        </h1>
        {expired && !error ? <div className="notice notice-warn" role="status">会话已过期，请重新登录。Your session ended; please log in again.</div> : null}
        <label htmlFor="login-username">用户名 <span className="en">Username</span></label>
        <input id="login-username" name="username" autoComplete="username" autoFocus required value={username}
          onChange={(e) => setUsername(e.target.value)} />
        <label htmlFor="login-password">密码 <span className="en">Password</span></label>
        <input id="login-password" name="password" type="password" autoComplete="current-password" required value={password}
          onChange={(e) => setPassword(e.target.value)} />
        {error ? <div className="notice notice-error" role="alert" data-testid="login-error">{error}</div> : null}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? '登录中… Logging in' : '登录 Log in'}
        </button>
      </form>
    </div>
  );
}
