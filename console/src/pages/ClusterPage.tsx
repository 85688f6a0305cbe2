import { useEffect, useState } from 'react';
import { request } from '../api';
import { fmtTime } from '../lib/format';
import { Notice } from '../components/Notice';
import type { Page } from '../types';

/**
 * 集群节点: every StreetEye process against this database (role, capacity, the cameras it really pulls, last
 * heartbeat). Refreshes every 5 s; a node that missed its heartbeats for 20 s shows as offline (its cameras move to
 * the survivors when their leases expire), and is forgotten a day after its last heartbeat.
 */
interface ClusterNode {
  id: string; role: string; address: string | null; capacity: number; version: string | null;
  startedAt: string; heartbeatAt: string; alive: boolean; leasedCameras: { ingest: number; analytics: number };
  /** cameras the node pulls now (its sessions); names of those this user may see */
  pulledCount: number; pulledCameras: Array<{ id: string; name: string }>;
}
const SHOW_NAMES = 6;
const ROLE: Record<string, string> = { all: '单机 all-in-one', api: '接口 API', ingest: '接入 ingest', analytics: '分析 analytics' };

export default function ClusterPage() {
  const [data, setData] = useState<Page<ClusterNode> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    const load = () => request<Page<ClusterNode>>('/api/cluster/nodes')
      .then((p) => { if (!stop) { setData(p); setError(null); } })
      .catch((err: Error) => { if (!stop) setError(err.message); });
    void load();
    const t = setInterval(() => void load(), 5000);
    return () => { stop = true; clearInterval(t); };
  }, []);
  const alive = data?.items.filter((n) => n.alive) ?? [];
  const pulled = alive.reduce((s, n) => s + n.pulledCount, 0);
  const down = (data?.items.length ?? 0) - alive.length;
  return (
    <div className="page" data-testid="cluster-page">
      <div className="page-head">
        <h1>集群节点 <span className="en">Cluster nodes</span></h1>
      </div>
      {error ? <Notice kind="error">{error}</Notice> : null}
      <p className="muted" data-testid="cluster-summary">
        在线节点 {alive.length} nodes up · 拉流摄像机 {pulled} cameras pulled
        {down ? ` · 离线 ${down} offline（最后心跳超过一天的节点不再列出 nodes silent for a day are forgotten）` : ''}
      </p>
      <table className="grid-table" data-testid="cluster-nodes">
        <thead>
          <tr><th>节点 Node</th><th>角色 Role</th><th>地址 Address</th><th className="num">容量 Capacity</th><th className="num">拉流 Pulled</th><th>摄像机 Cameras</th><th>心跳 Heartbeat</th><th>状态 State</th></tr>
        </thead>
        <tbody>
          {data?.items.length === 0 ? <tr><td colSpan={8} className="empty">没有节点 No nodes</td></tr> : null}
          {data?.items.map((n) => (
            <tr key={n.id} data-testid="cluster-node" data-node={n.id} data-alive={String(n.alive)}>
              <td className="mono">{n.id}</td>
              <td>{ROLE[n.role] ?? n.role}</td>
              <td className="mono">{n.address ?? ''}</td>
              <td className="num tabular">{n.role === 'ingest' || n.role === 'analytics' ? n.capacity : '—'}</td>
              <td className="num tabular" data-testid="pulled-count">{n.alive ? n.pulledCount : '—'}</td>
              <td className="small cell-wrap" data-testid="pulled-cameras">
                {n.alive ? n.pulledCameras.slice(0, SHOW_NAMES).map((c) => c.name).join('、') || <span className="muted">无 none</span> : <span className="muted">—</span>}
                {n.alive && n.pulledCount > SHOW_NAMES ? <span className="muted"> 等 {n.pulledCount} 路 and {n.pulledCount - SHOW_NAMES} more</span> : null}
              </td>
              <td className="tabular">{fmtTime(n.heartbeatAt)}</td>
              <td><span className={n.alive ? 'badge badge-ok' : 'badge badge-err'}>{n.alive ? '在线 up' : '离线 offline'}</span></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
