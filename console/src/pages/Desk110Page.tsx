import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, request, type FieldErrors } from '../api';
import { useUser } from '../auth';
import { useLiveMessages } from '../live';
import { fmtTime } from '../lib/format';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { Pager } from '../components/Pager';
import { IncidentDetail } from '../desk110/IncidentDetail';
import { useSearchParams } from 'react-router';
import type { Camera, Page } from '../types';

/**
 * 110 联动 desk. police110: enter an incident by hand (optionally pointing at a camera to show the scene) and follow
 * its status live (WebSocket topic incident.updated). Operators and admins: accept (→ case) or send back (退回).
 */
interface Incident {
  id: string;
  ticketNo: string;
  reportedAt: string;
  receivedAt: string;
  callerPhone: string | null;
  callerName: string | null;
  address: string;
  reportText: string;
  categoryCode: string;
  categoryName: string | null;
  eventName: string | null;
  /** the 110 category code is not in the local map: someone classifies it here */
  unclassified?: boolean;
  confidential: boolean;
  cameraId: string | null;
  status: string;
  statusAt: string;
  caseNo: string | null;
  returnReason: string | null;
  handleResult: string | null;
  satisfaction: number | null;
  via: string;
}
interface Category { code: string; name: string; eventName: string | null; enabled: boolean }

const STATUS: Record<string, { zh: string; cls: string }> = {
  received: { zh: '已接收', cls: 'badge' },
  accepted: { zh: '已受理', cls: 'badge badge-ok' },
  dispatched: { zh: '已派遣', cls: 'badge badge-ok' },
  handled: { zh: '已处置', cls: 'badge badge-ok' },
  closed: { zh: '已办结', cls: 'badge badge-ok' },
  returned: { zh: '已退回', cls: 'badge badge-err' },
};
const SATISFACTION: Record<number, string> = { 1: '满意', 2: '基本满意', 3: '不满意' };
const LIMIT = 50;

function newTicket(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `DESK${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}${Math.floor(Math.random() * 90 + 10)}`;
}

