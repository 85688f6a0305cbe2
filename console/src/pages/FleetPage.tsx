import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api';
import { hasRole, useUser } from '../auth';
import { INVENTORY_EDITORS, type Page } from '../types';
import { fmtTime } from '../lib/format';
import { useDebounced } from '../lib/hooks';
import { Notice } from '../components/Notice';
import { Pager } from '../components/Pager';
import { StatusBadge } from '../components/StatusBadge';
import { CameraAlarms } from '../components/CameraAlarms';
import { useLiveMessages } from '../live';
import { fleetApi, fmtDrift, ONLINE_LABEL, pct, type FleetCamera, type FleetSummary, type GroupRate, type HistoryItem, type ProbeResult } from '../fleet-api';
import './fleet.css';

function Status({ status, reason }: { status: string; reason?: string | null }) {
  if (ONLINE_LABEL[status]) return <span className="badge badge-ok" title={reason ?? undefined}>{ONLINE_LABEL[status]}</span>;
  return <StatusBadge status={status} reason={reason} />;
}

function RateRows({ rows, label }: { rows: Array<GroupRate & { name: string | null }>; label: string }) {
  if (!rows.length) return <div className="muted">无数据 No cameras</div>;
  return (
    <div role="table" aria-label={label}>
      {rows.map((r) => {
        const rate = r.onlineRate ?? 0;
        const cls = rate >= 0.95 ? '' : rate >= 0.8 ? ' warn' : ' err';
        return (
          <div className="rate-row" role="row" key={r.name ?? '(none)'}>
            <span className="name" role="cell" title={r.name ?? '未填写 not set'}>{r.name ?? <span className="muted">未填写 not set</span>}</span>
            <span className={`rate-bar${cls}`} role="cell" aria-label={`${pct(r.onlineRate)}`}><span style={{ width: `${Math.round(rate * 100)}%` }} /></span>
            <span className="num" role="cell">{r.online}/{r.total} · {pct(r.onlineRate)}</span>
          </div>
        );
      })}
    </div>
  );
}

const errText = (err: unknown) => (err instanceof ApiError ? err.message : String(err));

