import { createContext, use, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, setUnauthorizedHandler } from './api';
import type { Role, SessionUser } from './types';

interface AuthState {
  /** undefined while the first /api/auth/me is in flight. */
  user: SessionUser | null | undefined;
  login(username: string, password: string): Promise<SessionUser>;
  logout(): Promise<void>;
  /** True when the session ended under the user (401 on a later request). */
  expired: boolean;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    const ctl = { live: true };
    api.me().then((u) => { if (ctl.live) setUser(u); }, () => { if (ctl.live) setUser(null); });
    setUnauthorizedHandler(() => { setExpired(true); setUser(null); });
    return () => { ctl.live = false; setUnauthorizedHandler(null); };
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    const { user: u } = await api.login(username, password);
    setExpired(false);
    setUser(u);
    return u;
  }, []);

  const logout = useCallback(async () => {
    try { await api.logout(); } finally { setExpired(false); setUser(null); }
  }, []);

  const value = useMemo(() => ({ user, login, logout, expired }), [user, login, logout, expired]);
  return <AuthContext value={value}>{children}</AuthContext>;
}

export function useAuth(): AuthState {
  const ctx = use(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}

/** The logged-in user; only for components under RequireAuth. */
export function useUser(): SessionUser {
  const { user } = useAuth();
  if (!user) throw new Error('useUser without a session');
  return user;
}

export function hasRole(user: SessionUser | null | undefined, roles: readonly Role[]): boolean {
  return !!user && roles.includes(user.role);
}
