import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError, type FieldErrors } from '../api';
import { useUser } from '../auth';
import { useLiveMessages } from '../live';
import { fmtTime } from '../lib/format';
import { useDebounced } from '../lib/hooks';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { Pager } from '../components/Pager';
import { casesApi, type CaseList, type CaseQuery, type CaseStatus, type Department, type EventTypeLimit } from '../cases/cases-api';
import { CASE_STATUSES, SOURCE_LABEL, STATUS_LABEL } from '../cases/labels';
import '../cases/cases.css';

/**
 * 案卷 case list: tabs per status with their counts, filters (event type, district, street, grid, department,
 * overdue, source), soonest due first by default. Updates live (case.updated). Operators file a case by hand here.
 */
const LIMIT = 50;
const FILTER_KEYS = ['status', 'source', 'eventType', 'district', 'street', 'grid', 'department', 'overdue', 'sort'] as const;

function FileCaseForm({ types, onFiled }: { types: EventTypeLimit[]; onFiled: (id: string) => void }) {
  const [f, setF] = useState({ eventType: '', address: '', district: '', gridCode: '', description: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f, v: string) => { setF((x) => ({ ...x, [k]: v })); setErrors(({ [k]: _g, ...rest }) => rest); };
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!f.eventType) { setErrors({ eventType: '请选择事件类型 pick an event type' }); return; }
    setBusy(true);
    setError(null);
    try {
      const body: Parameters<typeof casesApi.file>[0] = { eventType: f.eventType };
      for (const k of ['address', 'district', 'gridCode', 'description'] as const) if (f[k].trim()) body[k] = f[k].trim();
      const c = await casesApi.file(body);
      onFiled(c.id);
    } catch (err) {
      if (err instanceof ApiError) { setError(err.message); setErrors(err.fieldErrors); } else setError(String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="form form-inline" onSubmit={submit} noValidate data-testid="file-case">
      <fieldset disabled={busy}>
        <legend>人工立案 File a case by hand</legend>
        <Field label="事件类型" en="Event type" error={errors.eventType}>
          {(p) => (
            <select {...p} name="eventType" value={f.eventType} onChange={(e) => set('eventType', e.target.value)}>
              <option value="">请选择 Pick…</option>
              {types.filter((t) => t.enabled).map((t) => <option key={t.eventType} value={t.eventType}>{t.code} {t.name}</option>)}
            </select>
          )}
        </Field>
        <Field label="地址" en="Address" error={errors.address}>
          {(p) => <input {...p} name="address" value={f.address} onChange={(e) => set('address', e.target.value)} />}
        </Field>
        <Field label="区" en="District" error={errors.district}>
          {(p) => <input {...p} name="district" value={f.district} onChange={(e) => set('district', e.target.value)} />}
        </Field>
        <Field label="网格编码" en="Grid code" error={errors.gridCode} hint="14 位数字或 15 位 14 digits or 15 characters">
          {(p) => <input {...p} name="gridCode" value={f.gridCode} onChange={(e) => set('gridCode', e.target.value)} />}
        </Field>
        <Field label="描述" en="Description" error={errors.description} wide>
          {(p) => <textarea {...p} name="description" rows={2} value={f.description} onChange={(e) => set('description', e.target.value)} />}
        </Field>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">{busy ? '立案中… Filing' : '立案 File'}</button>
        </div>
      </fieldset>
      {error ? <Notice kind="error">{error}</Notice> : null}
    </form>
  );
}

export default function CasesPage() {
  const user = useUser();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const query: CaseQuery = { sort: 'due' };
  for (const k of FILTER_KEYS) { const v = params.get(k); if (v) (query as Record<string, string>)[k] = v; }
  const [text, setText] = useState({ district: query.district ?? '', street: query.street ?? '', grid: query.grid ?? '' });
  const debounced = useDebounced(text, 300);
  const [offset, setOffset] = useState(0);
  const [data, setData] = useState<CaseList | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [types, setTypes] = useState<EventTypeLimit[]>([]);
  const [departments, setDepartments] = useState<Department[]>([]);
  const [reload, setReload] = useState(0);
  const [showNew, setShowNew] = useState(false);
  const mayFile = user.role === 'admin' || user.role === 'operator';

  const setFilter = useCallback((k: (typeof FILTER_KEYS)[number], v: string) => {
    setParams((p) => { const n = new URLSearchParams(p); if (v) n.set(k, v); else n.delete(k); return n; }, { replace: true });
    setOffset(0);
  }, [setParams]);

  useEffect(() => {
    for (const k of ['district', 'street', 'grid'] as const) if ((params.get(k) ?? '') !== debounced[k].trim()) setFilter(k, debounced[k].trim());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);

  useEffect(() => {
    const ac = new AbortController();
    casesApi.timeLimits(ac.signal).then((r) => setTypes(r.items)).catch(() => {});
    casesApi.departments(ac.signal).then((r) => setDepartments(r.items)).catch(() => {});
    return () => ac.abort();
  }, []);

  const key = params.toString();
  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    casesApi.list({ ...query, limit: LIMIT, offset }, ac.signal).then(
      (r) => { setData(r); setError(null); setLoading(false); },
      (err: unknown) => { if (!ac.signal.aborted) { setError(err instanceof ApiError ? err.message : String(err)); setLoading(false); } },
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, offset, reload]);

  useLiveMessages({ topic: 'case.updated' }, () => setReload((n) => n + 1));

  const total = data ? CASE_STATUSES.reduce((s, st) => s + (data.counts[st] ?? 0), 0) : 0;
  return (
    <section className="page" data-testid="cases-page">
      <div className="page-head">
        <h1>案卷 <span className="en">Cases</span></h1>
        <div className="actions">
          {mayFile ? (
            <button type="button" className="btn btn-primary" onClick={() => setShowNew((s) => !s)} aria-expanded={showNew} data-testid="file-case-toggle">
              {showNew ? '收起 Close' : '+ 立案 File a case'}
            </button>
          ) : null}
        </div>
      </div>
      {showNew ? <FileCaseForm types={types} onFiled={(id) => void navigate(`/cases/${id}`)} /> : null}
      <div className="status-tabs" role="tablist" aria-label="按状态 By status">
        <button type="button" role="tab" aria-selected={!query.status} className={!query.status ? 'active' : undefined} onClick={() => setFilter('status', '')}>
          全部 <span className="en">All</span> <span className="count" data-testid="count-all">{total}</span>
        </button>
        {CASE_STATUSES.map((s) => (
          <button key={s} type="button" role="tab" aria-selected={query.status === s} className={query.status === s ? 'active' : undefined}
            onClick={() => setFilter('status', s)} data-testid={`tab-${s}`}>
            {STATUS_LABEL[s].zh} <span className="en">{STATUS_LABEL[s].en}</span> <span className="count" data-testid={`count-${s}`}>{data?.counts[s] ?? 0}</span>
          </button>
        ))}
      </div>
      <div className="toolbar">
        <select aria-label="事件类型 Event type" value={query.eventType ?? ''} onChange={(e) => setFilter('eventType', e.target.value)} className={query.eventType ? 'filter-on' : undefined}>
          <option value="">事件: 全部</option>
          {types.map((t) => <option key={t.eventType} value={t.eventType}>{t.code} {t.name}</option>)}
        </select>
        <select aria-label="来源 Source" name="source" value={query.source ?? ''} onChange={(e) => setFilter('source', e.target.value)} className={query.source ? 'filter-on' : undefined}>
          <option value="">来源: 全部</option>
          {(['ai', '110', 'manual'] as const).map((s) => <option key={s} value={s}>{SOURCE_LABEL[s]}</option>)}
        </select>
        <select aria-label="处置部门 Department" value={query.department ?? ''} onChange={(e) => setFilter('department', e.target.value)} className={query.department ? 'filter-on' : undefined}>
          <option value="">部门: 全部</option>
          {departments.map((d) => <option key={d.id} value={d.name}>{d.name}</option>)}
        </select>
        <select aria-label="时限 Due" name="overdue" value={query.overdue ?? ''} onChange={(e) => setFilter('overdue', e.target.value)} className={query.overdue ? 'filter-on' : undefined}>
          <option value="">时限: 全部</option>
          <option value="true">已超期 overdue</option>
          <option value="false">未超期 not overdue</option>
        </select>
        <input className="grid-input" placeholder="区 District" aria-label="区 District" value={text.district} onChange={(e) => setText((x) => ({ ...x, district: e.target.value }))} />
        <input className="grid-input" placeholder="街道 Street" aria-label="街道 Street" value={text.street} onChange={(e) => setText((x) => ({ ...x, street: e.target.value }))} />
        <input className="grid-input" placeholder="网格 Grid (前缀 prefix)" aria-label="网格 Grid" value={text.grid} onChange={(e) => setText((x) => ({ ...x, grid: e.target.value }))} />
        <select aria-label="排序 Sort" value={query.sort ?? 'due'} onChange={(e) => setFilter('sort', e.target.value === 'due' ? '' : e.target.value)}>
          <option value="due">按到期时间 Due soonest</option>
          <option value="filed">按立案时间 Newest filed</option>
        </select>
        <span className="spacer" />
        <Pager offset={offset} limit={LIMIT} total={data?.total ?? 0} onOffset={setOffset} busy={loading} />
      </div>
      {error ? <Notice kind="error" title="加载失败 Could not load">{error}</Notice> : null}
      <div className={`table-wrap${loading ? ' is-loading' : ''}`} aria-busy={loading}>
        {loading ? <div className="loading-line" /> : null}
        <table className="grid-table" data-testid="cases-table">
          <thead>
            <tr>
              <th>案卷号 Case no.</th><th>事件 Event</th><th>来源 Source</th><th>位置 Location</th><th>处置部门 Department</th>
              <th>状态 Status</th><th>处置时限 Due</th><th>立案时间 Filed</th>
            </tr>
          </thead>
          <tbody>
            {data?.items.map((c) => (
              <tr key={c.id} data-case={c.caseNo} className={c.overdue ? 'row-overdue' : undefined}>
                <td className="mono cell-name"><Link to={`/cases/${c.id}`}>{c.caseNo}</Link></td>
                <td><span className="mono">{c.eventCode}</span> {c.eventName ?? c.eventType}</td>
                <td>{SOURCE_LABEL[c.source]}</td>
                <td className="cell-area" title={[c.district, c.gridCode, c.address].filter(Boolean).join(' · ')}>
                  {[c.district, c.address].filter(Boolean).join(' ') || '—'}{c.gridCode ? <span className="muted mono"> {c.gridCode}</span> : null}
                </td>
                <td>{c.department ?? '—'}</td>
                <td data-testid="status">
                  <span className={STATUS_LABEL[c.status].cls}>{STATUS_LABEL[c.status].zh}</span>
                  {c.extension ? <span className="badge badge-warn" title={c.extension.reason ?? undefined}> 延期待批</span> : null}
                </td>
                <td className="tabular">
                  {fmtTime(c.dueAt)} {c.overdue ? <span className="badge badge-err" data-testid="overdue">已超期 overdue</span> : null}
                </td>
                <td className="tabular muted">{fmtTime(c.filedAt)}</td>
              </tr>
            ))}
            {data && !data.items.length ? <tr><td colSpan={8} className="empty">没有符合条件的案卷 No cases match.</td></tr> : null}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export type { CaseStatus };