/** Fleet health: online rate (在线率) overall and by district / owner, flapping cameras, clock drift, per-camera status and history. */
export default function FleetPage() {
  const user = useUser();
  const editor = hasRole(user, INVENTORY_EDITORS);
  const [summary, setSummary] = useState<FleetSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [filter, setFilter] = useState<{ online: '' | 'true' | 'false'; district: string; q: string; offset: number }>({ online: '', district: '', q: '', offset: 0 });
  const q = useDebounced(filter.q, 250);
  const [list, setList] = useState<Page<FleetCamera> | null>(null);
  const [selected, setSelected] = useState<{ id: string; name: string } | null>(null);
  const [history, setHistory] = useState<Page<HistoryItem> | null>(null);
  const [historyOffset, setHistoryOffset] = useState(0);
  const [probe, setProbe] = useState<{ id: string; busy: boolean; result?: ProbeResult; error?: string } | null>(null);
  const lastRefresh = useRef(0);
  const limit = 50;

  useEffect(() => {
    const ctl = new AbortController();
    fleetApi.summary(ctl.signal).then((s) => { setSummary(s); setError(null); }, (e: unknown) => { if (!ctl.signal.aborted) setError(errText(e)); });
    return () => ctl.abort();
  }, [tick]);

  useEffect(() => {
    const ctl = new AbortController();
    const query = { online: filter.online || undefined, district: filter.district || undefined, q: q || undefined, limit, offset: filter.offset };
    fleetApi.cameras(query, ctl.signal).then(setList, (e: unknown) => { if (!ctl.signal.aborted) setError(errText(e)); });
    return () => ctl.abort();
  }, [tick, filter.online, filter.district, filter.offset, q]);

  useEffect(() => {
    if (!selected) { setHistory(null); return; }
    const ctl = new AbortController();
    fleetApi.history(selected.id, { limit: 50, offset: historyOffset }, ctl.signal).then(setHistory, (e: unknown) => { if (!ctl.signal.aborted) setError(errText(e)); });
    return () => ctl.abort();
  }, [selected?.id, historyOffset, tick]);

  // refresh every 30 s, and soon after status changes pushed live (at most every 5 s: a flapping fleet must not cause a refetch storm)
  useEffect(() => {
    const t = window.setInterval(() => setTick((n) => n + 1), 30_000);
    return () => window.clearInterval(t);
  }, []);
  const pending = useRef<number | null>(null);
  useLiveMessages<{ state?: string }>({ topic: ['camera.state', 'camera.health'] }, (msg) => {
    if (msg.topic === 'camera.state' && (msg.payload?.state === 'connecting' || msg.payload?.state === 'idle')) return;
    if (pending.current !== null) return;
    const wait = Math.max(0, 5000 - (Date.now() - lastRefresh.current));
    pending.current = window.setTimeout(() => { pending.current = null; lastRefresh.current = Date.now(); setTick((n) => n + 1); }, wait);
  });
  useEffect(() => () => { if (pending.current !== null) window.clearTimeout(pending.current); }, []);

  async function runProbe(id: string) {
    setProbe({ id, busy: true });
    try {
      const result = await fleetApi.probe(id);
      setProbe({ id, busy: false, result });
      setTick((n) => n + 1);
    } catch (e) {
      setProbe({ id, busy: false, error: errText(e) });
    }
  }

  const s = summary;
  const rateCls = s?.onlineRate == null ? '' : s.onlineRate >= 0.95 ? 'ok' : s.onlineRate >= 0.8 ? 'warn' : 'err';
  const setF = (patch: Partial<typeof filter>) => setFilter((f) => ({ ...f, offset: 0, ...patch }));

  return (
    <section className="page" data-testid="fleet-page">
      <div className="page-head">
        <h1>设备健康 <span className="en">Fleet health</span></h1>
        <div className="actions">
          {editor ? <Link className="btn" to="/discovery">设备发现 Discovery</Link> : null}
          <button type="button" className="btn" onClick={() => setTick((n) => n + 1)}>刷新 Refresh</button>
        </div>
      </div>

      {error ? <Notice kind="error" title="加载失败 Could not load">{error}</Notice> : null}

      <div className="fleet-kpis">
        <div className="fleet-kpi" data-testid="online-rate">
          <div className={`value ${rateCls}`}>{s ? pct(s.onlineRate) : '…'}</div>
          <div className="label">在线率 Online rate · {s ? `${s.online}/${s.total}` : ''}</div>
        </div>
        {s ? Object.entries(s.byStatus).sort((a, b) => b[1] - a[1]).map(([status, n]) => (
          <div className="fleet-kpi" key={status}>
            <div className="value">{n}</div>
            <div className="label"><Status status={status} /></div>
          </div>
        )) : null}
        <div className="fleet-kpi">
          <div className={`value ${s?.flapping.length ? 'warn' : ''}`}>{s?.flapping.length ?? '…'}</div>
          <div className="label">频繁掉线 Flapping</div>
        </div>
      </div>
      {s ? (
        <p className="hint">
          在线 = 正在拉流 (live) 或最近一次巡检可达 (reachable)；无人观看的摄像机由低频巡检判断。
          Online = live, or answered its last low-rate health probe. Flapping = ≥ {s.definition.flapTransitions} online/offline changes within {s.definition.flapWindowMin} min.
          Updated {fmtTime(s.at)}.
        </p>
      ) : null}

      <div className="fleet-panels">
        <div className="fleet-panel">
          <h2>设备报警 Camera alarms <span className="en">(ONVIF)</span></h2>
          <CameraAlarms />
        </div>
        <div className="fleet-panel">
          <h2>按区 By district</h2>
          <RateRows label="by district" rows={(s?.byDistrict ?? []).map((d) => ({ ...d, name: d.district }))} />
        </div>
        <div className="fleet-panel">
          <h2>按权属单位 By owner</h2>
          <RateRows label="by owner" rows={(s?.byOwner ?? []).map((d) => ({ ...d, name: d.owner }))} />
        </div>
        <div className="fleet-panel">
          <h2>频繁掉线 Flapping <span className="en">({s?.definition.flapWindowMin ?? 60} min)</span></h2>
          {s && !s.flapping.length ? <div className="muted">没有 None</div> : null}
          <div className="fleet-list">
            <table className="grid-table" data-testid="flapping">
              <tbody>
                {(s?.flapping ?? []).map((f) => (
                  <tr key={f.cameraId} className={selected?.id === f.cameraId ? 'row-selected' : undefined}>
                    <td><button type="button" className="btn btn-ghost btn-small" onClick={() => { setSelected({ id: f.cameraId, name: f.name }); setHistoryOffset(0); }}>{f.name}</button></td>
                    <td className="muted">{f.district ?? ''}</td>
                    <td className="tabular">{f.transitions} 次</td>
                    <td><Status status={f.status} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
        <div className="fleet-panel">
          <h2>时钟偏差 Clock drift <span className="en">(≥ {Math.round((s?.definition.driftWarnMs ?? 5000) / 1000)} s)</span></h2>
          {s && !s.clockDrift.length ? <div className="muted">没有 None</div> : null}
          <div className="fleet-list">
            <table className="grid-table" data-testid="clock-drift">
              <tbody>
                {(s?.clockDrift ?? []).map((d) => (
                  <tr key={d.cameraId}>
                    <td><button type="button" className="btn btn-ghost btn-small" onClick={() => { setSelected({ id: d.cameraId, name: d.name }); setHistoryOffset(0); }}>{d.name}</button></td>
                    <td className="tabular">{fmtDrift(d.clockDriftMs)}</td>
                    <td className="muted small">{fmtTime(d.checkedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      </div>

      <div className="toolbar">
        <input type="search" className="search" placeholder="搜索摄像机 Search cameras" aria-label="搜索 Search" value={filter.q} onChange={(e) => setF({ q: e.target.value })} />
        <select aria-label="在线 Online" value={filter.online} onChange={(e) => setF({ online: e.target.value as typeof filter.online })} className={filter.online ? 'filter-on' : undefined}>
          <option value="">全部 All</option>
          <option value="false">不在线 Not online</option>
          <option value="true">在线 Online</option>
        </select>
        <select aria-label="区 District" value={filter.district} onChange={(e) => setF({ district: e.target.value })} className={filter.district ? 'filter-on' : undefined}>
          <option value="">区: 全部</option>
          {(s?.byDistrict ?? []).filter((d) => d.district).map((d) => <option key={d.district} value={d.district!}>{d.district} ({d.total})</option>)}
        </select>
        <span className="spacer" />
        <Pager offset={filter.offset} limit={limit} total={list?.total ?? 0} onOffset={(o) => setFilter((f) => ({ ...f, offset: o }))} />
      </div>

      <div className="table-wrap">
        <table className="grid-table" data-testid="fleet-cameras">
          <thead>
            <tr>
              <th>名称 Name</th><th>状态 Status</th><th>原因 Reason</th><th>变化 Changed</th><th>巡检 Last probe</th><th>时钟 Clock</th><th />
            </tr>
          </thead>
          <tbody>
            {(list?.items ?? []).map((c) => (
              <tr key={c.id} className={selected?.id === c.id ? 'row-selected' : undefined}>
                <td><Link to={`/cameras/${c.id}`}>{c.name}</Link> <span className="muted small">{[c.district, c.owner].filter(Boolean).join(' · ')}</span></td>
                <td><Status status={c.status} reason={c.statusReason} /></td>
                <td className="muted small cell-wrap">{c.statusReason ?? ''}</td>
                <td className="small">{fmtTime(c.statusChangedAt)}</td>
                <td className="small" title={c.health?.error ?? undefined}>
                  {c.health ? <>{c.health.reachable ? '可达 ok' : '不可达 unreachable'} · {fmtTime(c.health.checkedAt)}{c.health.rttMs !== null ? ` · ${c.health.rttMs} ms` : ''}</> : <span className="muted">—</span>}
                </td>
                <td className="small tabular">{fmtDrift(c.health?.clockDriftMs)}</td>
                <td className="row-actions">
                  <button type="button" className="btn btn-small" onClick={() => { setSelected({ id: c.id, name: c.name }); setHistoryOffset(0); }}>历史 History</button>
                  {editor ? <button type="button" className="btn btn-small" disabled={probe?.id === c.id && probe.busy} onClick={() => void runProbe(c.id)}>{probe?.id === c.id && probe.busy ? '探测中…' : '探测 Probe'}</button> : null}
                </td>
              </tr>
            ))}
            {list && !list.items.length ? <tr><td colSpan={7} className="muted">没有摄像机 No cameras</td></tr> : null}
          </tbody>
        </table>
      </div>

      {probe && !probe.busy ? (
        <div className="probe-box" data-testid="probe-result">
          {probe.error ? <span className="badge badge-err">{probe.error}</span> : probe.result ? (
            <>
              <strong>{probe.result.reachable ? (probe.result.authFailed ? '可达，但认证失败 reachable, auth failed' : '可达 reachable') : '不可达 unreachable'}</strong>
              {' '}({probe.result.method}{probe.result.rttMs !== null ? `, ${probe.result.rttMs} ms` : ''}) · 时钟 {fmtDrift(probe.result.clockDriftMs)}
              {probe.result.error ? <div className="field-error">{probe.result.error}</div> : null}
              {probe.result.manufacturer ? <div>{probe.result.manufacturer} {probe.result.model} · 固件 {probe.result.firmware} · SN {probe.result.serial}{probe.result.hasPtz ? ' · PTZ' : ''}</div> : null}
              {probe.result.profiles.map((p) => <div key={p.token} className="mono">{p.name}: {p.width}×{p.height} {p.encoding} {p.streamUri}</div>)}
            </>
          ) : null}
          {' '}<button type="button" className="btn btn-ghost btn-small" onClick={() => setProbe(null)}>关闭 Close</button>
        </div>
      ) : null}

      {selected ? (
        <div className="fleet-panel" data-testid="status-history">
          <div className="tablebar">
            <h2>状态历史 Status history · {selected.name}</h2>
            <span className="spacer" />
            <Pager offset={historyOffset} limit={50} total={history?.total ?? 0} onOffset={setHistoryOffset} />
            <button type="button" className="btn btn-ghost btn-small" onClick={() => setSelected(null)}>关闭 Close</button>
          </div>
          <table className="grid-table">
            <thead><tr><th>时间 Time</th><th>流 Stream</th><th>状态 Status</th><th>原因 Reason</th></tr></thead>
            <tbody>
              {(history?.items ?? []).map((h, i) => (
                <tr key={`${h.at}-${i}`}>
                  <td className="small tabular">{new Date(h.at).toLocaleString('zh-CN', { hour12: false })}</td>
                  <td>{h.stream === 'probe' ? '巡检 probe' : h.stream === 'main' ? '主码流 main' : '子码流 sub'}</td>
                  <td><Status status={h.status} /></td>
                  <td className="muted small cell-wrap">{h.reason ?? ''}</td>
                </tr>
              ))}
              {history && !history.items.length ? <tr><td colSpan={4} className="muted">还没有记录 No history yet</td></tr> : null}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
