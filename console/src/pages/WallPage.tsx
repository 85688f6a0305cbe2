import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useLiveMessages } from '../live';
import { ApiError } from '../api';
import { Notice } from '../components/Notice';
import { wallApi } from '../wall/wall-api';
import { CameraTree } from '../wall/CameraTree';
import { WallGrid } from '../wall/WallGrid';
import { MapView } from '../wall/MapView';
import { PresetMenu } from '../wall/PresetMenu';
import { StatusStore } from '../wall/status-store';
import { alarmShown, initialWall, tourCapacity, wallReducer } from '../wall/wall-state';
import { useTour } from '../wall/useTour';
import { SHORTCUTS, useWallKeys } from '../wall/useWallKeys';
import { LAYOUT_KEYS, layoutFor, MAX_TILES, tileCount } from '../wall/layouts';
import { useDecodeBudget, type StatsBoard } from '../wall/useDecodeBudget';
import { parseLink, wallQuery } from '../wall/deep-link';
import { LAYOUTS, type AlarmPayload, type CameraGroup, type CameraStatePayload, type CameraTreeResponse, type ConsoleConfig, type Layout, type WallPreset } from '../wall/types';
import '../wall/wall.css';
import { Icon } from '../components/Icon';

const BUDGET_KEY = 'streeteye.wall.liveBudget';
const ALARM_TOPICS = ['event.candidate', 'incident.created', 'camera.alarm'] as const;
/** Camera alarms that call an operator's eyes (motion on a street camera never stops, so it stays off the wall). */
const WALL_CAMERA_ALARMS: Record<string, string> = { tamper: '视频遮挡/移位 Tampering', video_loss: '视频丢失 Video loss' };
const KEY_OF_LAYOUT = Object.fromEntries(Object.entries(LAYOUT_KEYS).map(([k, l]) => [l, k])) as Partial<Record<Layout, string>>;

