import { lazy, Suspense } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ApiKeysTab } from '../admin/ApiKeysTab';
import { EventTypesTab } from '../admin/EventTypesTab';
import { CategoriesTab } from '../admin/CategoriesTab';
import { DepartmentsTab } from '../admin/DepartmentsTab';
import { RejectReasonsTab } from '../admin/RejectReasonsTab';
import '../cases/cases.css';

const UsersPage = lazy(() => import('./UsersPage'));

/** 系统管理: one nav entry for the administration tables (keeps the admin's navigation inside 1920 px). */
const TABS = [
  { key: 'users', zh: '用户', en: 'Users' },
  { key: 'keys', zh: 'API 密钥', en: 'API keys' },
  { key: 'event-types', zh: '事件类型与时限', en: 'Event types & limits' },
  { key: 'categories', zh: '110 类别映射', en: '110 categories' },
  { key: 'departments', zh: '处置部门', en: 'Departments' },
  { key: 'reject-reasons', zh: '驳回原因', en: 'Reject reasons' },
] as const;

export default function AdminPage() {
  const [params] = useSearchParams();
  const tab = TABS.find((t) => t.key === params.get('tab'))?.key ?? 'users';
  return (
    <section className="page" data-testid="admin-page">
      <div className="page-head"><h1>系统管理 <span className="en">Administration</span></h1></div>
      <nav className="admin-tabs" aria-label="管理项 Administration">
        {TABS.map((t) => (
          <Link key={t.key} to={`/admin?tab=${t.key}`} className={tab === t.key ? 'active' : undefined} data-testid={`admin-tab-${t.key}`} aria-current={tab === t.key ? 'page' : undefined}>
            {t.zh} <span className="en">{t.en}</span>
          </Link>
        ))}
      </nav>
      {tab === 'users' ? <Suspense fallback={<div className="loading-line" />}><div className="embedded-page"><UsersPage /></div></Suspense> : null}
      {tab === 'keys' ? <ApiKeysTab /> : null}
      {tab === 'event-types' ? <EventTypesTab /> : null}
      {tab === 'categories' ? <CategoriesTab /> : null}
      {tab === 'departments' ? <DepartmentsTab /> : null}
      {tab === 'reject-reasons' ? <RejectReasonsTab /> : null}
    </section>
  );
}
