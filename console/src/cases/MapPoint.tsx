import { Link } from 'react-router';

/**
 * The case's map point without external tiles (the console runs on a closed network): a 1 km square around the
 * point with a 100 m grid, the pin, the coordinates, and a link to the camera on the wall.
 */
export function MapPoint({ lat, lng, label, cameraId }: { lat: number; lng: number; label: string; cameraId: string | null }) {
  const lines = Array.from({ length: 11 }, (_, i) => i * 40);
  return (
    <figure style={{ margin: '8px 0 0' }} data-testid="map-point">
      <svg className="case-map" viewBox="0 0 400 180" role="img" aria-label={`地图位置 map point ${lat.toFixed(5)}, ${lng.toFixed(5)}`}>
        {lines.map((x) => <line key={`v${x}`} x1={x} y1={0} x2={x} y2={180} stroke="#1d2a38" />)}
        {lines.slice(0, 5).map((y) => <line key={`h${y}`} x1={0} y1={y + 10} x2={400} y2={y + 10} stroke="#1d2a38" />)}
        <circle cx={200} cy={90} r={26} fill="rgba(59,140,255,0.15)" stroke="#3b8cff" />
        <path d="M200 90 l-8 -20 a9 9 0 1 1 16 0 z" fill="#f05a4f" stroke="#fff" strokeWidth={1} />
        <circle cx={200} cy={62} r={3} fill="#fff" />
        <text x={8} y={170} fill="#8494a6" fontSize={11}>{lat.toFixed(5)}, {lng.toFixed(5)} · 格 grid 100 m</text>
        <text x={214} y={96} fill="#d5dde6" fontSize={12}>{label.slice(0, 24)}</text>
      </svg>
      {cameraId ? <figcaption className="small"><Link to={`/wall?cameras=${cameraId}`}>在视频墙查看该点位 Open the camera on the wall</Link></figcaption> : null}
    </figure>
  );
}
