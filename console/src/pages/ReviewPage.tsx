import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../api';
import { EngineNotice } from '../components/EngineNotice';
import { Notice } from '../components/Notice';
import { useHotkeys } from '../lib/hooks';
import { useLiveMessages } from '../live';
import { emptyStats, TilePlayer, type PlayerStats } from '../wall/TilePlayer';
import { reviewApi, type EventItem, type EventType, type RejectReason } from '../review/review-api';
import '../review/review.css';

/**
 * 事件审核 Review desk: the queue of candidate events (oldest first), the evidence beside the camera's live view,
 * and keyboard review: C confirm (Enter files the case), R reject (1-9 picks one of the reasons of the event's type), J/N next, K previous,
 * V annotated/clean frame, P play the clip. New candidates arrive live over the WebSocket.
 */
type Mode = null | 'confirm' | 'reject';

const time = (s: string) => new Date(s).toLocaleString('zh-CN', { hour12: false });

export default function ReviewPage() {
  const [status, setStatus] = useState<'pending' | 'confirmed' | 'rejected'>('pending');
  const [eventType, setEventType] = useState('');
  const [cameraId, setCameraId] = useState('');
  const [items, setItems] = useState<EventItem[]>([]);
  const [total, setTotal] = useState(0);
  const [index, setIndex] = useState(0);
  const [types, setTypes] = useState<EventType[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const [mode, setMode] = useState<Mode>(null);
  const [clean, setClean] = useState(false);
  const [showClip, setShowClip] = useState(false);
  const [fresh, setFresh] = useState(0);
  const [busy, setBusy] = useState(false);
  const listRef = useRef<HTMLOListElement>(null);

  const load = useCallback(async () => {
    try {
      const r = await reviewApi.events({ status, eventType: eventType || undefined, cameraId: cameraId || undefined, limit: 200 });
      setItems(r.items);
      setTotal(r.total);
      setError(null);
      setFresh(0);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [status, eventType, cameraId]);

  useEffect(() => { void load(); }, [load]);
  useEffect(() => { reviewApi.eventTypes().then(setTypes, () => setTypes([])); }, []);
  useEffect(() => { setIndex((i) => Math.min(i, Math.max(0, items.length - 1))); }, [items.length]);

  const current = items[index] as EventItem | undefined;
  useEffect(() => { setClean(false); setShowClip(false); setMode(null); }, [current?.id]);
  useEffect(() => {
    listRef.current?.querySelector<HTMLElement>(`[data-index="${index}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [index]);

  // new candidates arrive live; a pending queue appends them (it is oldest first), others just say so
  useLiveMessages<{ kind: string; id: string }>({ topic: 'event.candidate' }, () => {
    if (status === 'pending' && !eventType && !cameraId) void load();
    else setFresh((n) => n + 1);
  });
  // late evidence (the clip) and closing of a stay: refresh that item
  useLiveMessages<{ kind: string; id: string }>({ topic: 'event.updated' }, (msg) => {
    const id = msg.payload.id;
    if ((msg.payload.kind === 'evidence' || msg.payload.kind === 'closed') && items.some((e) => e.id === id)) {
      reviewApi.event(id).then((e) => setItems((xs) => xs.map((x) => (x.id === id ? e : x))), () => {});
    }
  });
  // another reviewer decided: drop it from this queue
  useLiveMessages<{ id: string }>({ topic: 'event.reviewed' }, (msg) => {
    if (status === 'pending') setItems((xs) => xs.filter((x) => x.id !== msg.payload.id));
  });

  const decided = (e: EventItem, text: string) => {
    setFlash(text);
    if (status === 'pending') {
      setItems((xs) => xs.filter((x) => x.id !== e.id));
      setTotal((n) => Math.max(0, n - 1));
    } else setItems((xs) => xs.map((x) => (x.id === e.id ? e : x)));
    setMode(null);
  };

  const confirm = async (body: { eventType?: string; description?: string }) => {
    if (!current || busy) return;
    setBusy(true);
    try {
      const e = await reviewApi.confirm(current.id, body);
      decided(e, `已立案 Case filed: ${e.caseNo ?? ''}`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  // the reasons of the current event's type (data an admin edits), fetched once per type
  const [reasonsByType, setReasonsByType] = useState<Record<string, RejectReason[]>>({});
  const currentType = current?.eventType;
  useEffect(() => {
    if (!currentType || reasonsByType[currentType]) return;
    reviewApi.rejectReasons(currentType).then((r) => setReasonsByType((m) => ({ ...m, [currentType]: r.items.filter((x) => x.enabled) })), (err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
  }, [currentType, reasonsByType]);
  const reasons = currentType ? reasonsByType[currentType] ?? null : null;
  const reject = async (reason: string, note?: string) => {
    if (!current || busy) return;
    setBusy(true);
    try {
      const e = await reviewApi.reject(current.id, { reason, note });
      decided(e, `已驳回 Rejected: ${reasons?.find((r) => r.key === reason)?.nameZh ?? reason}`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const next = () => setIndex((i) => Math.min(items.length - 1, i + 1));
  const prev = () => setIndex((i) => Math.max(0, i - 1));
  const pendingCurrent = current?.status === 'pending';
  useHotkeys(mode ? {} : {
    c: () => pendingCurrent && setMode('confirm'),
    r: () => pendingCurrent && setMode('reject'),
    j: next, n: next, ArrowDown: next,
    k: prev, ArrowUp: prev,
    v: () => setClean((x) => !x),
    p: () => setShowClip((x) => !x),
  });

  const cameras = useMemo(() => [...new Map(items.map((e) => [e.cameraId, e.cameraName ?? e.cameraId])).entries()], [items]);

  return (
    <div className="review-page" data-testid="review-page">
      <div className="page-head">
        <h1>事件审核 <span className="muted">Review desk</span></h1>
        <span className="muted">{total} 条 events{fresh ? ` · ${fresh} 条新事件 new` : ''}</span>
        <div className="actions">
          <span className="muted kbd-help">C 确认 · R 驳回 · J/K 上/下一条 · V 原图 · P 录像</span>
          <button className="btn" onClick={() => void load()}>刷新 Refresh</button>
        </div>
      </div>
      <EngineNotice />
      <div className="toolbar">
        <select aria-label="状态 Status" value={status} onChange={(e) => { setStatus(e.target.value as typeof status); setIndex(0); }}>
          <option value="pending">待审核 Pending</option>
          <option value="confirmed">已确认 Confirmed</option>
          <option value="rejected">已驳回 Rejected</option>
        </select>
        <select aria-label="事件类型 Event type" value={eventType} onChange={(e) => { setEventType(e.target.value); setIndex(0); }}>
          <option value="">全部类型 All types</option>
          {types.map((t) => <option key={t.key} value={t.key}>{t.code} {t.nameZh}</option>)}
        </select>
        <select aria-label="点位 Camera" value={cameraId} onChange={(e) => { setCameraId(e.target.value); setIndex(0); }}>
          <option value="">全部点位 All cameras</option>
          {cameras.map(([id, name]) => <option key={id} value={id}>{name}</option>)}
        </select>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {flash && <div className="review-flash" role="status" data-testid="review-flash">{flash}</div>}
      <div className="review-layout">
        <ol className="review-queue" ref={listRef} aria-label="事件队列 Queue" data-testid="review-queue">
          {items.length === 0 && <li className="muted">队列为空 Nothing to review</li>}
          {items.map((e, i) => (
            <li key={e.id} data-index={i} data-event-id={e.id} className={i === index ? 'is-current' : ''} aria-current={i === index} onClick={() => setIndex(i)}>
              <div><strong>{e.eventCode}</strong> {e.eventName ?? e.eventType}</div>
              <div className="muted">{e.cameraName} · {time(e.firstSeen)}</div>
              <div className="muted">{e.label ?? ''} {Math.round(e.score * 100)}%{e.dwellSeconds ? ` · ${Math.round(e.dwellSeconds)} s` : ''}{e.closedAt ? ' · 已离开 cleared' : ''}</div>
            </li>
          ))}
        </ol>
        <section className="review-evidence" aria-label="证据 Evidence" data-testid="review-evidence" data-event-id={current?.id ?? ''}>
          {current ? (
            <>
              <div className="evidence-head">
                <strong>{current.eventCode} {current.eventName ?? current.eventType}</strong>
                <span className="muted">{current.cameraName} · {current.address ?? ''} · {time(current.firstSeen)} → {time(current.lastSeen)}</span>
                <span className={`badge status-${current.status}`}>{current.status}{current.caseNo ? ` · ${current.caseNo}` : ''}{current.rejectReason ? ` · ${reasons?.find((r) => r.key === current.rejectReason)?.nameZh ?? current.rejectReason}` : ''}</span>
              </div>
              {showClip && current.evidence.clip ? (
                <video className="evidence-media" src={reviewApi.evidenceUrl(current.id, 'clip')} controls autoPlay muted aria-label="录像 Clip" />
              ) : current.evidence.annotated || current.evidence.clean ? (
                <img className="evidence-media" alt={clean ? '原图 Clean frame' : '标注图 Annotated'}
                  src={reviewApi.evidenceUrl(current.id, clean && current.evidence.clean ? 'clean' : 'annotated')} />
              ) : current.evidence.purgedAt ? (
                <div className="muted">证据已按保留期限删除 Evidence removed by the retention policy on {current.evidence.purgedAt.slice(0, 10)}</div>
              ) : <div className="muted">无图片证据 No stills</div>}
              <div className="evidence-tools">
                <button className="btn btn-small" onClick={() => { setShowClip(false); setClean((x) => !x); }}>{clean ? '标注图 Annotated' : '原图 Clean'} (V)</button>
                <button className="btn btn-small" disabled={!current.evidence.clip} onClick={() => setShowClip((x) => !x)}>{showClip ? '图片 Stills' : '录像 Clip'} (P)</button>
                <a className="btn btn-small" href={`/playback?camera=${encodeURIComponent(current.cameraId)}&at=${encodeURIComponent(current.firstSeen)}`} target="_blank" rel="noreferrer">回放 Recording (−10 s)</a>
              </div>
              {pendingCurrent && mode === null && (
                <div className="review-actions">
                  <button className="btn btn-primary" onClick={() => setMode('confirm')}>确认立案 Confirm (C)</button>
                  <button className="btn btn-danger" onClick={() => setMode('reject')}>驳回 Reject (R)</button>
                </div>
              )}
              {mode === 'confirm' && <ConfirmForm event={current} types={types} busy={busy} onCancel={() => setMode(null)} onSubmit={confirm} />}
              {mode === 'reject' && <RejectForm reasons={reasons} busy={busy} onCancel={() => setMode(null)} onSubmit={reject} />}
            </>
          ) : <div className="muted">选择左侧事件 Pick an event</div>}
        </section>
        <section className="review-live" aria-label="实时画面 Live view">
          {current ? <LiveView key={current.cameraId} cameraId={current.cameraId} /> : null}
        </section>
      </div>
    </div>
  );
}

function LiveView({ cameraId }: { cameraId: string }) {
  const stats = useRef<PlayerStats>(emptyStats());
  const [phase, setPhase] = useState('connecting');
  return (
    <div className="review-live-tile">
      <TilePlayer cameraId={cameraId} stream="sub" kick={0} onStatus={(s) => setPhase(s.phase)} statsRef={stats} />
      <div className="muted">实时 Live · {phase}</div>
    </div>
  );
}

function ConfirmForm({ event, types, busy, onCancel, onSubmit }: {
  event: EventItem; types: EventType[]; busy: boolean; onCancel: () => void; onSubmit: (b: { eventType?: string; description?: string }) => void;
}) {
  const [type, setType] = useState(event.eventType);
  const [description, setDescription] = useState('');
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => { ref.current?.querySelector<HTMLElement>('textarea')?.focus(); }, []);
  const submit = () => onSubmit({ ...(type !== event.eventType ? { eventType: type } : {}), ...(description.trim() ? { description: description.trim() } : {}) });
  return (
    <form ref={ref} className="review-form" aria-label="确认 Confirm"
      onSubmit={(e) => { e.preventDefault(); submit(); }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
        if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); submit(); }
      }}>
      <label>事件类型 Event type
        <select value={type} onChange={(e) => setType(e.target.value)}>
          {types.filter((t) => t.enabled).map((t) => <option key={t.key} value={t.key}>{t.code} {t.nameZh}</option>)}
        </select>
      </label>
      <label>描述 Description
        <textarea rows={2} value={description} maxLength={4000} onChange={(e) => setDescription(e.target.value)} placeholder="Enter 立案, Shift+Enter 换行, Esc 取消" />
      </label>
      <div className="review-actions">
        <button className="btn btn-primary" type="submit" disabled={busy}>立案 File case (Enter)</button>
        <button className="btn" type="button" onClick={onCancel}>取消 Cancel (Esc)</button>
      </div>
    </form>
  );
}

function RejectForm({ reasons, busy, onCancel, onSubmit }: { reasons: RejectReason[] | null; busy: boolean; onCancel: () => void; onSubmit: (reason: string, note?: string) => void }) {
  const [reason, setReason] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  const noteRef = useRef<HTMLInputElement>(null);
  useEffect(() => { ref.current?.focus(); }, []);
  useEffect(() => { if (reason === 'other') noteRef.current?.focus(); }, [reason]);
  const pick = (key: string) => {
    if (key === 'other') setReason('other');
    else onSubmit(key);
  };
  return (
    <div ref={ref} tabIndex={-1} className="review-form" role="group" aria-label="驳回原因 Reject reason"
      onKeyDown={(e) => {
        if (e.key === 'Escape') { e.preventDefault(); onCancel(); return; }
        if (reason === 'other') {
          if (e.key === 'Enter' && note.trim()) { e.preventDefault(); onSubmit('other', note.trim()); }
          return;
        }
        const n = Number(e.key);
        if (reasons && n >= 1 && n <= Math.min(9, reasons.length)) { e.preventDefault(); pick(reasons[n - 1].key); }
      }}>
      {reasons === null ? <div className="loading-line" role="status" aria-label="正在取驳回原因 Loading the reasons" /> : null}
      <ol className="reason-list" data-testid="reject-reasons">
        {reasons?.map((r, i) => (
          <li key={r.key} data-reason={r.key}><button className="btn btn-small" disabled={busy} onClick={() => pick(r.key)}>{i < 9 ? <kbd>{i + 1}</kbd> : null} {r.nameZh} <span className="en">{r.nameEn}</span></button></li>
        ))}
      </ol>
      {reason === 'other' && (
        <label>说明 Note <input ref={noteRef} value={note} maxLength={1000} onChange={(e) => setNote(e.target.value)} placeholder="Enter 提交" /></label>
      )}
      <button className="btn" onClick={onCancel}>取消 Cancel (Esc)</button>
    </div>
  );
}
