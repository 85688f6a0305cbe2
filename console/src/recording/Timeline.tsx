import { useMemo, useRef, useState, type MouseEvent } from 'react';
import type { Marker, Span } from './recording-api';

/** Zoom levels: a day down to ten minutes. */
export const ZOOMS = [
  { ms: 24 * 3600_000, zh: '24小时', en: '24 h' },
  { ms: 3600_000, zh: '1小时', en: '1 h' },
  { ms: 10 * 60_000, zh: '10分钟', en: '10 min' },
] as const;

const MARKER_LABEL: Record<Marker['kind'], string> = { candidate: 'AI 事件 candidate', alarm: '设备报警 camera alarm', incident: '110 警情 incident' };

export interface TimelineProps {
  spans: Span[];
  markers: Marker[];
  /** window shown: [startMs, startMs + zoom) */
  startMs: number;
  zoomMs: number;
  /** the position being played (wall clock), if any */
  playingMs: number | null;
  selection: { fromMs: number; toMs: number } | null;
  onSeek(atMs: number): void;
  onMarker(m: Marker): void;
  onSelect(sel: { fromMs: number; toMs: number } | null): void;
}

const fmt = (ms: number, withSeconds = false) => new Date(ms).toLocaleTimeString('zh-CN', { hour12: false, hour: '2-digit', minute: '2-digit', ...(withSeconds ? { second: '2-digit' } : {}) });

/** A bar of the recorded spans (unavailable ones hatched) with event markers; click seeks, shift-drag selects a clip. */
export function Timeline(p: TimelineProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<number | null>(null);
  const end = p.startMs + p.zoomMs;
  const x = (ms: number) => `${(((ms - p.startMs) / p.zoomMs) * 100).toFixed(3)}%`;
  const w = (a: number, b: number) => `${Math.max(0.15, ((Math.min(b, end) - Math.max(a, p.startMs)) / p.zoomMs) * 100).toFixed(3)}%`;
  const at = (e: MouseEvent) => {
    const r = ref.current!.getBoundingClientRect();
    return p.startMs + ((e.clientX - r.left) / r.width) * p.zoomMs;
  };
  const ticks = useMemo(() => {
    const step = p.zoomMs >= 12 * 3600_000 ? 2 * 3600_000 : p.zoomMs >= 3600_000 ? 10 * 60_000 : 60_000;
    const out: number[] = [];
    for (let t = Math.ceil(p.startMs / step) * step; t < end; t += step) out.push(t);
    return out;
  }, [p.startMs, p.zoomMs, end]);
  const visible = p.spans.filter((s) => Date.parse(s.to) > p.startMs && Date.parse(s.from) < end);
  return (
    <div className="rec-timeline" data-testid="rec-timeline">
      <div ref={ref} className="rec-bar" role="slider" aria-label="录像时间轴 Recording timeline" aria-valuemin={p.startMs} aria-valuemax={end} aria-valuenow={p.playingMs ?? p.startMs}
        onMouseDown={(e) => { if (e.shiftKey) setDrag(at(e)); }}
        onMouseUp={(e) => {
          if (drag !== null) { const b = at(e); p.onSelect({ fromMs: Math.min(drag, b), toMs: Math.max(drag, b) }); setDrag(null); return; }
          p.onSeek(at(e));
        }}>
        {visible.map((s, i) => (
          <div key={i} className={`rec-span${s.available ? '' : ' rec-span-unavailable'}`} data-testid="rec-span" data-from={s.from} data-to={s.to} data-available={s.available}
            title={`${fmt(Date.parse(s.from), true)} – ${fmt(Date.parse(s.to), true)}${s.available ? '' : ' 节点不可用 node unavailable'}`}
            style={{ left: x(Math.max(Date.parse(s.from), p.startMs)), width: w(Date.parse(s.from), Date.parse(s.to)) }} />
        ))}
        {p.selection ? <div className="rec-selection" style={{ left: x(p.selection.fromMs), width: w(p.selection.fromMs, p.selection.toMs) }} /> : null}
        {p.markers.filter((m) => { const t = Date.parse(m.at); return t >= p.startMs && t < end; }).map((m) => (
          <button key={`${m.kind}-${m.id}`} type="button" className={`rec-marker rec-marker-${m.kind}`} data-testid="rec-marker" data-kind={m.kind} data-at={m.at} style={{ left: x(Date.parse(m.at)) }}
            title={`${MARKER_LABEL[m.kind]} ${m.label ?? ''} ${fmt(Date.parse(m.at), true)} — 点击从前10秒播放 click to play from 10 s before`}
            onMouseUp={(e) => { e.stopPropagation(); p.onMarker(m); }} />
        ))}
        {p.playingMs !== null && p.playingMs >= p.startMs && p.playingMs < end ? <div className="rec-cursor" style={{ left: x(p.playingMs) }} /> : null}
      </div>
      <div className="rec-ticks" aria-hidden="true">
        {ticks.map((t) => <span key={t} style={{ left: x(t) }}>{fmt(t)}</span>)}
      </div>
    </div>
  );
}
