import { memo, useMemo, useState } from 'react';
import { dotClass, useCameraStatus, type StatusStore } from './status-store';
import type { TreeCamera } from './types';

/** Web Mercator world pixels at zoom 0 (256 px world). */
function project(lat: number, lng: number): { x: number; y: number } {
  const s = Math.sin((Math.max(-85, Math.min(85, lat)) * Math.PI) / 180);
  return { x: ((lng + 180) / 360) * 256, y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256 };
}

function hull(points: Array<{ x: number; y: number }>): Array<{ x: number; y: number }> {
  const pts = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (pts.length < 3) return pts;
  const cross = (o: { x: number; y: number }, a: { x: number; y: number }, b: { x: number; y: number }) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const lower: typeof pts = [];
  for (const p of pts) { while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop(); lower.push(p); }
  const upper: typeof pts = [];
  for (const p of pts.slice().reverse()) { while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop(); upper.push(p); }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

const W = 1000;
const H = 640;
const PALETTE = ['#3b8cff', '#35b45a', '#e0a526', '#b37bff', '#f05a4f', '#4fc3d9', '#d97ab8', '#9bbf3a'];

/**
 * Cameras on a map with their status. Offline by default: district areas (the hull of their cameras) and
 * grid cells are drawn from the inventory, no external tiles. With MAP_TILE_URL configured, raster tiles
 * ({z}/{x}/{y}, Web Mercator) are drawn underneath.
 */
export function MapView({ cameras, store, tileUrl, onPick, onWall }: {
  cameras: TreeCamera[]; store: StatusStore; tileUrl: string | null; onPick(id: string): void; onWall: Set<string>;
}) {
  const [zoomIn, setZoomIn] = useState(0);
  const placed = useMemo(() => cameras.filter((c) => c.lat !== null && c.lng !== null).map((c) => ({ c, ...project(c.lat!, c.lng!) })), [cameras]);
  const view = useMemo(() => {
    if (!placed.length) return null;
    const xs = placed.map((p) => p.x);
    const ys = placed.map((p) => p.y);
    const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
    const spanX = Math.max(maxX - minX, 1e-5), spanY = Math.max(maxY - minY, 1e-5);
    // integer zoom so that raster tiles are drawn at their own size; pad 15%
    let z = Math.floor(Math.log2(Math.min(W / (spanX * 1.3), H / (spanY * 1.3))));
    z = Math.max(1, Math.min(19, z + zoomIn));
    const scale = 2 ** z;
    const cx = ((minX + maxX) / 2) * scale, cy = ((minY + maxY) / 2) * scale;
    return { z, scale, x0: cx - W / 2, y0: cy - H / 2 };
  }, [placed, zoomIn]);

  const areas = useMemo(() => {
    if (!view) return [];
    const by = new Map<string, Array<{ x: number; y: number }>>();
    for (const p of placed) {
      const k = p.c.district ?? '';
      if (!k) continue;
      by.set(k, [...(by.get(k) ?? []), { x: p.x * view.scale - view.x0, y: p.y * view.scale - view.y0 }]);
    }
    return [...by.entries()].map(([name, pts], i) => {
      const h = hull(pts);
      const cx = pts.reduce((a, p) => a + p.x, 0) / pts.length, cy = pts.reduce((a, p) => a + p.y, 0) / pts.length;
      // grow the hull a little so single cameras and lines still show an area
      const grown = h.map((p) => { const dx = p.x - cx, dy = p.y - cy, d = Math.hypot(dx, dy) || 1; return { x: p.x + (dx / d) * 24, y: p.y + (dy / d) * 24 }; });
      return { name, color: PALETTE[i % PALETTE.length], pts: grown, cx, cy, single: h.length < 3 };
    });
  }, [placed, view]);

  const grids = useMemo(() => {
    if (!view) return [];
    const by = new Map<string, Array<{ x: number; y: number }>>();
    for (const p of placed) if (p.c.gridCode) by.set(p.c.gridCode, [...(by.get(p.c.gridCode) ?? []), { x: p.x * view.scale - view.x0, y: p.y * view.scale - view.y0 }]);
    return [...by.entries()].map(([code, pts]) => {
      const xs = pts.map((p) => p.x), ys = pts.map((p) => p.y);
      return { code, x: Math.min(...xs) - 14, y: Math.min(...ys) - 14, w: Math.max(...xs) - Math.min(...xs) + 28, h: Math.max(...ys) - Math.min(...ys) + 28 };
    });
  }, [placed, view]);

  const tiles = useMemo(() => {
    if (!view || !tileUrl) return [];
    const out: Array<{ key: string; href: string; x: number; y: number }> = [];
    const n = 2 ** view.z;
    for (let tx = Math.floor(view.x0 / 256); tx <= Math.floor((view.x0 + W) / 256); tx++) {
      for (let ty = Math.floor(view.y0 / 256); ty <= Math.floor((view.y0 + H) / 256); ty++) {
        if (ty < 0 || ty >= n) continue;
        const wx = ((tx % n) + n) % n;
        const href = tileUrl.replace('{z}', String(view.z)).replace('{x}', String(wx)).replace('{y}', String(ty)).replace('{s}', 'a');
        out.push({ key: `${tx}/${ty}`, href, x: tx * 256 - view.x0, y: ty * 256 - view.y0 });
      }
    }
    return out;
  }, [view, tileUrl]);

  const unplaced = cameras.length - placed.length;
  return (
    <div className="map-view" data-testid="map-view">
      <div className="map-bar">
        <button type="button" className="btn btn-small" onClick={() => setZoomIn((z) => z + 1)} title="放大 Zoom in">＋</button>
        <button type="button" className="btn btn-small" onClick={() => setZoomIn((z) => z - 1)} title="缩小 Zoom out">－</button>
        <span className="muted small">{tileUrl ? '在线底图 tiles' : '离线地图 offline map: districts, grids, cameras'}{view ? ` · z${view.z}` : ''}{unplaced ? ` · ${unplaced} 个点位无坐标 without a position` : ''}</span>
      </div>
      {view ? (
        <svg viewBox={`0 0 ${W} ${H}`} className="map-svg" role="img" aria-label="点位地图 Camera map">
          <rect x={0} y={0} width={W} height={H} className="map-bg" />
          {tiles.map((t) => <image key={t.key} href={t.href} x={t.x} y={t.y} width={256} height={256} />)}
          {areas.map((a) => (
            <g key={a.name} className="map-area">
              {a.single ? <circle cx={a.cx} cy={a.cy} r={30} fill={a.color} fillOpacity={0.08} stroke={a.color} strokeOpacity={0.5} />
                : <polygon points={a.pts.map((p) => `${p.x},${p.y}`).join(' ')} fill={a.color} fillOpacity={0.08} stroke={a.color} strokeOpacity={0.6} strokeDasharray="6 4" />}
              <text x={a.cx} y={a.cy - 30} className="map-area-label" fill={a.color}>{a.name}</text>
            </g>
          ))}
          {grids.map((g) => <rect key={g.code} x={g.x} y={g.y} width={g.w} height={g.h} className="map-grid"><title>网格 grid {g.code}</title></rect>)}
          {placed.map((p) => (
            <MapPoint key={p.c.id} camera={p.c} store={store} x={p.x * view.scale - view.x0} y={p.y * view.scale - view.y0} onWall={onWall.has(p.c.id)} onPick={onPick} />
          ))}
        </svg>
      ) : <p className="muted tree-empty">没有带坐标的点位。No camera has a position (lat/lng) yet.</p>}
    </div>
  );
}

const MapPoint = memo(function MapPoint({ camera, store, x, y, onWall, onPick }: { camera: TreeCamera; store: StatusStore; x: number; y: number; onWall: boolean; onPick(id: string): void }) {
  const status = useCameraStatus(store, camera.id, camera.status);
  return (
    <g className={`map-point dot-${dotClass(status)}${onWall ? ' on-wall' : ''}`} transform={`translate(${x},${y})`} onClick={() => onPick(camera.id)}
      data-testid="map-camera" data-camera={camera.id} data-status={status} role="button" aria-label={`${camera.name} ${status}`}>
      <circle r={onWall ? 7 : 5} />
      <title>{`${camera.name} · ${status}\n单击上墙 click: put on the selected tile`}</title>
    </g>
  );
});
