import { memo, useMemo, useState, type DragEvent, type KeyboardEvent, type ReactNode } from 'react';
import { CAMERA_MIME } from './Tile';
import { dotClass, useCameraStatus, useOnlineCount, type StatusStore } from './status-store';
import type { CameraGroup, DistrictNode, TreeCamera } from './types';
import { Icon } from '../components/Icon';

type Tab = 'area' | 'owner' | 'groups' | 'favourites';
const TABS: Array<[Tab, string]> = [['area', '区域 Area'], ['owner', '权属 Owner'], ['groups', '分组 Groups'], ['favourites', '收藏 Fav.']];
const NONE = '（未填 none）';

export interface CameraTreeProps {
  cameras: TreeCamera[];
  byId: Map<string, TreeCamera>;
  districts: DistrictNode[];
  groups: CameraGroup[];
  favourites: Set<string>;
  store: StatusStore;
  searchRef: { current: HTMLInputElement | null };
  /** put one camera on the selected tile */
  onPick(cameraId: string): void;
  /** put a set of cameras on the wall (a community, a group) */
  onPickMany(cameraIds: string[]): void;
  onToggleFavourite(cameraId: string): void;
  onStartTour(group: CameraGroup): void;
  onDeleteGroup(group: CameraGroup): void;
}

/** Camera tree by district → street → community, by owner, by saved group, and favourites; search; drag onto tiles. */
export function CameraTree(p: CameraTreeProps) {
  const [tab, setTab] = useState<Tab>('area');
  const [q, setQ] = useState('');
  const [open, setOpen] = useState<Set<string>>(() => new Set());
  const toggle = (k: string) => setOpen((s) => { const n = new Set(s); if (n.has(k)) n.delete(k); else n.add(k); return n; });

  const query = q.trim().toLowerCase();
  const matches = useMemo(() => {
    if (!query) return null;
    return p.cameras.filter((c) => [c.name, c.district, c.street, c.community, c.owner, c.gridCode].some((v) => v?.toLowerCase().includes(query))).slice(0, 300);
  }, [p.cameras, query]);

  const owners = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const c of p.cameras) { const k = c.owner ?? NONE; m.set(k, [...(m.get(k) ?? []), c.id]); }
    return [...m.entries()].sort((a, b) => a[0].localeCompare(b[0], 'zh'));
  }, [p.cameras]);

  const cam = (id: string) => {
    const c = p.byId.get(id);
    return c ? <CameraRow key={id} camera={c} store={p.store} fav={p.favourites.has(id)} onPick={p.onPick} onToggleFavourite={p.onToggleFavourite} /> : null;
  };

  let body: ReactNode;
  if (matches) {
    body = matches.length ? <ul role="group">{matches.map((c) => cam(c.id))}</ul> : <p className="muted tree-empty">无匹配 No match</p>;
  } else if (tab === 'area') {
    body = p.districts.map((d) => {
      const dk = `d:${d.name}`;
      return (
        <Branch key={dk} label={d.name ?? NONE} count={d.count} online={<Online store={p.store} ids={d.streets.flatMap((s) => s.communities.flatMap((c) => c.cameraIds))} byId={p.byId} />} open={open.has(dk)} onToggle={() => toggle(dk)}
          onPickAll={() => p.onPickMany(d.streets.flatMap((s) => s.communities.flatMap((c) => c.cameraIds)))}>
          {d.streets.map((s) => {
            const sk = `${dk}/s:${s.name}`;
            return (
              <Branch key={sk} label={s.name ?? NONE} count={s.count} online={<Online store={p.store} ids={s.communities.flatMap((c) => c.cameraIds)} byId={p.byId} />} open={open.has(sk)} onToggle={() => toggle(sk)}
                onPickAll={() => p.onPickMany(s.communities.flatMap((c) => c.cameraIds))}>
                {s.communities.map((c) => {
                  const ck = `${sk}/c:${c.name}`;
                  return (
                    <Branch key={ck} label={c.name ?? NONE} count={c.count} online={<Online store={p.store} ids={c.cameraIds} byId={p.byId} />} open={open.has(ck)} onToggle={() => toggle(ck)} onPickAll={() => p.onPickMany(c.cameraIds)}>
                      {c.cameraIds.map(cam)}
                    </Branch>
                  );
                })}
              </Branch>
            );
          })}
        </Branch>
      );
    });
  } else if (tab === 'owner') {
    body = owners.map(([owner, ids]) => (
      <Branch key={owner} label={owner} count={ids.length} online={<Online store={p.store} ids={ids} byId={p.byId} />} open={open.has(`o:${owner}`)} onToggle={() => toggle(`o:${owner}`)} onPickAll={() => p.onPickMany(ids)}>
        {ids.map(cam)}
      </Branch>
    ));
  } else if (tab === 'groups') {
    body = p.groups.length ? p.groups.map((g) => (
      <Branch key={g.id} label={`${g.name}${g.shared ? ' · 共享 shared' : ''}`} count={g.cameraIds.length} open={open.has(`g:${g.id}`)} onToggle={() => toggle(`g:${g.id}`)}
        onPickAll={() => p.onPickMany(g.cameraIds)}
        extra={<>
          <button type="button" className="btn btn-small" title={`轮巡 Tour every ${g.tourIntervalS} s`} data-testid="group-tour" onClick={() => p.onStartTour(g)}><Icon name="play" /> {g.tourIntervalS}s</button>
          {g.mine ? <button type="button" className="btn btn-small btn-ghost" title="删除分组 Delete group" onClick={() => p.onDeleteGroup(g)}><Icon name="close" /></button> : null}
        </>}>
        {g.cameraIds.map(cam)}
      </Branch>
    )) : <p className="muted tree-empty">还没有分组。Save the wall's cameras as a group from 预案 Presets.</p>;
  } else {
    const favs = p.cameras.filter((c) => p.favourites.has(c.id));
    body = favs.length ? <ul role="group">{favs.map((c) => cam(c.id))}</ul> : <p className="muted tree-empty"><Icon name="star" /> 点星标收藏点位。Star a camera to keep it here.</p>;
  }

  return (
    <aside className="camera-tree" aria-label="点位树 Camera tree" data-testid="camera-tree">
      <input ref={(el) => { p.searchRef.current = el; }} type="search" className="tree-search" placeholder="搜索点位 Search cameras (/)" aria-label="搜索点位 Search cameras"
        value={q} onChange={(e) => setQ(e.target.value)} onKeyDown={(e) => { if (e.key === 'Escape') { setQ(''); e.currentTarget.blur(); } }} />
      <div className="tree-tabs" role="tablist">
        {TABS.map(([k, label]) => (
          <button key={k} type="button" role="tab" aria-selected={tab === k} className={`tree-tab${tab === k ? ' active' : ''}`} onClick={() => setTab(k)} data-testid={`tree-tab-${k}`}>{label}</button>
        ))}
      </div>
      <div className="tree-body" role="tree">{body}</div>
      <div className="tree-foot muted small">共 {p.cameras.length} 个点位 · 拖到窗口或双击 drag onto a tile or double-click</div>
    </aside>
  );
}

