import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { ApiError, request, type FieldErrors } from '../api';
import { Field } from '../components/Field';
import { EngineNotice } from '../components/EngineNotice';
import { Notice } from '../components/Notice';
import { reviewApi, type EventType, type Point, type PrecisionReport, type RuleInput, type RuleItem } from '../review/review-api';
import '../review/review.css';
import { LearningPanel, type RegionBox } from '../review/LearningPanel';
import { DatasetExport } from '../review/DatasetExport';
import { ModelsPanel, modelsApi, type ModelItem } from '../review/ModelsPanel';
import { useAuth } from '../auth';
import { Icon } from '../components/Icon';

/**
 * 分析规则 Rules: per camera, an event type with its zone drawn on a live snapshot, detector settings from the
 * event type's preset, field errors from the server's validator; and the precision of every rule and camera.
 */
interface CameraOption { id: string; name: string }
const DAYS = ['一', '二', '三', '四', '五', '六', '日'];
const round = (v: number) => Math.round(v * 1000) / 1000;

function emptyRule(cameraId = ''): RuleInput {
  return { cameraId, eventType: 'illegal_motor_parking', zone: [], enabled: true };
}

export default function RulesPage() {
  const [rules, setRules] = useState<RuleItem[]>([]);
  const [cameras, setCameras] = useState<CameraOption[]>([]);
  const [types, setTypes] = useState<EventType[]>([]);
  const [presets, setPresets] = useState<Record<string, Partial<RuleInput>>>({});
  const [classes, setClasses] = useState<string[]>([]);
  const [editing, setEditing] = useState<{ id: string | null; rule: RuleInput } | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [precision, setPrecision] = useState<PrecisionReport | null>(null);
  const [status, setStatus] = useState<{ state: string; message: string | null } | null>(null);
  const [regionBoxes, setRegionBoxes] = useState<RegionBox[]>([]);
  const [models, setModels] = useState<{ models: ModelItem[]; defaultModel: string }>({ models: [], defaultModel: '' });
  const loadModels = () => modelsApi.list().then(setModels, () => {});
  const { user } = useAuth();

  const load = async () => {
    try {
      const [r, p] = await Promise.all([reviewApi.rules(), reviewApi.precision()]);
      setRules(r.items);
      setPrecision(p);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void load();
    reviewApi.eventTypes().then(setTypes, () => {});
    reviewApi.presets().then((p) => { setPresets(p.presets); setClasses(p.classes); }, () => {});
    request<{ items: CameraOption[] }>('/api/cameras', { query: { limit: 1000 } }).then((r) => setCameras(r.items), () => {});
    void loadModels();
  }, []);

  const edit = (r: RuleItem) => setEditing({
    id: r.id,
    rule: { cameraId: r.cameraId, eventType: r.eventType, name: r.name ?? undefined, zone: r.zone, detector: r.detector, model: r.model ?? undefined, classes: r.classes, minScore: r.minScore,
      minArea: r.minArea, minCount: r.minCount, minDwellSeconds: r.minDwellSeconds, schedule: r.schedule, cooldownSeconds: r.cooldownSeconds, enabled: r.enabled },
  });
  const startNew = () => {
    const base = emptyRule(cameras[0]?.id ?? '');
    setEditing({ id: null, rule: { ...base, ...presets[base.eventType] } });
    setErrors({});
  };
  const set = (patch: Partial<RuleInput>) => setEditing((e) => (e ? { ...e, rule: { ...e.rule, ...patch } } : e));
  const applyPreset = (eventType: string) => {
    const p = presets[eventType] ?? {};
    set({ eventType, detector: p.detector ?? 'model', classes: p.classes ?? [], minScore: p.minScore, minArea: p.minArea, minCount: p.minCount,
      minDwellSeconds: p.minDwellSeconds, cooldownSeconds: p.cooldownSeconds, schedule: p.schedule ?? null });
  };

  const save = async () => {
    if (!editing) return;
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(editing.rule)) if (v !== undefined && !(k === 'name' && v === '')) body[k] = v;
    if (body.detector === 'foreground') delete body.classes;
    try {
      const r = editing.id ? await reviewApi.updateRule(editing.id, body) : await reviewApi.createRule(body as unknown as RuleInput);
      setSaved(`已保存 Saved: ${r.cameraName ?? ''} ${r.eventType}`);
      setEditing(null);
      setErrors({});
      void load();
    } catch (e) {
      if (e instanceof ApiError) { setErrors(e.fieldErrors); setError(e.message); } else setError(String(e));
    }
  };
  const remove = async (r: RuleItem) => {
    if (!window.confirm(`删除规则 Delete rule ${r.name ?? r.eventType}?`)) return;
    await reviewApi.deleteRule(r.id).catch((e) => setError((e as Error).message));
    void load();
  };

  // models a rule may name: shipped and enabled uploads (staged ones are not usable until enabled)
  const usable = models.models.filter((m) => m.source !== 'staged');
  const chosenClasses = (editing?.rule.model ? usable.find((m) => m.id === editing.rule.model)?.classes : undefined) ?? classes;
  const typeName = (key: string) => types.find((t) => t.key === key)?.nameZh ?? key;
  const err = (f: string) => errors[f] ?? Object.entries(errors).find(([k]) => k.startsWith(`${f}[`) || k.startsWith(`${f}.`))?.[1];

  return (
    <div className="rules-page">
      <div className="page-head">
        <h1>分析规则 <span className="muted">Rules</span></h1>
        {status && <span className={status.state === 'ready' ? 'muted' : 'flagged'}>分析引擎 Engine: {status.state}</span>}
        <div className="actions"><button className="btn btn-primary" onClick={startNew}>新建规则 New rule</button></div>
      </div>
      <EngineNotice onStatus={setStatus} />
      {error && <Notice kind="error">{error}</Notice>}
      {saved && <Notice kind="ok">{saved}</Notice>}
      {editing && (
        <div className="rules-layout">
          <div>
            <ZoneEditor cameraId={editing.rule.cameraId} zone={editing.rule.zone} onChange={(zone) => set({ zone })} regions={editing.id ? regionBoxes : []} />
            {err('zone') && <div className="field-error" role="alert">{err('zone')}</div>}
            {editing.id && <LearningPanel ruleId={editing.id} onRegions={setRegionBoxes} onApply={(patch) => set(patch)} />}
          </div>
          <form className="rule-form" aria-label="规则 Rule" onSubmit={(e) => { e.preventDefault(); void save(); }}>
            <Field label="点位" en="Camera" error={err('cameraId')}>{(p) => (
              <select {...p} value={editing.rule.cameraId} onChange={(e) => set({ cameraId: e.target.value })}>
                <option value="">—</option>
                {cameras.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
              </select>)}
            </Field>
            <Field label="事件类型" en="Event type" error={err('eventType')}>{(p) => (
              <select {...p} value={editing.rule.eventType} onChange={(e) => applyPreset(e.target.value)}>
                {types.map((t) => <option key={t.key} value={t.key}>{t.code} {t.nameZh}{t.hasPreset ? '' : ' (无预设 no preset)'}</option>)}
              </select>)}
            </Field>
            <Field label="名称" en="Name" error={err('name')}>{(p) => <input {...p} value={editing.rule.name ?? ''} maxLength={200} onChange={(e) => set({ name: e.target.value })} />}</Field>
            <Field label="检测方式" en="Detector" error={err('detector')}>{(p) => (
              <select {...p} value={editing.rule.detector ?? 'model'} onChange={(e) => set({ detector: e.target.value as 'model' | 'foreground' })}>
                <option value="model">模型 Model</option>
                <option value="foreground">静止前景 Stationary foreground</option>
              </select>)}
            </Field>
            {editing.rule.detector !== 'foreground' && (
              <Field label="模型" en="Model" error={err('model')}>{(p) => (
                <select {...p} value={editing.rule.model ?? ''} onChange={(e) => set({ model: e.target.value || undefined })}>
                  <option value="">默认 Default ({models.defaultModel || '—'})</option>
                  {usable.filter((m) => m.id !== models.defaultModel).map((m) => <option key={m.id} value={m.id}>{m.id}{m.source === 'uploaded' ? ' (自有 city model)' : ''}</option>)}
                </select>)}
              </Field>
            )}
            {editing.rule.detector !== 'foreground' && (
              <Field label="类别" en="Classes" wide error={err('classes')} hint={chosenClasses.length ? `可选 Known: ${chosenClasses.slice(0, 30).join(', ')}…` : undefined}>{(p) => (
                <input {...p} value={(editing.rule.classes ?? []).join(', ')} onChange={(e) => set({ classes: e.target.value.split(/[,\s]+/).filter(Boolean) })} />)}
              </Field>
            )}
            <NumField label="最低置信度" en="Min score (0-1)" value={editing.rule.minScore} step={0.05} error={err('minScore')} onChange={(minScore) => set({ minScore })} />
            <NumField label="最小面积" en="Min area (fraction)" value={editing.rule.minArea} step={0.001} error={err('minArea')} onChange={(minArea) => set({ minArea })} />
            <NumField label="最少数量" en="Min count" value={editing.rule.minCount} step={1} error={err('minCount')} onChange={(minCount) => set({ minCount })} />
            <NumField label="最短停留 (秒)" en="Min dwell (s)" value={editing.rule.minDwellSeconds} step={10} error={err('minDwellSeconds')} onChange={(minDwellSeconds) => set({ minDwellSeconds })} />
            <NumField label="冷却 (秒)" en="Cooldown (s)" value={editing.rule.cooldownSeconds} step={60} error={err('cooldownSeconds')} onChange={(cooldownSeconds) => set({ cooldownSeconds })} />
            <Field label="启用" en="Enabled">{(p) => <input {...p} type="checkbox" checked={editing.rule.enabled ?? true} onChange={(e) => set({ enabled: e.target.checked })} />}</Field>
            <Field label="时段" en="Schedule (empty = always)" wide error={err('schedule')}>{() => (
              <div className="toolbar">
                {DAYS.map((d, i) => (
                  <label key={d}><input type="checkbox" checked={!!editing.rule.schedule?.days.includes(i + 1)} onChange={(e) => {
                    const s = editing.rule.schedule ?? { days: [], from: '07:00', to: '20:00' };
                    const days = e.target.checked ? [...s.days, i + 1].sort() : s.days.filter((x) => x !== i + 1);
                    set({ schedule: days.length ? { ...s, days } : null });
                  }} />周{d}</label>
                ))}
                <input type="time" aria-label="from" value={editing.rule.schedule?.from ?? ''} disabled={!editing.rule.schedule} onChange={(e) => set({ schedule: { ...editing.rule.schedule!, from: e.target.value } })} />
                <input type="time" aria-label="to" value={editing.rule.schedule?.to ?? ''} disabled={!editing.rule.schedule} onChange={(e) => set({ schedule: { ...editing.rule.schedule!, to: e.target.value } })} />
              </div>)}
            </Field>
            <div className="wide review-actions">
              <button className="btn btn-primary" type="submit">保存 Save</button>
              <button className="btn" type="button" onClick={() => { setEditing(null); setErrors({}); setError(null); }}>取消 Cancel</button>
            </div>
          </form>
        </div>
      )}
      <div className="table-wrap" style={{ marginTop: 10 }}>
        <table className="grid-table">
          <caption>{rules.length} 条规则 rules</caption>
          <thead><tr><th>点位 Camera</th><th>事件 Event</th><th>检测 Detector</th><th>停留 Dwell</th><th>冷却 Cooldown</th><th>启用</th><th title="确认 / 已审核，全部时间 confirmed / reviewed, all time">准确率 Precision <span className="muted">(全部时间 all time)</span></th><th /></tr></thead>
          <tbody>
            {rules.map((r) => {
              const flagged = precision?.rules.find((x) => x.ruleId === r.id)?.flagged;
              return (
                <tr key={r.id}>
                  <td>{r.cameraName}</td>
                  <td>{typeName(r.eventType)} {r.name ? <span className="muted">{r.name}</span> : null}</td>
                  <td>{r.detector === 'model' ? <>{r.model ? <span className="muted">{r.model}: </span> : null}{r.classes.join(', ')}</> : '前景 foreground'}</td>
                  <td className="tabular">{r.minDwellSeconds} s</td>
                  <td className="tabular">{r.cooldownSeconds} s</td>
                  <td>{r.enabled ? '是' : '否'}</td>
                  <td className={flagged ? 'flagged' : 'tabular'}>{r.precision === null ? '—' : `${Math.round(r.precision * 100)}%`} <span className="muted">({r.confirmed}/{r.confirmed + r.rejected}){flagged ? <> <Icon name="warning" /> 低准确率 low</> : ''}</span></td>
                  <td><button className="btn btn-small" onClick={() => edit(r)}>编辑 Edit</button> <button className="btn btn-small btn-danger" onClick={() => void remove(r)}>删除</button></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {precision && <PrecisionPanel report={precision} typeName={typeName} />}
      {user?.role === 'admin' && <ModelsPanel models={models.models} cameras={cameras} onChanged={() => void loadModels()} />}
      {user?.role === 'admin' && <DatasetExport types={types} cameras={cameras} />}
    </div>
  );
}

function NumField({ label, en, value, step, error, onChange }: { label: string; en: string; value: number | undefined; step: number; error?: string; onChange: (v: number | undefined) => void }) {
  return (
    <Field label={label} en={en} error={error}>{(p) => (
      <input {...p} type="number" step={step} value={value ?? ''} onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))} />)}
    </Field>
  );
}

/**
 * Click to add a point, drag a point to move it, right-click a point to remove it. The zone is drawn over the
 * camera's own snapshot (sub stream) so a technician sees where the vehicles stand; the corner handles are HTML
 * dots placed in percent, a fixed size on screen whatever the picture's aspect (SVG circles in a stretched 0..1
 * viewBox drew as huge ellipses).
 */
export function ZoneEditor({ cameraId, zone, onChange, regions = [] }: { cameraId: string; zone: Point[]; onChange: (z: Point[]) => void; regions?: RegionBox[] }) {
  const svgRef = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<number | null>(null);
  const [snap, setSnap] = useState(0);
  const [picture, setPicture] = useState<'loading' | 'shown' | 'failed'>('loading');
  const toPoint = (e: { clientX: number; clientY: number }): Point => {
    const r = svgRef.current!.getBoundingClientRect();
    return [round(Math.min(1, Math.max(0, (e.clientX - r.left) / r.width))), round(Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)))];
  };
  useEffect(() => setPicture('loading'), [cameraId, snap]);
  return (
    <div>
      <div className="zone-editor" data-testid="zone-editor" data-picture={cameraId ? picture : 'none'}>
        {cameraId && picture !== 'failed'
          ? <img alt="实时快照 Live snapshot" data-testid="zone-snapshot" src={`/api/cameras/${encodeURIComponent(cameraId)}/snapshot?stream=sub&t=${snap}`}
              onLoad={() => setPicture('shown')} onError={() => setPicture('failed')} />
          : <div className="muted zone-placeholder">{cameraId ? '快照不可用，可点“刷新快照”重试 No snapshot: try Refresh snapshot' : '先选点位 Pick a camera'}</div>}
        {cameraId && picture === 'loading' ? <div className="zone-loading muted" role="status">正在取快照 Loading the snapshot…</div> : null}
        <svg ref={svgRef} viewBox="0 0 1 1" preserveAspectRatio="none" aria-label="区域 Zone"
          onClick={(e) => { if (drag === null) onChange([...zone, toPoint(e)]); }}>
          {zone.length >= 2 && <polygon points={zone.map((p) => p.join(',')).join(' ')} />}
          {regions.map((b, i) => <rect key={`r${i}`} className="suppression" x={b.x1} y={b.y1} width={b.x2 - b.x1} height={b.y2 - b.y1}><title>屏蔽区域 Suppression region</title></rect>)}
        </svg>
        {zone.map((p, i) => (
          <span key={i} className="zone-handle" data-testid="zone-handle" style={{ left: `${p[0] * 100}%`, top: `${p[1] * 100}%` }}
            title={`顶点 ${i + 1} Point ${i + 1}: 拖动移动，右键删除 drag to move, right-click to remove`}
            onPointerDown={(e) => { e.stopPropagation(); e.currentTarget.setPointerCapture?.(e.pointerId); setDrag(i); }}
            onPointerMove={(e: ReactPointerEvent<HTMLSpanElement>) => { if (drag === i) onChange(zone.map((q, j) => (j === i ? toPoint(e) : q))); }}
            onPointerUp={() => setTimeout(() => setDrag(null), 0)}
            onClick={(e) => e.stopPropagation()}
            onContextMenu={(e) => { e.preventDefault(); onChange(zone.filter((_, j) => j !== i)); }} />
        ))}
      </div>
      <div className="review-actions" style={{ marginTop: 4 }}>
        <button className="btn btn-small" type="button" onClick={() => onChange(zone.slice(0, -1))} disabled={!zone.length}>撤销 Undo point</button>
        <button className="btn btn-small" type="button" onClick={() => onChange([])} disabled={!zone.length}>清除 Clear</button>
        <button className="btn btn-small" type="button" onClick={() => setSnap(Date.now())}>刷新快照 Refresh snapshot</button>
        <span className="muted">{zone.length} 点 points · 点击添加，拖动移动，右键删除 click to add, drag to move, right-click to remove</span>
      </div>
    </div>
  );
}

