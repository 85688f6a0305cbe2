import { useEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError, type CameraQuery } from '../api';
import { hasRole, useUser } from '../auth';
import { INVENTORY_EDITORS, type Camera, type CameraFacets, type Page } from '../types';
import { useDebounced, useHotkeys } from '../lib/hooks';
import { fmtTime } from '../lib/format';
import { Pager } from '../components/Pager';
import { StatusBadge, statusLabel } from '../components/StatusBadge';
import { Notice } from '../components/Notice';
import { useLiveMessages } from '../live';

const FILTERS = ['status', 'district', 'street', 'owner', 'tag', 'sharing', 'grid'] as const;
type SortKey = NonNullable<CameraQuery['sort']>;
const PAGE_SIZES = [50, 100, 200];

function useCameraQuery(): [CameraQuery, (patch: Record<string, string | number | undefined>) => void] {
  const [params, setParams] = useSearchParams();
  const query: CameraQuery = {
    q: params.get('q') ?? undefined,
    sort: (params.get('sort') as SortKey | null) ?? 'name',
    limit: Number(params.get('limit')) || 100,
    offset: Number(params.get('offset')) || 0,
  };
  for (const f of FILTERS) query[f] = params.get(f) ?? undefined;
  const update = (patch: Record<string, string | number | undefined>) => {
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined || v === '' || (k === 'offset' && v === 0) || (k === 'sort' && v === 'name') || (k === 'limit' && v === 100)) next.delete(k);
        else next.set(k, String(v));
      }
      // Any change other than paging starts again at the first page.
      if (!('offset' in patch)) next.delete('offset');
      return next;
    }, { replace: true });
  };
  return [query, update];
}

