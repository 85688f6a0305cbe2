import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { ApiError, queryString, type Query } from '../api';
import { fmtTime } from '../lib/format';
import { useDebounced } from '../lib/hooks';
import { Notice } from '../components/Notice';
import { Pager } from '../components/Pager';
import { adminApi, type AuditEntry, type CameraAccess } from '../admin/admin-api';
import type { Page } from '../types';
import '../cases/cases.css';

/**
 * 审计: the audit trail (who did what to which target, when, from which address; search, filters, CSV export) and
 * the camera access log (who watched which camera when), for admins and the police.
 */
const LIMIT = 100;
const ACTION_GROUPS = [
  ['', '操作: 全部 All'], ['auth.', '登录 auth'], ['case.', '案卷 cases'], ['city.', '城市平台 city'], ['camera.', '点位 cameras'],
  ['user.', '用户 users'], ['api_key.', 'API 密钥 keys'], ['incident.', '110 警情'], ['event.', '事件审核 review'], ['department.', '部门 departments'],
] as const;
const KIND: Record<string, string> = { live: '实时 live', snapshot: '抓图 snapshot', evidence: '证据 evidence' };

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function AuditTrail() {
  const [f, setF] = useState({ q: '', username: '', action: '', targetType: '', ip: '', from: '', to: '' });
  const df = useDebounced(f, 300);
  const [offset, setOffset] = useState(0);
  const [data, setData] = useState<Page<AuditEntry> | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const query: Query = { q: df.q.trim(), username: df.username.trim(), action: df.action, targetType: df.targetType.trim(), ip: df.ip.trim(), from: toIso(df.from), to: toIso(df.to) };
  const key = JSON.stringify(query);
  useEffect(() => { setOffset(0); }, [key]);
  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    adminApi.audit({ ...query, limit: LIMIT, offset }, ac.signal).then(
      (r) => { setData(r); setError(null); setLoading(false); },
      (err: unknown) => { if (!ac.signal.aborted) { setError(err instanceof ApiError ? err.message : String(err)); setLoading(false); } },
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, offset]);
  const set = (k: keyof typeof f, v: string) => setF((x) => ({ ...x, [k]: v }));
  return (
    <div data-testid="audit-trail">
      <div className="toolbar">
        <input type="search" className="search" name="q" placeholder="搜索 用户/操作/对象/详情 Search" aria-label="搜索 Search" value={f.q} onChange={(e) => set('q', e.target.value)} />
        <input className="grid-input" name="username" placeholder="用户 User" aria-label="用户 User" value={f.username} onChange={(e) => set('username', e.target.value)} />
        <select aria-label="操作 Action" name="action" value={f.action} onChange={(e) => set('action', e.target.value)} className={f.action ? 'filter-on' : undefined}>
          {ACTION_GROUPS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
        <input className="grid-input" name="targetType" placeholder="对象类型 Target type" aria-label="对象类型 Target type" value={f.targetType} onChange={(e) => set('targetType', e.target.value)} />
        <input className="grid-input" name="ip" placeholder="来源地址 IP" aria-label="来源地址 IP" value={f.ip} onChange={(e) => set('ip', e.target.value)} />
        <label className="muted small">从 From <input type="datetime-local" name="from" value={f.from} onChange={(e) => set('from', e.target.value)} /></label>
        <label className="muted small">到 To <input type="datetime-local" name="to" value={f.to} onChange={(e) => set('to', e.target.value)} /></label>
        <a className="btn" href={`/api/audit/export${queryString(query)}`} download data-testid="audit-export">导出 CSV Export</a>
        <span className="spacer" />
        <Pager offset={offset} limit={LIMIT} total={data?.total ?? 0} onOffset={setOffset} busy={loading} />
      </div>
      {error ? <Notice kind="error">{error}</Notice> : null}
      <div className={`table-wrap${loading ? ' is-loading' : ''}`} aria-busy={loading}>
        {loading ? <div className="loading-line" /> : null}
        <table className="grid-table" data-testid="audit-table">
          <thead><tr><th>时间 When</th><th>用户 Who</th><th>操作 What</th><th>对象 Target</th><th>来源地址 From</th><th>详情 Detail</th></tr></thead>
          <tbody>
            {data?.items.map((a) => (
              <tr key={a.id} data-action={a.action}>
                <td className="tabular">{fmtTime(a.at)}</td>
                <td>{a.username ?? <span className="muted">系统/外部 system</span>}</td>
                <td className="mono">{a.action}</td>
                <td className="cell-area mono" title={a.targetId ?? undefined}>{a.targetType ? `${a.targetType} ` : ''}{a.targetId ?? ''}</td>
                <td className="mono">{a.ip ?? '—'}</td>
                <td className="cell-area mono muted" title={JSON.stringify(a.detail)}>{Object.keys(a.detail).length ? JSON.stringify(a.detail) : ''}</td>
              </tr>
            ))}
            {data && !data.items.length ? <tr><td colSpan={6} className="empty">没有符合条件的记录 Nothing matches.</td></tr> : null}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function AccessLog() {
  const [f, setF] = useState({ username: '', kind: '', sharing: '', from: '', to: '' });
  const df = useDebounced(f, 300);
  const [offset, setOffset] = useState(0);
  const [data, setData] = useState<Page<CameraAccess> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query: Query = { username: df.username.trim(), kind: df.kind, sharing: df.sharing, from: toIso(df.from), to: toIso(df.to) };
  const key = JSON.stringify(query);
  useEffect(() => { setOffset(0); }, [key]);
  useEffect(() => {
    const ac = new AbortController();
    adminApi.cameraAccess({ ...query, limit: LIMIT, offset }, ac.signal).then((r) => { setData(r); setError(null); }, (err: unknown) => { if (!ac.signal.aborted) setError(err instanceof ApiError ? err.message : String(err)); });
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, offset]);
  const set = (k: keyof typeof f, v: string) => setF((x) => ({ ...x, [k]: v }));
  return (
    <div data-testid="access-log">
      <div className="toolbar">
        <input className="grid-input" placeholder="用户 User" aria-label="用户 User" value={f.username} onChange={(e) => set('username', e.target.value)} />
        <select aria-label="方式 Kind" value={f.kind} onChange={(e) => set('kind', e.target.value)}>
          <option value="">方式: 全部</option>
          {Object.entries(KIND).map(([k, l]) => <option key={k} value={k}>{l}</option>)}
        </select>
        <select aria-label="共享 Sharing" value={f.sharing} onChange={(e) => set('sharing', e.target.value)}>
          <option value="">点位: 全部</option>
          <option value="restricted">受限点位 restricted</option>
          <option value="shared">共享点位 shared</option>
        </select>
        <label className="muted small">从 From <input type="datetime-local" value={f.from} onChange={(e) => set('from', e.target.value)} /></label>
        <label className="muted small">到 To <input type="datetime-local" value={f.to} onChange={(e) => set('to', e.target.value)} /></label>
        <span className="spacer" />
        <Pager offset={offset} limit={LIMIT} total={data?.total ?? 0} onOffset={setOffset} />
      </div>
      {error ? <Notice kind="error">{error}</Notice> : null}
      <div className="table-wrap">
        <table className="grid-table" data-testid="access-table">
          <thead><tr><th>开始 Started</th><th>结束 Ended</th><th>用户 Who</th><th>点位 Camera</th><th>方式 Kind</th><th>来源地址 From</th></tr></thead>
          <tbody>
            {data?.items.map((v) => (
              <tr key={v.id}>
                <td className="tabular">{fmtTime(v.startedAt)}</td>
                <td className="tabular muted">{v.endedAt ? fmtTime(v.endedAt) : v.kind === 'live' ? '观看中 watching' : '—'}</td>
                <td>{v.username ?? '—'}</td>
                <td>{v.cameraName} {v.sharing === 'restricted' ? <span className="badge badge-restricted">受限 restricted</span> : null}</td>
                <td>{KIND[v.kind] ?? v.kind}</td>
                <td className="mono">{v.ip ?? '—'}</td>
              </tr>
            ))}
            {data && !data.items.length ? <tr><td colSpan={6} className="empty">没有调阅记录 No access recorded.</td></tr> : null}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export default function AuditPage() {
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'access' ? 'access' : 'trail';
  return (
    <section className="page" data-testid="audit-page">
      <div className="page-head"><h1>审计 <span className="en">Audit</span></h1></div>
      <nav className="admin-tabs" aria-label="审计 Audit">
        <a href="?tab=trail" className={tab === 'trail' ? 'active' : undefined} onClick={(e) => { e.preventDefault(); setParams({ tab: 'trail' }); }} data-testid="audit-tab-trail">操作审计 <span className="en">Audit trail</span></a>
        <a href="?tab=access" className={tab === 'access' ? 'active' : undefined} onClick={(e) => { e.preventDefault(); setParams({ tab: 'access' }); }} data-testid="audit-tab-access">调阅记录 <span className="en">Camera access</span></a>
      </nav>
      {tab === 'trail' ? <AuditTrail /> : <AccessLog />}
    </section>
  );
}