function SubmitForm({ categories, onDone }: { categories: Category[]; onDone: (ticket: string) => void }) {
  const blank = () => ({ ticketNo: newTicket(), callerPhone: '', callerName: '', address: '', reportText: '', categoryCode: '', jurisdictionUnit: '', confidential: false, cameraId: '' });
  const [f, setF] = useState(blank);
  const [camQ, setCamQ] = useState('');
  const [cams, setCams] = useState<Camera[]>([]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof ReturnType<typeof blank>, v: string | boolean) => { setF((x) => ({ ...x, [k]: v })); setErrors(({ [k]: _gone, ...rest }) => rest); };

  useEffect(() => {
    const ac = new AbortController();
    api.cameras({ q: camQ || undefined, limit: 20 }, ac.signal).then((p) => setCams(p.items)).catch(() => {});
    return () => ac.abort();
  }, [camQ]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setErrors({});
    const body: Record<string, unknown> = { ticketNo: f.ticketNo.trim(), reportedAt: new Date().toISOString(), address: f.address.trim(), reportText: f.reportText.trim(), categoryCode: f.categoryCode, confidential: f.confidential };
    for (const k of ['callerPhone', 'callerName', 'jurisdictionUnit', 'cameraId'] as const) if (f[k].trim()) body[k] = f[k].trim();
    try {
      await request('/api/110/incidents', { method: 'POST', json: body });
      onDone(body.ticketNo as string);
      setF(blank());
    } catch (err) {
      if (err instanceof ApiError) { setError(err.message); setErrors(err.fieldErrors); } else setError(String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form form-inline" onSubmit={submit} noValidate data-testid="incident-form">
      <fieldset disabled={busy}>
        <legend>录入警情 New incident</legend>
        <Field label="接警单编号" en="Ticket no." error={errors.ticketNo}>
          {(p) => <input {...p} name="ticketNo" value={f.ticketNo} onChange={(e) => set('ticketNo', e.target.value)} />}
        </Field>
        <Field label="警情类别" en="Category" error={errors.categoryCode}>
          {(p) => (
            <select {...p} name="categoryCode" value={f.categoryCode} onChange={(e) => set('categoryCode', e.target.value)}>
              <option value="">— 请选择 choose —</option>
              {categories.filter((c) => c.enabled).map((c) => <option key={c.code} value={c.code}>{c.code} {c.name}</option>)}
            </select>
          )}
        </Field>
        <Field label="地址" en="Address" error={errors.address} wide>
          {(p) => <input {...p} name="address" value={f.address} onChange={(e) => set('address', e.target.value)} />}
        </Field>
        <Field label="报警内容" en="Report" error={errors.reportText} wide>
          {(p) => <textarea {...p} name="reportText" rows={3} maxLength={4000} value={f.reportText} onChange={(e) => set('reportText', e.target.value)} />}
        </Field>
        <Field label="报警人电话" en="Caller phone" error={errors.callerPhone}>
          {(p) => <input {...p} name="callerPhone" inputMode="tel" autoComplete="off" value={f.callerPhone} onChange={(e) => set('callerPhone', e.target.value)} />}
        </Field>
        <Field label="报警人姓名" en="Caller name" error={errors.callerName}>
          {(p) => <input {...p} name="callerName" autoComplete="off" value={f.callerName} onChange={(e) => set('callerName', e.target.value)} />}
        </Field>
        <Field label="管辖单位" en="Jurisdiction" error={errors.jurisdictionUnit}>
          {(p) => <input {...p} name="jurisdictionUnit" value={f.jurisdictionUnit} onChange={(e) => set('jurisdictionUnit', e.target.value)} />}
        </Field>
        <Field label="现场摄像机" en="Camera (optional)" error={errors.cameraId} hint="选择点位以显示现场 pick a camera to show the scene">
          {(p) => (
            <span>
              <input type="search" placeholder="搜索 search" value={camQ} onChange={(e) => setCamQ(e.target.value)} aria-label="搜索摄像机 search cameras" />
              <select {...p} name="cameraId" value={f.cameraId} onChange={(e) => set('cameraId', e.target.value)}>
                <option value="">— 无 none —</option>
                {cams.map((c) => <option key={c.id} value={c.id}>{c.name}{c.sharing === 'restricted' ? ' 🔒' : ''}</option>)}
              </select>
            </span>
          )}
        </Field>
        <label className="check"><input type="checkbox" name="confidential" checked={f.confidential} onChange={(e) => set('confidential', e.target.checked)} /> 保密 Confidential</label>
        {f.cameraId ? (
          <div className="scene" data-testid="scene">
            <img src={`/api/cameras/${encodeURIComponent(f.cameraId)}/snapshot`} alt="现场快照 scene snapshot" style={{ maxWidth: 320, display: 'block' }} onError={(e) => { (e.target as HTMLImageElement).style.display = 'none'; }} />
            <a href={`/cameras/${encodeURIComponent(f.cameraId)}`} target="_blank" rel="noreferrer">打开点位 Open camera</a>
          </div>
        ) : null}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">{busy ? '提交中… Sending' : '提交 Submit'}</button>
        </div>
      </fieldset>
      {error ? <Notice kind="error">{error}</Notice> : null}
    </form>
  );
}

interface EventTypeOption { key: string; nameZh: string; nameEn?: string }

/** An incident whose 110 category code is not mapped: pick its event type, and (admin) add the code to the map. */
function ClassifyControl({ incident, eventTypes, isAdmin, onDone, onError }: {
  incident: Incident; eventTypes: EventTypeOption[]; isAdmin: boolean; onDone: (msg: string) => void; onError: (msg: string) => void;
}) {
  const [eventType, setEventType] = useState('');
  const [addToMap, setAddToMap] = useState(isAdmin);
  const [busy, setBusy] = useState(false);
  async function classify() {
    if (!eventType) return;
    setBusy(true);
    try {
      await request<Incident>(`/api/110/incidents/${encodeURIComponent(incident.ticketNo)}/classify`, { method: 'POST', json: { eventType, addToMap: isAdmin && addToMap } });
      onDone(`已分类 ${incident.ticketNo} Classified${isAdmin && addToMap ? `；代码 ${incident.categoryCode} 已加入类别映射 code added to the map` : ''}`);
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <span className="classify" data-testid="classify">
      <span className="badge badge-warn">未分类 Unclassified</span>{' '}
      <select value={eventType} onChange={(e) => setEventType(e.target.value)} aria-label="事件类型 Event type">
        <option value="">选择事件类型 choose…</option>
        {eventTypes.map((t) => <option key={t.key} value={t.key}>{t.nameZh} {t.nameEn ?? t.key}</option>)}
      </select>
      {isAdmin ? <label className="check"><input type="checkbox" checked={addToMap} onChange={(e) => setAddToMap(e.target.checked)} /> 将代码 {incident.categoryCode} 加入映射 add code to map</label> : null}
      <button type="button" className="btn btn-small" disabled={!eventType || busy} onClick={() => void classify()}>分类 Classify</button>
    </span>
  );
}

export default function Desk110Page() {
  const me = useUser();
  const isPolice = me.role === 'police110' || me.role === 'admin';
  const isCenter = me.role === 'operator' || me.role === 'admin';
  const [categories, setCategories] = useState<Category[]>([]);
  // all incidents by default: "mine only" preset hid waiting incidents from police users ("暂无警情")
  const [mine, setMine] = useState(false);
  const [params, setParams] = useSearchParams();
  const open = params.get('ticket');
  const openTicket = (t: string | null) => setParams((p) => { const n = new URLSearchParams(p); if (t) n.set('ticket', t); else n.delete('ticket'); return n; }, { replace: true });
  const [status, setStatus] = useState('');
  const [offset, setOffset] = useState(0);
  const [data, setData] = useState<Page<Incident> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const [busyRow, setBusyRow] = useState<string | null>(null);
  const [flash, setFlash] = useState<Record<string, true>>({});

  useEffect(() => { request<Page<Category>>('/api/110/categories').then((p) => setCategories(p.items)).catch(() => {}); }, []);
  const [eventTypes, setEventTypes] = useState<EventTypeOption[]>([]);
  useEffect(() => { request<EventTypeOption[]>('/api/event-types').then(setEventTypes).catch(() => {}); }, []);
  useEffect(() => {
    const ac = new AbortController();
    request<Page<Incident>>('/api/110/incidents', { query: { mine: mine || undefined, status: status || undefined, limit: LIMIT, offset }, signal: ac.signal })
      .then((p) => { setData(p); setError(null); })
      .catch((err: Error) => { if (err.name !== 'AbortError') setError(err.message); });
    return () => ac.abort();
  }, [mine, status, offset, reload]);

  const refresh = useCallback(() => setReload((n) => n + 1), []);
  useLiveMessages<{ ticketNo: string; status: string }>({ topic: 'incident.updated' }, (msg) => {
    const known = data?.items.some((i) => i.ticketNo === msg.payload.ticketNo);
    if (known) {
      setData((d) => d && { ...d, items: d.items.map((i) => (i.ticketNo === msg.payload.ticketNo ? { ...i, status: msg.payload.status } : i)) });
      setFlash((f) => ({ ...f, [msg.payload.ticketNo]: true }));
    }
    refresh();
  });

  async function act(i: Incident, kind: 'accept' | 'return') {
    let body: object = {};
    if (kind === 'return') {
      const reason = window.prompt(`退回 ${i.ticketNo} 的原因 Reason for sending back`);
      if (!reason?.trim()) return;
      body = { reason: reason.trim() };
    }
    setBusyRow(i.ticketNo);
    setInfo(null);
    try {
      const r = await request<Incident>(`/api/110/incidents/${encodeURIComponent(i.ticketNo)}/${kind}`, { method: 'POST', json: body });
      setInfo(kind === 'accept' ? `已受理，立案 ${r.caseNo} Accepted as case ${r.caseNo}` : `已退回 ${i.ticketNo} Sent back`);
      refresh();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusyRow(null);
    }
  }

  return (
    <div className="page" data-testid="desk110-page">
      <div className="page-head">
        <h1>110 联动 <span className="en">110 desk</span></h1>
      </div>
      {isPolice ? <SubmitForm categories={categories} onDone={(tk) => { setInfo(`已提交 ${tk} Submitted`); refresh(); }} /> : null}
      {info ? <Notice kind="ok">{info}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      <div className="toolbar">
        {me.role !== 'operator' ? <label className="check"><input type="checkbox" checked={mine} onChange={(e) => { setMine(e.target.checked); setOffset(0); }} /> 只看我提交的 Mine only</label> : null}
        <label>状态 Status{' '}
          <select value={status} onChange={(e) => { setStatus(e.target.value); setOffset(0); }} name="status">
            <option value="">全部 all</option>
            {Object.entries(STATUS).map(([k, v]) => <option key={k} value={k}>{v.zh} {k}</option>)}
          </select>
        </label>
        <span className="spacer" />
        {data ? <Pager offset={offset} limit={LIMIT} total={data.total} onOffset={setOffset} /> : null}
      </div>
      {open ? <IncidentDetail ticket={open} version={reload} onClose={() => openTicket(null)} /> : null}
      <table className="grid-table" data-testid="incidents">
        <thead>
          <tr><th>接警单 Ticket</th><th>接收 Received</th><th>类别 Category</th><th>地址 Address</th><th>报警人 Caller</th><th>状态 Status</th><th>案卷 Case</th><th>结果 Result</th>{isCenter ? <th /> : null}</tr>
        </thead>
        <tbody>
          {data?.items.length === 0 ? (
            <tr><td colSpan={9} className="empty">
              {mine ? <>您提交的警情中没有符合条件的。None of yours match. <button type="button" className="link-button" onClick={() => setMine(false)}>看全部 Show all</button></> : '暂无警情 No incidents'}
            </td></tr>
          ) : null}
          {data?.items.map((i) => (
            <tr key={i.id} data-ticket={i.ticketNo} className={flash[i.ticketNo] ? 'flash' : undefined}>
              <td className="mono"><button type="button" className="link-button" data-testid="open-incident" onClick={() => openTicket(i.ticketNo)} title="查看详情 Details">{i.ticketNo}</button>{i.confidential ? ' (保密)' : ''}<br /><a href={`/playback?incident=${encodeURIComponent(i.id)}`} target="_blank" rel="noreferrer" data-testid="incident-playback">现场回放 Scene playback</a></td>
              <td className="tabular muted">{fmtTime(i.receivedAt)}</td>
              <td>{i.categoryName ?? i.categoryCode} <span className="muted mono">{i.categoryCode}</span><br />
                {i.unclassified
                  ? (i.status === 'received' && (isCenter || isPolice)
                    ? <ClassifyControl incident={i} eventTypes={eventTypes} isAdmin={me.role === 'admin'} onDone={(m) => { setInfo(m); refresh(); }} onError={setError} />
                    : <span className="badge badge-warn">未分类 Unclassified</span>)
                  : <span className="muted">{i.eventName}</span>}</td>
              <td title={i.reportText}>{i.address}</td>
              <td className="muted">{[i.callerName, i.callerPhone].filter(Boolean).join(' ') || '—'}</td>
              <td><span className={STATUS[i.status]?.cls ?? 'badge'} data-testid="status">{STATUS[i.status]?.zh ?? i.status}</span> <span className="muted">{i.status}</span></td>
              <td className="mono">{i.caseNo ?? '—'}</td>
              <td>{i.handleResult ?? i.returnReason ?? ''}{i.satisfaction ? <span className="muted"> · 回访 {SATISFACTION[i.satisfaction]}</span> : null}</td>
              {isCenter ? (
                <td style={{ whiteSpace: 'nowrap' }}>
                  {i.status === 'received' ? (
                    <>
                      <button type="button" className="btn btn-small btn-primary" disabled={busyRow === i.ticketNo} onClick={() => void act(i, 'accept')}>受理 Accept</button>{' '}
                      <button type="button" className="btn btn-small" disabled={busyRow === i.ticketNo} onClick={() => void act(i, 'return')}>退回 Return</button>
                    </>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