export default function WallPage() {
  const [sp] = useSearchParams();
  const navigate = useNavigate();
  const [wall, dispatch] = useReducer(wallReducer, sp, (s) => { const l = parseLink(s); return initialWall(l.layout ?? '16', l.cameras ?? []); });
  const [tree, setTree] = useState<CameraTreeResponse | null>(null);
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [groups, setGroups] = useState<CameraGroup[]>([]);
  const [presets, setPresets] = useState<WallPreset[]>([]);
  const [favourites, setFavourites] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [budget, setBudget] = useState<number | null>(() => { const v = Number(localStorage.getItem(BUDGET_KEY)); return v >= 1 && v <= MAX_TILES ? v : null; });
  const [showMap, setShowMap] = useState(false);
  const [help, setHelp] = useState(false);
  const [store] = useState(() => new StatusStore());
  const wallRef = useRef<HTMLDivElement>(null);
  const searchRef = useRef<HTMLInputElement | null>(null);
  const n = tileCount(wall.layout);

  const loadLists = useCallback(async () => {
    const [g, p, f] = await Promise.all([wallApi.groups(), wallApi.presets(), wallApi.favourites()]);
    setGroups(g.items);
    setPresets(p.items);
    setFavourites(new Set(f.items.map((x) => x.cameraId)));
  }, []);

  useEffect(() => {
    const ac = new AbortController();
    Promise.all([wallApi.config(ac.signal), wallApi.tree(ac.signal)]).then(([c, t]) => { setConfig(c); setTree(t); }, (e) => { if (!ac.signal.aborted) setError(e instanceof ApiError ? e.message : String(e)); });
    loadLists().catch((e) => setError(e instanceof ApiError ? e.message : String(e)));
    return () => ac.abort();
  }, [loadLists]);

  const byId = useMemo(() => new Map((tree?.cameras ?? []).map((c) => [c.id, c])), [tree]);
  // the most tiles at full frame rate: the operator's own cap, else the server's (WALL_LIVE_BUDGET); the decode
  // budget measured on this PC decides how many of them it really gets
  const liveBudget = budget ?? config?.liveBudget ?? 16;

  // ---- tours
  const onTourStep = useCallback((cameras: (string | null)[]) => dispatch({ type: 'page', cameras }), []);
  // while an alarm holds its tile the tour pages over the other tiles, so every camera of the group still comes round
  const tours = useTour(tourCapacity(wall), onTourStep);
  const { tour } = tours;

  // ---- deep link: read once the groups are known (a tour link), then keep the URL in step with the wall
  const linkApplied = useRef(false);
  useEffect(() => {
    if (linkApplied.current || !tree) return;
    linkApplied.current = true;
    const l = parseLink(sp);
    if (l.tour) {
      wallApi.groups().then((g) => {
        const grp = g.items.find((x) => x.id === l.tour);
        if (grp) tours.start({ groupId: grp.id, name: grp.name, cameraIds: grp.cameraIds, intervalS: l.interval ?? grp.tourIntervalS });
      }, () => {});
    }
    if (l.preset) {
      wallApi.presets().then((p) => { const pr = p.items.find((x) => x.id === l.preset); if (pr) loadPreset(pr); }, () => {});
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tree]);

  const linkQuery = useMemo(() => wallQuery(wall.layout, wall.tiles.slice(0, n), tour ? { groupId: tour.groupId, intervalS: tour.intervalS } : null), [wall.layout, wall.tiles, n, tour]);
  useEffect(() => {
    if (!linkApplied.current) return;
    // commas stay readable in the address bar (operators read and paste these links)
    if (sp.toString() !== new URLSearchParams(linkQuery).toString()) void navigate(`/wall?${linkQuery}`, { replace: true });
  }, [linkQuery, sp, navigate]);

  // ---- push: camera states for dots; alarms to the designated tile
  useLiveMessages<CameraStatePayload>({ topic: 'camera.state' }, (m) => { if (m.payload?.cameraId) store.apply(m.payload); });
  useLiveMessages<AlarmPayload>({ topic: ALARM_TOPICS }, (m) => {
    const cameraId = m.cameraId ?? (typeof m.payload?.cameraId === 'string' ? m.payload.cameraId : undefined);
    if (!cameraId || !byId.has(cameraId)) return;
    const p = m.payload ?? {};
    if (m.topic === 'camera.alarm' && (p.active !== true || typeof p.kind !== 'string' || !WALL_CAMERA_ALARMS[p.kind])) return;
    const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);
    // a 110 incident says what and where (category, address), as the desk does
    const what = m.topic === 'incident.created'
      ? ['110 警情 Incident', text(p.ticketNo), text(p.categoryName), text(p.address)].filter(Boolean).join(' · ')
      : m.topic === 'camera.alarm' ? `设备报警 ${WALL_CAMERA_ALARMS[String(p.kind)]}`
        : `候选事件 Event${p.eventType ? ` ${String(p.eventType)}` : ''}`;
    const title = `${what}${text(p.title) ? ` · ${text(p.title)}` : ''} · ${byId.get(cameraId)!.name}`;
    dispatch({ type: 'alarm', alarm: { key: `${m.topic}:${String(p.id ?? p.alarmId ?? Date.now())}`, topic: m.topic, cameraId, title, at: Date.now() } });
  });
  // the overlay belongs to the alarm's camera: a camera an operator put on the alarm tile shows without it
  const alarm = alarmShown(wall);

  // ---- frame rate per tile, measured on this PC: focused, alarm and PTZ tiles (the PTZ panel is on the focused
  // tile) full first; the others full, keyframes only (降帧) or still (静帧) as the client can decode
  const pageRef = useRef<HTMLDivElement>(null);
  const [board] = useState<StatsBoard>(() => new Map());
  const order = useMemo(() => Array.from({ length: n }, (_, i) => i).filter((i) => !!wall.tiles[i]), [wall.tiles, n]);
  const priority = useMemo(() => new Set([...(wall.focused !== null ? [wall.focused] : []), ...(alarm ? [wall.alarmTile] : [])].filter((i) => !!wall.tiles[i])), [wall.focused, wall.alarmTile, wall.tiles, alarm]);
  const rates = useDecodeBudget(board, order, priority, liveBudget, pageRef);
  const counts = useMemo(() => {
    const c = { full: 0, reduced: 0, still: 0 };
    for (const r of rates.values()) c[r]++;
    return c;
  }, [rates]);

  // ---- tile actions (stable callbacks: tiles are memoised)
  const manual = useRef(tours.pause);
  useEffect(() => { manual.current = tours.pause; });
  const onSelect = useCallback((i: number) => dispatch({ type: 'select', index: i }), []);
  const onToggleFocus = useCallback((i: number) => dispatch({ type: 'focus', index: i }), []);
  const onDropCamera = useCallback((i: number, id: string) => { manual.current(); dispatch({ type: 'assign', index: i, cameraId: id }); }, []);
  const onSwap = useCallback((a: number, b: number) => dispatch({ type: 'swap', from: a, to: b }), []);
  const onClear = useCallback((i: number) => dispatch({ type: 'assign', index: i, cameraId: null }), []);
  const onAck = useCallback(() => dispatch({ type: 'ack' }), []);
  const onSetAlarmTile = useCallback((i: number) => dispatch({ type: 'alarmTile', index: i }), []);

  const pick = useCallback((id: string) => {
    manual.current();
    dispatch({ type: 'assign', index: wall.selected, cameraId: id });
    if (wall.selected + 1 < n) dispatch({ type: 'select', index: wall.selected + 1 });
  }, [wall.selected, n]);
  const pickMany = useCallback((ids: string[]) => {
    tours.stop();
    const layout = ids.length > n ? layoutFor(Math.min(ids.length, MAX_TILES)) : wall.layout;
    dispatch({ type: 'load', layout, cameras: ids.slice(0, MAX_TILES) });
  }, [n, wall.layout, tours]);

  const loadPreset = (p: WallPreset) => {
    dispatch({ type: 'load', layout: p.layout, cameras: p.cameras });
    const g = p.tour ? groups.find((x) => x.id === p.tour!.groupId) : undefined;
    if (p.tour && g) tours.start({ groupId: g.id, name: g.name, cameraIds: g.cameraIds, intervalS: p.tour.intervalS });
    else tours.stop();
  };

  const toggleFavourite = useCallback(async (id: string) => {
    const on = favourites.has(id);
    try {
      if (on) await wallApi.removeFavourite(id); else await wallApi.addFavourite(id);
      setFavourites((s) => { const x = new Set(s); if (on) x.delete(id); else x.add(id); return x; });
    } catch (e) { setError(e instanceof ApiError ? e.message : String(e)); }
  }, [favourites]);

  const fullscreenWall = () => { void wallRef.current?.requestFullscreen?.().catch(() => {}); };
  const fullscreenTile = () => { void (document.querySelector(`[data-testid="tile"][data-index="${wall.selected}"]`) as HTMLElement | null)?.requestFullscreen?.().catch(() => {}); };
  useWallKeys(wall, dispatch, {
    fullscreenWall, fullscreenTile, toggleTour: tours.toggle, ack: () => dispatch({ type: 'ack' }), toggleMap: () => setShowMap((x) => !x),
    search: () => searchRef.current?.focus(), help: () => setHelp((x) => !x),
  });

  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!tour || tour.paused) return;
    const t = window.setInterval(() => setNow(Date.now()), 500);
    return () => window.clearInterval(t);
  }, [tour]);

  // decision 6: a big wall over HTTP/1.1 starves on the browser's 6 connections per host; say so
  const [http1] = useState(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)?.nextHopProtocol === 'http/1.1');
  const onWall = useMemo(() => new Set(wall.tiles.slice(0, n).filter((x): x is string => !!x)), [wall.tiles, n]);
  const copyLink = () => { void navigator.clipboard?.writeText(`${location.origin}/wall?${linkQuery}`).catch(() => {}); };

  if (error && !tree) return <div className="page"><Notice kind="error" title="视频墙不可用 Wall unavailable">{error}</Notice></div>;

  return (
    <div ref={pageRef} className="wall-page" data-testid="wall-page" data-live-budget={liveBudget} data-tour-step={tour?.step ?? ''} data-tour-paused={tour ? String(tour.paused) : ''}>
      {tree ? (
        <CameraTree cameras={tree.cameras} byId={byId} districts={tree.districts} groups={groups} favourites={favourites} store={store} searchRef={searchRef}
          onPick={pick} onPickMany={pickMany} onToggleFavourite={(id) => void toggleFavourite(id)}
          onStartTour={(g) => tours.start({ groupId: g.id, name: g.name, cameraIds: g.cameraIds, intervalS: g.tourIntervalS })}
          onDeleteGroup={(g) => { if (window.confirm(`删除分组 Delete group “${g.name}”?`)) void wallApi.deleteGroup(g.id).then(loadLists, (e) => setError(String(e))); }} />
      ) : <aside className="camera-tree"><div className="loading-line" /></aside>}
      <section className="wall-main">
        <div className="wall-bar" role="toolbar" aria-label="视频墙工具栏 Wall toolbar">
          <div className="seg" role="group" aria-label="布局 Layout">
            {LAYOUTS.map((l) => (
              <button key={l} type="button" className={`btn btn-small${wall.layout === l ? ' btn-primary' : ''}`} aria-pressed={wall.layout === l}
                onClick={() => dispatch({ type: 'layout', layout: l })} title={KEY_OF_LAYOUT[l] ? `${l} (${KEY_OF_LAYOUT[l]})` : l} data-testid={`layout-${l}`}>{l}</button>
            ))}
          </div>
          <label className="small muted" title="全帧率播放的窗口数上限；本机解码能力决定实际数量，其余降帧（关键帧）或静帧 The most tiles at full frame rate; what this PC can decode decides how many get it, the others play keyframes only or stills">
            全帧 full ≤ <input type="number" min={1} max={MAX_TILES} value={liveBudget} className="num-input" data-testid="live-budget"
              onChange={(e) => { const v = Math.max(1, Math.min(MAX_TILES, Number(e.target.value) || 1)); setBudget(v); localStorage.setItem(BUDGET_KEY, String(v)); }} />
          </label>
          {tour ? (
            <span className="tour-ctl" data-testid="tour-ctl">
              <Icon name="tour" /> {tour.name} · {tour.step + 1}
              {tour.paused ? ' · 已暂停 paused' : ` · ${Math.max(0, Math.ceil(((tour.nextAt ?? now) - now) / 1000))} s`}
              <button type="button" className="btn btn-small" onClick={tours.toggle} data-testid="tour-toggle" title="Space">{tour.paused ? <><Icon name="play" /> 继续 Resume</> : <><Icon name="pause" /> 暂停 Pause</>}</button>
              <button type="button" className="btn btn-small btn-ghost" onClick={tours.stop} title="停止轮巡 Stop the tour"><Icon name="close" /></button>
            </span>
          ) : null}
          {wall.alarms.length ? (
            <span className="alarm-ctl" role="alert" data-testid="alarm-count">
              <Icon name="warning" /> {wall.alarms.length}
              <button type="button" className="btn btn-small" onClick={() => dispatch({ type: 'ack', all: true })}>全部确认 Ack all</button>
            </span>
          ) : null}
          {http1 && counts.full + counts.reduced > 4 ? (
            <span className="small warn-text" data-testid="http1-warning" title="浏览器对 HTTP/1.1 每个主机只开 6 个连接，低延迟直播会互相阻塞。Browsers open 6 HTTP/1.1 connections per host; LL-HLS tiles starve each other. Use the HTTPS port (HTTP/2).">
              <Icon name="warning" /> HTTP/1.1：大屏请用 HTTPS（HTTP/2）
            </span>
          ) : null}
          <span className="spacer" />
          <span className="small muted tabular" data-testid="wall-summary" title="全帧 full frame rate · 降帧 keyframes only (≈ 1 fps) · 静帧 snapshots">{counts.full} 全帧 full · {counts.reduced} 降帧 reduced · {counts.still} 静帧 still</span>
          <PresetMenu presets={presets} tourRunning={!!tour}
            onLoad={loadPreset}
            onSave={async (name, shared) => {
              await wallApi.createPreset({ name, shared, layout: wall.layout, cameras: wall.tiles.slice(0, n), tour: tour ? { groupId: tour.groupId, intervalS: tour.intervalS } : null });
              await loadLists();
            }}
            onOverwrite={async (p) => {
              await wallApi.updatePreset(p.id, { layout: wall.layout, cameras: wall.tiles.slice(0, n), tour: tour ? { groupId: tour.groupId, intervalS: tour.intervalS } : null });
              await loadLists();
            }}
            onDelete={async (p) => { await wallApi.deletePreset(p.id); await loadLists(); }}
            onSaveGroup={async (name, intervalS, shared) => {
              const g = await wallApi.createGroup({ name, cameraIds: [...onWall], tourIntervalS: intervalS, shared });
              await loadLists();
              return g;
            }} />
          <button type="button" className={`btn btn-small${showMap ? ' btn-primary' : ''}`} onClick={() => setShowMap((x) => !x)} title="地图 Map (m)" data-testid="map-toggle">地图 Map</button>
          <button type="button" className="btn btn-small" onClick={copyLink} title="复制墙链接 Copy a link to this wall">🔗</button>
          <button type="button" className="btn btn-small" onClick={fullscreenWall} title="全屏 Fullscreen (f)"><Icon name="fullscreen" /></button>
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setHelp((x) => !x)} title="快捷键 Shortcuts (?)">?</button>
        </div>
        {error ? <Notice kind="error">{error}</Notice> : null}
        <div className={`wall-area${showMap ? ' with-map' : ''}`}>
          {showMap && tree ? <MapView cameras={tree.cameras} store={store} tileUrl={config?.mapTileUrl ?? null} onPick={pick} onWall={onWall} /> : null}
          <WallGrid ref={wallRef} layout={wall.layout} tiles={wall.tiles} cameras={byId} rates={rates} board={board} selected={wall.selected} focused={wall.focused}
            alarmTile={wall.alarmTile} alarm={alarm} snapshotEveryMs={5000}
            onSelect={onSelect} onToggleFocus={onToggleFocus} onDropCamera={onDropCamera} onSwap={onSwap} onClear={onClear} onAck={onAck} onSetAlarmTile={onSetAlarmTile} />
        </div>
        {help ? (
          <div className="help-panel" role="dialog" aria-label="快捷键 Shortcuts" onClick={() => setHelp(false)}>
            <table><tbody>{SHORTCUTS.map(([k, d]) => <tr key={k}><td><kbd>{k}</kbd></td><td>{d}</td></tr>)}</tbody></table>
          </div>
        ) : null}
      </section>
    </div>
  );
}