function Online({ store, ids, byId }: { store: StatusStore; ids: string[]; byId: Map<string, TreeCamera> }) {
  const n = useOnlineCount(store, ids, (id) => byId.get(id)?.status);
  return <>{n}/</>;
}

function Branch({ label, count, online, open, onToggle, onPickAll, extra, children }: {
  label: string; count: number; online?: ReactNode; open: boolean; onToggle(): void; onPickAll(): void; extra?: ReactNode; children: ReactNode;
}) {
  return (
    <div className="branch" role="treeitem" aria-expanded={open}>
      <div className="branch-row" onDoubleClick={onPickAll} title="双击上墙 Double-click: put these cameras on the wall">
        <button type="button" className="twisty" onClick={onToggle} aria-label={open ? '收起 Collapse' : '展开 Expand'}>{open ? '▾' : '▸'}</button>
        <span className="branch-label" onClick={onToggle}>{label}</span>
        <span className="branch-count muted tabular" title="在线/总数 online/total">{online}{count}</span>
        {extra}
      </div>
      {open ? <div className="branch-children" role="group">{children}</div> : null}
    </div>
  );
}

const CameraRow = memo(function CameraRow({ camera, store, fav, onPick, onToggleFavourite }: {
  camera: TreeCamera; store: StatusStore; fav: boolean; onPick(id: string): void; onToggleFavourite(id: string): void;
}) {
  const status = useCameraStatus(store, camera.id, camera.status);
  const onDragStart = (e: DragEvent) => {
    e.dataTransfer.setData(CAMERA_MIME, camera.id);
    e.dataTransfer.setData('text/plain', camera.name);
    e.dataTransfer.effectAllowed = 'copy';
  };
  // Enter puts the camera on the selected tile; it must not also reach the wall's Enter (focus) shortcut
  const onKey = (e: KeyboardEvent) => { if (e.key === 'Enter') { e.preventDefault(); e.stopPropagation(); onPick(camera.id); } };
  return (
    <div className="cam-row" role="treeitem" tabIndex={0} draggable onDragStart={onDragStart} onDoubleClick={() => onPick(camera.id)} onKeyDown={onKey}
      data-testid="tree-camera" data-camera={camera.id} data-status={status} title={`${camera.name} · ${status}${store.reason(camera.id) ? ` · ${store.reason(camera.id)}` : ''}`}>
      <span className={`status-dot dot-${dotClass(status)}`} aria-label={status} />
      <span className="cam-name">{camera.name}</span>
      <button type="button" className={`fav${fav ? ' on' : ''}`} aria-pressed={fav} title={fav ? '取消收藏 Unfavourite' : '收藏 Favourite'}
        onClick={(e) => { e.stopPropagation(); onToggleFavourite(camera.id); }} data-testid="fav-toggle"><Icon name={fav ? 'star-filled' : 'star'} /></button>
    </div>
  );
});
