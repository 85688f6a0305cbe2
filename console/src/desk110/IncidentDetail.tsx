import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, request } from '../api';
import { useUser } from '../auth';
import { fmtTime } from '../lib/format';
import { Notice } from '../components/Notice';
import { Icon } from '../components/Icon';

/** One 110 incident in full: the record, every status and feedback step with who and when, and its case. */
interface Detail {
  ticketNo: string; reportedAt: string; receivedAt: string; callerPhone: string | null; callerName: string | null; address: string;
  lat: number | null; lng: number | null; reportText: string; categoryCode: string; categoryName: string | null; eventName: string | null;
  jurisdictionUnit: string | null; adminCode: string | null; confidential: boolean; status: string; statusAt: string; caseId: string | null;
  caseNo: string | null; caseStatus: string | null; returnReason: string | null; handleResult: string | null; handledUnit: string | null;
  satisfaction: number | null; satisfactionNote: string | null; via: string;
  history: Array<{ at: string; status: string; note: string | null; actor: string | null }>;
}
const STATUS_ZH: Record<string, string> = { received: '已接收', accepted: '已受理', dispatched: '已派遣', handled: '已处置', closed: '已办结', returned: '已退回' };
const SATISFACTION: Record<number, string> = { 1: '满意 satisfied', 2: '基本满意 basically satisfied', 3: '不满意 dissatisfied' };

export function IncidentDetail({ ticket, version, onClose }: { ticket: string; version: number; onClose: () => void }) {
  const me = useUser();
  const [d, setD] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ac = new AbortController();
    request<Detail>(`/api/110/incidents/${encodeURIComponent(ticket)}`, { signal: ac.signal })
      .then((r) => { setD(r); setError(null); }, (err: unknown) => { if (!ac.signal.aborted) setError(err instanceof ApiError && err.status === 404 ? `没有警情 ${ticket} No such incident` : String((err as Error).message)); });
    return () => ac.abort();
  }, [ticket, version]);
  const caseLink = d?.caseId && ['admin', 'operator', 'reviewer'].includes(me.role);
  return (
    <aside className="case-panel incident-detail" data-testid="incident-detail" aria-label={`警情 ${ticket}`}>
      <div className="page-head" style={{ marginBottom: 6 }}>
        <h2 style={{ margin: 0 }}>警情详情 <span className="en">Incident</span> <span className="mono">{ticket}</span></h2>
        <div className="actions"><button type="button" className="btn btn-small btn-ghost" onClick={onClose} title="关闭 Close"><Icon name="close" /></button></div>
      </div>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {d ? (
        <>
          <dl className="kv">
            <dt>状态 Status</dt><dd data-testid="detail-status">{STATUS_ZH[d.status] ?? d.status} <span className="muted">{d.status} · {fmtTime(d.statusAt)}</span></dd>
            <dt>报警时间 Reported</dt><dd>{fmtTime(d.reportedAt)} <span className="muted">接收 received {fmtTime(d.receivedAt)} · {d.via === 'api' ? '系统推送 via API' : '手工录入 desk'}</span></dd>
            <dt>警情类别 Category</dt><dd>{d.categoryCode} {d.categoryName ?? ''} <span className="muted">→ {d.eventName}</span></dd>
            <dt>地址 Address</dt><dd>{d.address}{d.lat !== null && d.lng !== null ? <span className="muted mono"> ({d.lat.toFixed(5)}, {d.lng.toFixed(5)})</span> : null}</dd>
            <dt>报警内容 Report</dt><dd>{d.reportText}</dd>
            <dt>报警人 Caller</dt><dd>{[d.callerName, d.callerPhone].filter(Boolean).join(' ') || '—'}{d.confidential ? ' · 保密 confidential' : ''}</dd>
            <dt>管辖单位 Unit</dt><dd>{d.jurisdictionUnit ?? '—'}{d.adminCode ? <span className="muted mono"> {d.adminCode}</span> : null}</dd>
            <dt>案卷 Case</dt>
            <dd data-testid="detail-case">{d.caseNo ? (caseLink ? <Link to={`/cases/${d.caseId}`}>{d.caseNo}</Link> : <span className="mono">{d.caseNo}</span>) : '未立案 none'}{d.caseStatus ? <span className="muted"> · {d.caseStatus}</span> : null}</dd>
            {d.handleResult ? <><dt>处置结果 Result</dt><dd>{d.handleResult}{d.handledUnit ? ` · ${d.handledUnit}` : ''}</dd></> : null}
            {d.returnReason ? <><dt>退回原因 Returned</dt><dd>{d.returnReason}</dd></> : null}
            {d.satisfaction ? <><dt>回访 Callback</dt><dd>{SATISFACTION[d.satisfaction]}{d.satisfactionNote ? ` · ${d.satisfactionNote}` : ''}</dd></> : null}
          </dl>
          <h2 style={{ marginTop: 10 }}>状态与反馈 <span className="en">Status and feedback</span></h2>
          <ol className="timeline" data-testid="incident-history">
            {d.history.map((h, i) => (
              <li key={i}>
                <span className="tabular muted">{fmtTime(h.at)}</span>
                <span><strong>{STATUS_ZH[h.status] ?? h.status}</strong></span>
                <span>{h.actor ?? '系统 system'}{h.note ? <div className="muted">{h.note}</div> : null}</span>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </aside>
  );
}
