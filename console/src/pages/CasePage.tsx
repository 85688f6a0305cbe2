import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, type FieldErrors } from '../api';
import { useUser } from '../auth';
import { useLiveMessages } from '../live';
import { fmtTime } from '../lib/format';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { casesApi, type CaseAction, type CaseDetail, type Department, type EventTypeLimit } from '../cases/cases-api';
import { ACTION_LABEL, actionLabel, fmtWorkingHours, HANDOFF_LABEL, SOURCE_LABEL, STATUS_LABEL } from '../cases/labels';
import { MapPoint } from '../cases/MapPoint';
import '../cases/cases.css';

/**
 * 案卷详情: what happened and where (event code and name, grid, address, map point), the evidence and its source
 * (AI event or 110 incident), the due time in working hours, every transition with who and when, the hand-offs to
 * the city platform / 110 system, and the actions this user may take now (the server lists them) with their fields.
 */
function ActionPanel({ c, departments, onDone }: { c: CaseDetail; departments: Department[]; onDone: (c: CaseDetail, what: string) => void }) {
  const [picked, setPicked] = useState<CaseAction | null>(null);
  const [f, setF] = useState({ department: '', note: '', hours: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const action = picked ? c.actions.find((a) => a.action === picked) ?? null : null;
  useEffect(() => { setPicked(null); setErrors({}); setError(null); }, [c.status, c.extension]);

  async function run(a: CaseAction, needs: string[]) {
    const body: Parameters<typeof casesApi.act>[1] = { action: a };
    const errs: FieldErrors = {};
    if (needs.includes('department')) { if (!f.department) errs.department = '请选择处置部门 pick a department'; else body.department = f.department; }
    if (needs.includes('note')) { if (!f.note.trim()) errs.note = `请填写${ACTION_LABEL[a].note?.split(' ')[0] ?? '说明'} required`; else body.note = f.note.trim(); }
    if (needs.includes('hours')) {
      const h = Number(f.hours);
      if (!(h > 0)) errs.hours = '请填写大于 0 的工作小时数 give working hours above 0'; else body.hours = h;
    }
    if (Object.keys(errs).length) { setErrors(errs); return; }
    setBusy(true);
    setError(null);
    try {
      const updated = await casesApi.act(c.id, body);
      setF({ department: '', note: '', hours: '' });
      onDone(updated, `${actionLabel(a)} ✓`);
    } catch (err) {
      if (err instanceof ApiError) { setError(err.message); setErrors(err.fieldErrors); } else setError(String(err));
    } finally {
      setBusy(false);
    }
  }

  function choose(a: CaseAction, needs: string[]) {
    setErrors({});
    setError(null);
    if (!needs.length) { void run(a, needs); return; }
    setPicked(a);
  }

  if (!c.actions.length) {
    return <p className="muted" data-testid="no-actions">当前状态下您没有可执行的操作。No action is open to your role in this state.</p>;
  }
  return (
    <div data-testid="case-actions">
      <div className="action-bar">
        {c.actions.map(({ action: a, needs }) => {
          const l = ACTION_LABEL[a];
          return (
            <button key={a} type="button" disabled={busy} data-action={a}
              className={`btn${l.primary ? ' btn-primary' : ''}${l.danger ? ' btn-danger' : ''}${picked === a ? ' filter-on' : ''}`}
              onClick={() => choose(a, needs)}>
              {l.zh} <span className="en">{l.en}</span>
            </button>
          );
        })}
      </div>
      {action ? (
        <form className="action-form" noValidate data-testid="action-form" data-for={action.action}
          onSubmit={(e: FormEvent) => { e.preventDefault(); void run(action.action, action.needs); }}>
          {action.needs.includes('department') ? (
            <Field label="处置部门" en="Department" error={errors.department}>
              {(p) => (
                <select {...p} name="department" value={f.department} onChange={(e) => setF((x) => ({ ...x, department: e.target.value }))}>
                  <option value="">请选择 Pick…</option>
                  {departments.filter((d) => d.enabled).map((d) => <option key={d.id} value={d.name}>{d.name}{d.contact ? ` · ${d.contact}` : ''}</option>)}
                </select>
              )}
            </Field>
          ) : null}
          {action.needs.includes('hours') ? (
            <Field label="延期工作小时" en="Extra working hours" error={errors.hours} hint="一个工作日 = 7.5 小时 one working day = 7.5 h">
              {(p) => <input {...p} name="hours" type="number" min="0.5" step="0.5" value={f.hours} onChange={(e) => setF((x) => ({ ...x, hours: e.target.value }))} />}
            </Field>
          ) : null}
          {action.needs.includes('note') ? (
            <Field label={ACTION_LABEL[action.action].note?.split(' ')[0] ?? '说明'} en={ACTION_LABEL[action.action].note?.split(' ').slice(1).join(' ')} error={errors.note}>
              {(p) => <textarea {...p} name="note" value={f.note} onChange={(e) => setF((x) => ({ ...x, note: e.target.value }))} />}
            </Field>
          ) : null}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>{busy ? '提交中… Saving' : `确认${ACTION_LABEL[action.action].zh} Confirm`}</button>
            <button type="button" className="btn btn-ghost" onClick={() => setPicked(null)}>取消 Cancel</button>
          </div>
        </form>
      ) : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
    </div>
  );
}

function Evidence({ c }: { c: CaseDetail }) {
  if (!c.evidence.length) return <p className="muted">没有证据材料 No evidence{c.cameraId === null && c.source === 'ai' ? '（受限点位 restricted camera）' : ''}.</p>;
  return (
    <div className="evidence-row" data-testid="evidence">
      {c.evidence.map((e, i) => {
        if (!e.url) return null;
        const zh = e.kind === 'clip' ? '视频片段 clip' : e.kind === 'clean' ? '原始画面 clean still' : '标注截图 annotated still';
        return (
          <figure key={i}>
            {e.kind === 'clip' ? <video src={e.url} controls preload="metadata" /> : <a href={e.url} target="_blank" rel="noreferrer"><img src={e.url} alt={zh} loading="lazy" /></a>}
            <figcaption>{zh}</figcaption>
          </figure>
        );
      })}
    </div>
  );
}

export default function CasePage() {
  const { id = '' } = useParams();
  const user = useUser();
  const [c, setC] = useState<CaseDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [departments, setDepartments] = useState<Department[]>([]);
  const [limits, setLimits] = useState<EventTypeLimit[]>([]);

  const load = useCallback((signal?: AbortSignal) => {
    casesApi.get(id, signal).then(
      (r) => { setC(r); setError(null); },
      (err: unknown) => { if (!signal?.aborted) setError(err instanceof ApiError ? (err.status === 404 ? '没有这个案卷，或您无权查看。No such case.' : err.message) : String(err)); },
    );
  }, [id]);
  useEffect(() => { const ac = new AbortController(); load(ac.signal); return () => ac.abort(); }, [load]);
  useEffect(() => {
    const ac = new AbortController();
    casesApi.departments(ac.signal).then((r) => setDepartments(r.items)).catch(() => {});
    casesApi.timeLimits(ac.signal).then((r) => setLimits(r.items)).catch(() => {});
    return () => ac.abort();
  }, []);
  useLiveMessages<{ id: string }>({ topic: 'case.updated' }, (m) => { if (m.payload?.id === id) load(); });

  if (error) return <section className="page"><Notice kind="error" title="无法打开案卷 Cannot open the case">{error}</Notice><Link to="/cases">← 返回案卷列表 Back to cases</Link></section>;
  if (!c) return <section className="page"><div className="loading-line" aria-label="loading" /></section>;
  const st = STATUS_LABEL[c.status];
  const limit = limits.find((l) => l.eventType === c.eventType);
  const open = !['closed', 'void'].includes(c.status);

  async function retry(hid: number) {
    try { await casesApi.retryHandoff(hid); setInfo('已安排立即重试 Retry scheduled'); load(); } catch (err) { setError(err instanceof ApiError ? err.message : String(err)); }
  }

  return (
    <section className="page" data-testid="case-page" data-status={c.status}>
      <div className="page-head">
        <Link to="/cases" className="btn btn-ghost">← 案卷 Cases</Link>
        <h1><span className="mono" data-testid="case-no">{c.caseNo}</span> · <span className="mono">{c.eventCode}</span> {c.eventName ?? c.eventType}</h1>
        <span className={st.cls} data-testid="case-status">{st.zh} {st.en}</span>
        {c.overdue ? <span className="badge badge-err" data-testid="case-overdue">已超期 overdue</span> : null}
      </div>
      {info ? <Notice kind="ok">{info}</Notice> : null}
      <div className="case-layout">
        <div>
          <div className="case-panel">
            <h2>案情 <span className="en">What and where</span></h2>
            <dl className="kv">
              <dt>事件类型 Event</dt><dd><span className="mono">{c.eventCode}</span> {c.eventName ?? c.eventType}</dd>
              <dt>来源 Source</dt><dd>{SOURCE_LABEL[c.source]}{c.sourceRef ? <span className="muted mono"> {c.sourceRef}</span> : null}</dd>
              <dt>地址 Address</dt><dd>{c.address ?? '—'}</dd>
              <dt>区 / 网格 Grid</dt><dd>{c.district ?? '—'} · <span className="mono">{c.gridCode ?? '无网格 no grid'}</span></dd>
              <dt>点位 Camera</dt><dd>{c.cameraId ? <><Link to={`/cameras/${c.cameraId}`}>{c.cameraName ?? c.cameraId}</Link> <a className="muted small" data-testid="case-playback" href={`/playback?camera=${encodeURIComponent(c.cameraId)}&at=${encodeURIComponent(c.reportedAt ?? c.filedAt)}`} target="_blank" rel="noreferrer">回放 Recording</a></> : '—'}</dd>
              <dt>描述 Description</dt><dd>{c.description ?? '—'}</dd>
              <dt>处置部门 Department</dt><dd>{c.department ?? '未派遣 not dispatched'}</dd>
              <dt>处置结果 Result</dt><dd>{c.handleResult ?? '—'}</dd>
              {c.voidReason ? <><dt>作废原因 Void reason</dt><dd>{c.voidReason}</dd></> : null}
              {c.reworkCount ? <><dt>返工次数 Reworks</dt><dd>{c.reworkCount}</dd></> : null}
            </dl>
            {c.lat !== null && c.lng !== null ? <MapPoint lat={c.lat} lng={c.lng} label={c.address ?? c.caseNo} cameraId={c.cameraId} /> : <p className="muted small">没有坐标 No map point.</p>}
          </div>
          <div className="case-panel">
            <h2>证据 <span className="en">Evidence</span></h2>
            <Evidence c={c} />
            {c.sourceEvent ? (
              <p className="small" data-testid="source-event">
                AI 事件 event: 置信度 score {Math.round(c.sourceEvent.score * 100)}% · {c.sourceEvent.objectCount} 个目标 objects ·
                首次发现 first seen {fmtTime(c.sourceEvent.firstSeen)} · 最后 last {fmtTime(c.sourceEvent.lastSeen)}
              </p>
            ) : null}
            {c.incident ? (
              <dl className="kv" data-testid="source-incident">
                <dt>110 接警单 Ticket</dt><dd className="mono">{c.incident.ticketNo}</dd>
                <dt>警情类别 Category</dt><dd>{c.incident.categoryCode} {c.incident.categoryName ?? ''}</dd>
                <dt>报警内容 Report</dt><dd>{c.incident.reportText}</dd>
                <dt>报警时间 Reported</dt><dd>{fmtTime(c.incident.reportedAt)}</dd>
                <dt>管辖单位 Unit</dt><dd>{c.incident.jurisdictionUnit ?? '—'}</dd>
                <dt>警情状态 Status</dt><dd>{c.incident.status}</dd>
                <dd style={{ gridColumn: '1 / -1' }}><Link to={`/desk110?ticket=${encodeURIComponent(c.incident.ticketNo)}`}>在 110 联动中查看 Open on the 110 desk</Link></dd>
              </dl>
            ) : null}
          </div>
          <div className="case-panel">
            <h2>办理过程 <span className="en">History</span></h2>
            <ol className="timeline" data-testid="history">
              {c.history.map((h, i) => (
                <li key={i} data-action={h.action}>
                  <span className="tabular muted">{fmtTime(h.at)}</span>
                  <span><strong>{actionLabel(h.action)}</strong></span>
                  <span>
                    {h.actor ?? '系统 system'}
                    {h.toStatus && h.toStatus !== h.fromStatus ? <span className="muted"> → {STATUS_LABEL[h.toStatus as keyof typeof STATUS_LABEL]?.zh ?? h.toStatus}</span> : null}
                    {typeof h.detail.department === 'string' ? <span> · {h.detail.department}</span> : null}
                    {typeof h.detail.hours === 'number' ? <span> · {h.detail.hours} 工作小时 h</span> : null}
                    {h.note ? <div className="muted">{h.note}</div> : null}
                  </span>
                </li>
              ))}
            </ol>
          </div>
        </div>
        <div>
          <div className="case-panel" data-testid="due-panel">
            <h2>处置时限 <span className="en">Time limit</span></h2>
            <div className={`due-big${c.overdue ? ' badge-err' : ''}`}>
              {c.dueAt ? <>到期 due {fmtTime(c.dueAt)}</> : '无时限 no time limit'}
            </div>
            <p className="muted small">
              时限 {limit ? fmtWorkingHours(limit.hours) : '—'}，按工作时间计（周一至周五 08:30–12:00、13:30–17:30）。
              Counted in working hours.{c.extensionCount ? ` 已延期 ${c.extensionCount} 次 extended ${c.extensionCount}×.` : ''}
              {c.status === 'parked' ? ' 挂账期间不计超期 Not counted overdue while parked.' : ''}
            </p>
            {c.extension ? (
              <Notice kind="warn" title="延期待审批 Extension waiting for approval">
                {c.extension.requestedBy} 申请延期 {c.extension.hours} 工作小时 asks for {c.extension.hours} h：{c.extension.reason}（{fmtTime(c.extension.requestedAt)}）
              </Notice>
            ) : null}
          </div>
          <div className="case-panel">
            <h2>操作 <span className="en">Actions</span> <span className="muted small">({user.role})</span></h2>
            {open || c.actions.length ? <ActionPanel c={c} departments={departments} onDone={(u, what) => { setC(u); setInfo(what); }} /> : <p className="muted" data-testid="case-finished">案卷已{st.zh.replace('已', '')}。The case is {st.en}.</p>}
          </div>
          <div className="case-panel" data-testid="handoffs">
            <h2>对外推送 <span className="en">Hand-offs</span></h2>
            {c.handoffs.length ? (
              <table className="grid-table">
                <thead><tr><th>内容 Topic</th><th>去向 To</th><th>状态 State</th><th /></tr></thead>
                <tbody>
                  {c.handoffs.map((h) => (
                    <tr key={h.id} data-handoff={h.state}>
                      <td className="mono">{h.topic}</td>
                      <td>{h.destination === 'city' ? '城市平台 city' : `110 ${h.apiKeyName ?? ''}`}</td>
                      <td title={h.lastError ?? undefined}>
                        <span className={HANDOFF_LABEL[h.state].cls}>{HANDOFF_LABEL[h.state].zh}</span>
                        {h.state === 'delivered' ? <span className="muted small"> {fmtTime(h.deliveredAt)}</span> : null}
                        {h.attempts ? <span className="muted small"> · {h.attempts} 次 tries</span> : null}
                        {h.lastError && h.state !== 'delivered' ? <div className="field-error">{h.lastError}</div> : null}
                        {h.state !== 'delivered' ? <div className="muted small">下次 next {fmtTime(h.nextAttemptAt)}</div> : null}
                      </td>
                      <td>{user.role === 'admin' && h.state !== 'delivered' ? <button type="button" className="btn btn-small" onClick={() => void retry(h.id)}>重试 Retry</button> : null}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : <p className="muted">没有推送 Nothing handed off.</p>}
          </div>
        </div>
      </div>
    </section>
  );
}
