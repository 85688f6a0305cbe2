import { Suspense } from 'react';
import { createBrowserRouter, Navigate, useLocation } from 'react-router';
import { useAuth } from './auth';
import { homeFor, PAGES, type PageDef } from './pages';
import { Layout } from './components/Layout';
import { LoginPage } from './components/LoginPage';
import { Notice } from './components/Notice';
import { LiveProvider } from './live';

function RequireAuth() {
  const { user } = useAuth();
  const location = useLocation();
  if (user === undefined) return <div className="splash">StreetEye · 正在连接 Connecting…</div>;
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return (
    <LiveProvider>
      <Layout />
    </LiveProvider>
  );
}

function Gate({ page }: { page: PageDef }) {
  const { user } = useAuth();
  if (!user || !page.roles.includes(user.role)) {
    return <Notice kind="error" title="无权访问 Not allowed">此页面不对当前角色开放。This page is not available to your role.</Notice>;
  }
  return (
    <Suspense fallback={<div className="loading-line" aria-label="loading" />}>
      <page.Component />
    </Suspense>
  );
}

function Home() {
  const { user } = useAuth();
  return <Navigate to={user ? homeFor(user.role) : '/login'} replace />;
}

function LoginRoute() {
  const { user } = useAuth();
  const location = useLocation();
  if (user) {
    const from = (location.state as { from?: string } | null)?.from;
    return <Navigate to={from && from !== '/login' ? from : homeFor(user.role)} replace />;
  }
  if (user === undefined) return <div className="splash">StreetEye · 正在连接 Connecting…</div>;
  return <LoginPage />;
}

export const router = createBrowserRouter([
  { path: '/login', element: <LoginRoute /> },
  {
    element: <RequireAuth />,
    children: [
      { index: true, element: <Home /> },
      ...PAGES.map((page) => ({ path: page.path, element: <Gate page={page} /> })),
      { path: '*', element: <Notice kind="error" title="页面不存在 Not found">没有这个页面。No such page.</Notice> },
    ],
  },
]);

