import { useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import type { CameraGroup, WallPreset } from './types';
import { Icon } from '../components/Icon';

/** Saved walls (mine and shared) and "save these cameras as a group" (the camera list of a tour). */
export function PresetMenu({ presets, tourRunning, onLoad, onSave, onOverwrite, onDelete, onSaveGroup }: {
  presets: WallPreset[];
  tourRunning: boolean;
  onLoad(p: WallPreset): void;
  onSave(name: string, shared: boolean): Promise<void>;
  onOverwrite(p: WallPreset): Promise<void>;
  onDelete(p: WallPreset): Promise<void>;
  onSaveGroup(name: string, intervalS: number, shared: boolean): Promise<CameraGroup>;
}) {
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const [gname, setGname] = useState('');
  const [interval, setInterval] = useState(15);
  const [gshared, setGshared] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);

  const run = async (fn: () => Promise<unknown>, ok: string) => {
    try { await fn(); setMsg({ ok: true, text: ok }); } catch (e) { setMsg({ ok: false, text: e instanceof ApiError ? e.message : String(e) }); }
  };
  const save = (e: FormEvent) => { e.preventDefault(); if (name.trim()) void run(() => onSave(name.trim(), shared), `已保存 Saved “${name.trim()}”`).then(() => setName('')); };
  const saveGroup = (e: FormEvent) => { e.preventDefault(); if (gname.trim()) void run(() => onSaveGroup(gname.trim(), interval, gshared), `分组已保存 Group saved`).then(() => setGname('')); };

  return (
    <details className="menu" data-testid="preset-menu">
      <summary className="btn">预案 Presets ▾</summary>
      <div className="menu-panel">
        <ul className="preset-list">
          {presets.length ? presets.map((p) => (
            <li key={p.id} data-testid="preset-item">
              <button type="button" className="btn btn-small btn-ghost preset-load" onClick={() => onLoad(p)} title={`${p.layout} · ${p.cameras.filter(Boolean).length} 路${p.tour ? ' · 轮巡 tour' : ''}`}>
                {p.name} <span className="muted small">{p.layout}{p.tour ? <> <Icon name="tour" /></> : ''}{p.shared ? ` · 共享 ${p.mine ? '' : p.owner}` : ''}</span>
              </button>
              {p.mine ? <>
                <button type="button" className="btn btn-small" title="用当前画面覆盖 Overwrite with the current wall" onClick={() => void run(() => onOverwrite(p), `已更新 Updated “${p.name}”`)}>⤓</button>
                <button type="button" className="btn btn-small btn-danger" title="删除 Delete" onClick={() => void run(() => onDelete(p), `已删除 Deleted`)}><Icon name="close" /></button>
              </> : null}
            </li>
          )) : <li className="muted small">还没有预案。No saved walls yet.</li>}
        </ul>
        <form onSubmit={save} className="menu-form">
          <input aria-label="预案名称 Preset name" placeholder="预案名称 Preset name" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} data-testid="preset-name" />
          <label className="check-inline"><input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} /> 共享 shared</label>
          <button type="submit" className="btn btn-small btn-primary" data-testid="preset-save">保存 Save{tourRunning ? ' (+轮巡 tour)' : ''}</button>
        </form>
        <form onSubmit={saveGroup} className="menu-form">
          <input aria-label="分组名称 Group name" placeholder="当前点位存为分组 Group name" value={gname} onChange={(e) => setGname(e.target.value)} maxLength={100} data-testid="group-name" />
          <label className="check-inline">每 <input type="number" min={3} max={3600} value={interval} onChange={(e) => setInterval(Number(e.target.value) || 15)} className="num-input" aria-label="轮巡间隔 Tour interval (s)" /> s</label>
          <label className="check-inline"><input type="checkbox" checked={gshared} onChange={(e) => setGshared(e.target.checked)} /> 共享</label>
          <button type="submit" className="btn btn-small" data-testid="group-save">存为分组 Save group</button>
        </form>
        {msg ? <div className={`small ${msg.ok ? 'ok-text' : 'err-text'}`} role="status">{msg.text}</div> : null}
      </div>
    </details>
  );
}
