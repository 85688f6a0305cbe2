import { useEffect } from 'react';
import { Link, NavLink, Outlet, useNavigate } from 'react-router';
import { useAuth, useUser } from '../auth';
import { navPagesFor } from '../pages';
import { ROLE_LABELS } from '../types';
import { ConnectionIndicator } from './ConnectionIndicator';

export function Layout() {
  const user = useUser();
  const { logout } = useAuth();
  const navigate = useNavigate();
  const nav = navPagesFor(user.role);

  // Alt+1..9 jumps to the nav entries, in order.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const n = Number(e.key);
      if (n >= 1 && n <= nav.length) {
        e.preventDefault();
        void navigate(nav[n - 1].path);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [nav, navigate]);

  return (
    <div className="shell">
      <header className="topbar">
        <div className="brand" title="StreetEye">
          <svg className="brand-mark" aria-hidden="true" width="14" height="14" viewBox="0 0 14 14"><circle cx="7" cy="7" r="6" fill="none" stroke="currentColor" strokeWidth="1.5" /><circle cx="7" cy="7" r="3" fill="currentColor" /></svg> StreetEye <span className="muted">城管视频</span>
        </div>
        <nav className="mainnav" aria-label="主导航 Main">
          {nav.map((p, i) => (
            <NavLink key={p.path} to={p.path} title={`Alt+${i + 1}`} data-testid={`nav-${p.path.slice(1)}`}>
              <span className="zh">{p.nav!.zh}</span> <span className="en">{p.nav!.en}</span>
            </NavLink>
          ))}
        </nav>
        <div className="topbar-right">
          <ConnectionIndicator />
          <Link className="whoami" to="/account" title={`${user.username} · 我的账号 My account`} data-testid="account-link">
            {user.displayName || user.username} <span className="role-tag">{ROLE_LABELS[user.role]}</span>
          </Link>
          <button type="button" className="btn btn-ghost" onClick={() => void logout()}>
            退出 Log out
          </button>
        </div>
      </header>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