export default function CamerasPage() {
  const user = useUser();
  const editor = hasRole(user, INVENTORY_EDITORS);
  const navigate = useNavigate();
  const [query, update] = useCameraQuery();
  const [search, setSearch] = useState(query.q ?? '');
  const debounced = useDebounced(search, 250);
  const [data, setData] = useState<Page<Camera> | null>(null);
  const [facets, setFacets] = useState<CameraFacets | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [reload, setReload] = useState(0);
  const searchRef = useRef<HTMLInputElement>(null);
  const tableRef = useRef<HTMLTableSectionElement>(null);

  useEffect(() => {
    if ((debounced || undefined) !== query.q) update({ q: debounced || undefined });
  }, [debounced]);

  const key = JSON.stringify(query);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    api.cameras(JSON.parse(key) as CameraQuery, ctl.signal).then(
      (page) => { setData(page); setError(null); setLoading(false); },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setError(err instanceof ApiError ? err.message : String(err));
        setLoading(false);
      },
    );
    return () => ctl.abort();
  }, [key, reload]);

  useEffect(() => {
    const ctl = new AbortController();
    api.facets(ctl.signal).then(setFacets, () => {});
    return () => ctl.abort();
  }, [reload]);

  // The camera-level status written by the health recorder (camera.status) updates the visible rows in
  // place: no refetch storm when many cameras flap.
  useLiveMessages<{ status?: string; reason?: string | null }>({ topic: 'camera.status' }, (msg) => {
    const state = msg.payload?.status;
    if (!msg.cameraId || !state) return;
    setData((d) => {
      if (!d || !d.items.some((c) => c.id === msg.cameraId && (c.status !== state || c.statusReason !== (msg.payload.reason ?? null)))) return d;
      const now = new Date().toISOString();
      return { ...d, items: d.items.map((c) => (c.id === msg.cameraId ? { ...c, status: state, statusReason: msg.payload.reason ?? null, statusChangedAt: now } : c)) };
    });
  });

  const limit = query.limit ?? 100;
  const offset = query.offset ?? 0;
  const total = data?.total ?? 0;
  useHotkeys({
    '/': () => searchRef.current?.focus(),
    '[': () => { if (offset > 0) update({ offset: Math.max(0, offset - limit) }); },
    ']': () => { if (offset + limit < total) update({ offset: offset + limit }); },
    n: () => { if (editor) void navigate('/cameras/new'); },
    i: () => { if (editor) void navigate('/cameras/import'); },
    j: () => moveFocus(1),
    k: () => moveFocus(-1),
  });

  function moveFocus(delta: number) {
    const links = Array.from(tableRef.current?.querySelectorAll<HTMLAnchorElement>('a.row-link') ?? []);
    if (!links.length) return;
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    const next = links[Math.min(links.length - 1, Math.max(0, at < 0 ? 0 : at + delta))];
    next.focus();
  }

  function onTableKey(e: ReactKeyboardEvent) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      moveFocus(e.key === 'ArrowDown' ? 1 : -1);
    }
  }

  const activeFilters = FILTERS.filter((f) => query[f]).length + (query.q ? 1 : 0);
  const sortHeader = (k: SortKey, label: string) => (
    <th aria-sort={query.sort === k ? (k === 'updatedAt' ? 'descending' : 'ascending') : undefined}>
      <button type="button" className={`th-sort${query.sort === k ? ' active' : ''}`} onClick={() => update({ sort: k })}>
        {label}{query.sort === k ? (k === 'updatedAt' ? ' ↓' : ' ↑') : ''}
      </button>
    </th>
  );
  const facetSelect = (name: 'status' | 'district' | 'street' | 'owner' | 'tag', label: string, list: CameraFacets[keyof CameraFacets] | undefined) => (
    <select aria-label={label} title={label} value={query[name] ?? ''} onChange={(e) => update({ [name]: e.target.value || undefined })}
      className={query[name] ? 'filter-on' : undefined} data-testid={`filter-${name}`}>
      <option value="">{label}: 全部</option>
      {(list ?? []).map((f) => (
        <option key={f.value} value={f.value}>{name === 'status' ? statusLabel(f.value) : f.value} ({f.count})</option>
      ))}
      {query[name] && !(list ?? []).some((f) => f.value === query[name]) ? <option value={query[name]}>{query[name]}</option> : null}
    </select>
  );

  return (
    <section className="page">
      <div className="page-head">
        <h1>点位台账 <span className="en">Camera inventory</span></h1>
        <div className="actions">
          {editor ? (
            <>
              <Link className="btn btn-primary" to="/cameras/new" title="快捷键 n">+ 新增 Add</Link>
              <Link className="btn" to="/cameras/import" title="快捷键 i">导入 Import CSV</Link>
              <a className="btn" href={api.exportUrl(query)} download data-testid="export">导出 Export CSV</a>
            </>
          ) : null}
        </div>
      </div>

      <div className="toolbar">
        <input ref={searchRef} type="search" className="search" placeholder="搜索 名称/国标编码/地址…  ( / )" aria-label="搜索 Search"
          value={search} onChange={(e) => setSearch(e.target.value)}
          onKeyDown={(e) => { if (e.key === 'Escape') { setSearch(''); (e.target as HTMLInputElement).blur(); } if (e.key === 'Enter') update({ q: search || undefined }); }} />
        {facetSelect('status', '状态', facets?.statuses)}
        {facetSelect('district', '区', facets?.districts)}
        {facetSelect('street', '街道', facets?.streets)}
        {facetSelect('owner', '权属', facets?.owners)}
        {facetSelect('tag', '标签', facets?.tags)}
        <select aria-label="共享 Sharing" value={query.sharing ?? ''} onChange={(e) => update({ sharing: e.target.value || undefined })} className={query.sharing ? 'filter-on' : undefined}>
          <option value="">共享: 全部</option>
          <option value="shared">共享 shared</option>
          <option value="restricted">受限 restricted</option>
        </select>
        <input key={query.grid ?? ''} className={`grid-input${query.grid ? ' filter-on' : ''}`} placeholder="网格编码 grid" aria-label="网格编码 Grid code" defaultValue={query.grid ?? ''}
          maxLength={15} onKeyDown={(e) => { if (e.key === 'Enter') update({ grid: (e.target as HTMLInputElement).value.trim() || undefined }); }}
          onBlur={(e) => { const v = e.target.value.trim() || undefined; if (v !== query.grid) update({ grid: v }); }} />
        {activeFilters ? (
          <button type="button" className="btn btn-ghost" onClick={() => { setSearch(''); update(Object.fromEntries([...FILTERS, 'q'].map((f) => [f, undefined]))); }}>
            清除筛选 Clear ({activeFilters})
          </button>
        ) : null}
      </div>

      <div className="tablebar">
        <span className="muted">{activeFilters ? `已筛选 ${activeFilters} 项 · ` : ''}排序 sort: {query.sort}</span>
        <span className="spacer" />
        <select aria-label="每页 Page size" className="select-small" value={limit} onChange={(e) => update({ limit: Number(e.target.value) })}>
          {PAGE_SIZES.map((n) => <option key={n} value={n}>{n} / 页</option>)}
        </select>
        <Pager offset={offset} limit={limit} total={total} onOffset={(o) => update({ offset: o })} busy={loading && !data} />
      </div>

      {error ? <Notice kind="error" title="加载失败 Could not load cameras">{error} <button type="button" className="btn btn-small" onClick={() => setReload((n) => n + 1)}>重试 Retry</button></Notice> : null}

      <div className={`table-wrap${loading ? ' is-loading' : ''}`} aria-busy={loading}>
        {loading ? <div className="loading-line" /> : null}
        <table className="grid-table" data-testid="camera-table">
          <thead>
            <tr>
              {sortHeader('name', '名称 Name')}
              {sortHeader('status', '状态 Status')}
              {sortHeader('district', '区/街道/社区 Area')}
              <th>网格 Grid</th>
              <th>权属 Owner</th>
              <th>共享</th>
              <th>标签 Tags</th>
              <th>国标编码 National ID</th>
              {sortHeader('updatedAt', '更新 Updated')}
            </tr>
          </thead>
          <tbody ref={tableRef} onKeyDown={onTableKey}>
            {data?.items.map((c) => (
              <tr key={c.id}>
                <td className="cell-name">
                  <Link className="row-link" to={`/cameras/${c.id}`}>{c.name}</Link>
                </td>
                <td><StatusBadge status={c.status} reason={c.statusReason} /></td>
                <td className="cell-area">{[c.district, c.street, c.community].filter(Boolean).join(' / ') || '—'}</td>
                <td className="mono">{c.gridCode ?? '—'}</td>
                <td>{c.owner ?? '—'}</td>
                <td>{c.sharing === 'restricted' ? <span className="badge badge-restricted">受限</span> : <span className="muted">共享</span>}</td>
                <td className="cell-tags">{c.tags.map((t) => <span key={t} className="tag">{t}</span>)}</td>
                <td className="mono">{c.nationalId ?? '—'}</td>
                <td className="tabular muted">{fmtTime(c.updatedAt)}</td>
              </tr>
            ))}
            {data && data.items.length === 0 && !loading ? (
              <tr><td colSpan={9} className="empty">没有符合条件的点位。No cameras match.{editor && !activeFilters ? ' 可以新增或导入 CSV。' : ''}</td></tr>
            ) : null}
          </tbody>
        </table>
      </div>
      <p className="hint">快捷键 Keys: <kbd>/</kbd> 搜索 · <kbd>j</kbd>/<kbd>k</kbd> 或 <kbd>↑</kbd>/<kbd>↓</kbd> 选行 · <kbd>Enter</kbd> 打开 · <kbd>[</kbd>/<kbd>]</kbd> 翻页{editor ? <> · <kbd>n</kbd> 新增 · <kbd>i</kbd> 导入</> : null}</p>
    </section>
  );
}