function PrecisionPanel({ report, typeName }: { report: PrecisionReport; typeName: (k: string) => string }) {
  const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)}%`);
  return (
    <section style={{ marginTop: 14 }} aria-label="准确率 Precision">
      <h2>准确率 <span className="muted">Precision (confirmed / reviewed, all candidates to date 全部时间; flagged below {Math.round(report.threshold * 100)}% after {report.minReviews}+ reviews)</span></h2>
      <div className="rules-layout">
        <div className="table-wrap">
          <table className="grid-table">
            <caption>按点位 Per camera</caption>
            <thead><tr><th>点位</th><th>确认</th><th>驳回</th><th>待审</th><th>准确率</th></tr></thead>
            <tbody>{report.cameras.map((c) => (
              <tr key={c.cameraId}><td>{c.cameraName}</td><td>{c.confirmed}</td><td>{c.rejected}</td><td>{c.pending}</td><td className={c.flagged ? 'flagged' : ''}>{pct(c.precision)}</td></tr>
            ))}</tbody>
          </table>
        </div>
        <div className="table-wrap">
          <table className="grid-table">
            <caption>按类型 Volume per type · 驳回原因 Reject reasons: {report.reasons.map((r) => `${r.reason} ${r.n}`).join(', ') || '—'}</caption>
            <thead><tr><th>类型</th><th>总数</th><th>确认</th><th>驳回</th><th>准确率</th></tr></thead>
            <tbody>{report.types.map((t) => (
              <tr key={t.eventType}><td>{typeName(t.eventType)}</td><td>{t.total}</td><td>{t.confirmed}</td><td>{t.rejected}</td><td>{pct(t.precision)}</td></tr>
            ))}</tbody>
          </table>
        </div>
      </div>
    </section>
  );
}
