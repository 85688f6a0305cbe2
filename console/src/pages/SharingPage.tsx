import { useEffect, useState } from 'react';
import { api, request } from '../api';
import { useDebounced } from '../lib/hooks';
import { fmtTime } from '../lib/format';
import { Notice } from '../components/Notice';
import { Pager } from '../components/Pager';
import type { Camera, Page, Sharing } from '../types';

/**
 * 共享管理: police110 and admin mark cameras shared or restricted (one or many at once) and see who watched
 * the restricted cameras and when. Restricted cameras are invisible to every other role.
 */
interface Access { id: number; cameraId: string; cameraName: string; sharing: string; username: string | null; kind: string; startedAt: string; endedAt: string | null; ip: string | null }
const LIMIT = 100;
const KIND: Record<string, string> = { live: '实况 live', snapshot: '快照 snapshot', evidence: '证据 evidence' };

export default function SharingPage() {
  const [q, setQ] = useState('');
  const dq = useDebounced(q, 250);
  const [sharing, setSharing] = useState<'' | Sharing>('');
  const [offset, setOffset] = useState(0);
  const [data, setData] = useState<Page<Camera> | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [info, setInfo] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const [access, setAccess] = useState<Page<Access> | null>(null);

  useEffect(() => { setOffset(0); }, [dq, sharing]);
  useEffect(() => {
    const ac = new AbortController();
    api.cameras({ q: dq || undefined, sharing: sharing || undefined, limit: LIMIT, offset }, ac.signal)
      .then((p) => { setData(p); setError(null); })
      .catch((err: Error) => { if (err.name !== 'AbortError') setError(err.message); });
    return () => ac.abort();
  }, [dq, sharing, offset, reload]);
  useEffect(() => {
    request<Page<Access>>('/api/camera-access', { query: { sharing: 'restricted', limit: 50 } }).then(setAccess).catch(() => {});
  }, [reload]);

  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const allOnPage = data?.items.length ? data.items.every((c) => selected.has(c.id)) : false;
  const togglePage = () => setSelected((s) => {
    const n = new Set(s);
    for (const c of data?.items ?? []) { if (allOnPage) n.delete(c.id); else n.add(c.id); }
    return n;
  });

  async function apply(to: Sharing, ids: string[]) {
    if (!ids.length) return;
    setBusy(true);
    setInfo(null);
    setError(null);
    try {
      const r = await request<{ updated: number; unchanged: number; notFound: string[] }>('/api/cameras/sharing', { method: 'PATCH', json: { ids, sharing: to } });
      setInfo(`已设为${to === 'restricted' ? '受限' : '共享'} ${r.updated} 路（未变 ${r.unchanged}） · ${r.updated} camera(s) now ${to}`);
      setSelected(new Set());
      setReload((n) => n + 1);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page" data-testid="sharing-page">
      <div className="page-head">
        <h1>共享管理 <span className="en">Camera sharing</span></h1>
      </div>
      <div className="toolbar">
        <input className="search" type="search" placeholder="搜索 search" value={q} onChange={(e) => setQ(e.target.value)} aria-label="搜索 search" />
        <select value={sharing} onChange={(e) => setSharing(e.target.value as '' | Sharing)} aria-label="共享状态 sharing" name="sharing">
          <option value="">全部 all</option>
          <option value="shared">共享 shared</option>
          <option value="restricted">受限 restricted</option>
        </select>
        <span className="muted" data-testid="selected-count">已选 {selected.size} selected</span>
        <button type="button" className="btn" disabled={busy || !selected.size} onClick={() => void apply('restricted', [...selected])} data-testid="bulk-restrict">设为受限 Restrict</button>
        <button type="button" className="btn" disabled={busy || !selected.size} onClick={() => void apply('shared', [...selected])} data-testid="bulk-share">设为共享 Share</button>
        <span className="spacer" />
        {data ? <Pager offset={offset} limit={LIMIT} total={data.total} onOffset={setOffset} /> : null}
      </div>
      {info ? <Notice kind="ok">{info}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      <table className="grid-table" data-testid="sharing-cameras">
        <thead>
          <tr>
            <th><input type="checkbox" aria-label="全选 select page" checked={allOnPage} onChange={togglePage} /></th>
            <th>名称 Name</th><th>区县 District</th><th>权属 Owner</th><th>共享 Sharing</th><th />
          </tr>
        </thead>
        <tbody>
          {data?.items.length === 0 ? <tr><td colSpan={6} className="empty">没有摄像机 No cameras</td></tr> : null}
          {data?.items.map((c) => (
            <tr key={c.id} data-camera={c.name}>
              <td><input type="checkbox" aria-label={`选择 ${c.name}`} checked={selected.has(c.id)} onChange={() => toggle(c.id)} /></td>
              <td>{c.name}</td>
              <td>{c.district ?? '—'}</td>
              <td>{c.owner ?? '—'}</td>
              <td><span className={c.sharing === 'restricted' ? 'badge badge-err' : 'badge badge-ok'} data-testid="sharing">{c.sharing === 'restricted' ? '受限 restricted' : '共享 shared'}</span></td>
              <td className="row-actions">
                <button type="button" className="btn btn-small" disabled={busy} onClick={() => void apply(c.sharing === 'restricted' ? 'shared' : 'restricted', [c.id])}>
                  {c.sharing === 'restricted' ? '共享 Share' : '受限 Restrict'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>受限摄像机访问记录 <span className="en">Who watched restricted cameras</span></h2>
      <table className="grid-table" data-testid="access-log">
        <thead><tr><th>摄像机 Camera</th><th>用户 User</th><th>方式 Kind</th><th>开始 Start</th><th>结束 End</th><th>IP</th></tr></thead>
        <tbody>
          {access?.items.length === 0 ? <tr><td colSpan={6} className="empty">暂无记录 Nothing yet</td></tr> : null}
          {access?.items.map((a) => (
            <tr key={a.id}>
              <td>{a.cameraName}</td><td>{a.username ?? '—'}</td><td>{KIND[a.kind] ?? a.kind}</td>
              <td className="tabular">{fmtTime(a.startedAt)}</td><td className="tabular">{fmtTime(a.endedAt)}</td><td className="mono">{a.ip ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
