import { useEffect, useState } from 'react';
import { request } from '../api';
import { Notice } from '../components/Notice';

/**
 * 屏蔽区域与建议 Suppression regions and suggestions of one rule, on the rule editor: regions learnt from rejections
 * ("permanent object", "licensed vendor", "legal parking bay") or drawn, each permanent or with an end that can be
 * edited; spots rejected again and again (one click makes them a region); stricter thresholds the reviews support.
 */
export interface RegionBox { x1: number; y1: number; x2: number; y2: number }
export interface SuppressionRegion {
  id: string; box: RegionBox; reason: string; note: string | null; expiresAt: string | null; active: boolean; createdBy: string | null; createdAt: string;
}
interface Suggestions {
  confirmed: number;
  rejected: number;
  thresholds: Array<{ field: string; suggested: number; message: { zh: string; en: string } }>;
  spots: Array<{ box: RegionBox; rejections: number; reasons: Record<string, number> }>;
}

const REASONS: Record<string, string> = { permanent_object: '固定物体 Permanent object', legal_parking_bay: '合法停车位 Legal parking bay', licensed_vendor: '持证经营 Licensed vendor', drawn: '手动 Drawn' };
const enc = encodeURIComponent;
const pct = (v: number) => `${Math.round(v * 100)}%`;
const toLocal = (iso: string | null) => (iso ? new Date(new Date(iso).getTime() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '');

export function LearningPanel({ ruleId, onRegions, onApply }: { ruleId: string; onRegions: (boxes: RegionBox[]) => void; onApply: (patch: Record<string, number>) => void }) {
  const [regions, setRegions] = useState<SuppressionRegion[]>([]);
  const [sugg, setSugg] = useState<Suggestions | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    try {
      const [r, s] = await Promise.all([
        request<{ items: SuppressionRegion[] }>(`/api/rules/${enc(ruleId)}/suppressions`),
        request<Suggestions>(`/api/rules/${enc(ruleId)}/suggestions`),
      ]);
      setRegions(r.items);
      setSugg(s);
      onRegions(r.items.filter((x) => x.active).map((x) => x.box));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => { void load(); }, [ruleId]);
  const act = async (fn: () => Promise<unknown>) => {
    try { await fn(); await load(); } catch (e) { setError((e as Error).message); }
  };
  const patch = (id: string, json: Record<string, unknown>) => act(() => request(`/api/suppressions/${enc(id)}`, { method: 'PATCH', json }));

  return (
    <section aria-label="屏蔽区域 Suppression regions" style={{ marginTop: 8 }}>
      <h3>屏蔽区域 <span className="muted">Suppression regions (no candidate of this rule where an object stands inside one)</span></h3>
      {error && <Notice kind="error">{error}</Notice>}
      {regions.length === 0 ? <p className="muted">无 None — 驳回原因为“固定物体 / 持证经营 / 合法停车位”时自动生成 made from rejections for a permanent object, licensed vendor or legal parking bay</p> : (
        <table className="grid-table">
          <thead><tr><th>区域 Box</th><th>原因 Reason</th><th>到期 Ends</th><th>状态</th><th /></tr></thead>
          <tbody>{regions.map((r) => (
            <tr key={r.id} data-region={r.id}>
              <td className="tabular">{pct(r.box.x1)},{pct(r.box.y1)} – {pct(r.box.x2)},{pct(r.box.y2)}</td>
              <td>{REASONS[r.reason] ?? r.reason}{r.note ? <span className="muted"> {r.note}</span> : null}</td>
              <td>
                <label><input type="checkbox" checked={r.expiresAt === null} onChange={(e) => void patch(r.id, { expiresAt: e.target.checked ? null : new Date(Date.now() + 30 * 86_400_000).toISOString() })} /> 永久 Permanent</label>{' '}
                {r.expiresAt !== null && (
                  <input type="datetime-local" aria-label="到期 Ends at" value={toLocal(r.expiresAt)} onChange={(e) => { if (e.target.value) void patch(r.id, { expiresAt: new Date(e.target.value).toISOString() }); }} />
                )}
              </td>
              <td>{r.active ? '生效 active' : '已过期 expired'}</td>
              <td>
                <button className="btn btn-small" type="button" onClick={() => void patch(r.id, { expiresAt: new Date().toISOString() })} disabled={!r.active}>结束 End now</button>{' '}
                <button className="btn btn-small btn-danger" type="button" onClick={() => void act(() => request(`/api/suppressions/${enc(r.id)}`, { method: 'DELETE' }))}>删除 Delete</button>
              </td>
            </tr>
          ))}</tbody>
        </table>
      )}
      {sugg && (sugg.spots.length > 0 || sugg.thresholds.length > 0) && (
        <div aria-label="建议 Suggestions" style={{ marginTop: 6 }}>
          <h3>建议 <span className="muted">Suggestions from {sugg.confirmed} confirmations and {sugg.rejected} rejections</span></h3>
          <ul>
            {sugg.spots.map((s, i) => (
              <li key={`s${i}`}>
                同一位置被驳回 {s.rejections} 次 Rejected {s.rejections} times at {pct(s.box.x1)},{pct(s.box.y1)} ({Object.entries(s.reasons).map(([k, n]) => `${k} ${n}`).join(', ')}){' '}
                <button className="btn btn-small" type="button" onClick={() => void act(() => request(`/api/rules/${enc(ruleId)}/suppressions`, { method: 'POST', json: { box: s.box, reason: 'repeated_rejections' } }))}>设为屏蔽区域 Suppress this spot</button>
              </li>
            ))}
            {sugg.thresholds.map((t) => (
              <li key={t.field}>
                {t.message.zh} <span className="muted">{t.message.en}</span>{' '}
                <button className="btn btn-small" type="button" onClick={() => onApply({ [t.field]: t.suggested })}>采用 Use (then save)</button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
