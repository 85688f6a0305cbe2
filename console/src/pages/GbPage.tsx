import { useCallback, useEffect, useState } from 'react';
import { request } from '../api';
import { fmtTime } from '../lib/format';
import { Notice } from '../components/Notice';
import type { Page } from '../types';

/**
 * 国标接入 GB/T 28181: the devices and lower platforms that register to StreetEye, and the approval of their
 * channels into the inventory. A platform may offer thousands of channels: only the ones a technician ticks here
 * become cameras (one transaction); the police then choose their sharing on the Sharing page as for any camera.
 */
interface GbDevice {
  deviceId: string; name: string | null; online: boolean; statusReason: string | null; transport: string | null; address: string | null;
  edition: string | null; manufacturer: string | null; model: string | null; lastKeepaliveAt: string | null; catalogSum: number | null;
  catalogAt: string | null; catalogError: string | null; channels: number; approved: number; hasPassword: boolean;
}
interface GbChannel {
  deviceId: string; channelId: string; kind: string; name: string | null; civilCode: string | null; address: string | null;
  status: string | null; ptzType: number | null; cameraId: string | null;
}
interface GbStatus { serverId: string; realm: string; sipPort: number; advertiseHost: string; online: number; registered: number; enabled: boolean }

const PTZ: Record<number, string> = { 1: '球机 dome', 2: '半球 half-dome', 3: '枪机 fixed', 4: '遥控枪机 remote fixed' };

export default function GbPage() {
  const [status, setStatus] = useState<GbStatus | null>(null);
  const [devices, setDevices] = useState<GbDevice[]>([]);
  const [device, setDevice] = useState<string | null>(null);
  const [channels, setChannels] = useState<Page<GbChannel> | null>(null);
  const [q, setQ] = useState('');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [sharing, setSharing] = useState<'restricted' | 'shared'>('restricted');
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [form, setForm] = useState({ deviceId: '', name: '', password: '' });

  const loadDevices = useCallback(() => Promise.all([
    request<GbStatus>('/api/gb28181/status').then(setStatus),
    request<Page<GbDevice>>('/api/gb28181/devices').then((p) => setDevices(p.items)),
  ]).then(() => setError(null), (err: Error) => setError(err.message)), []);

  const loadChannels = useCallback(() => {
    if (!device) return;
    request<Page<GbChannel>>('/api/gb28181/channels', { query: { deviceId: device, kind: 'camera', q: q || undefined, limit: 500 } })
      .then(setChannels, (err: Error) => setError(err.message));
  }, [device, q]);

  useEffect(() => {
    void loadDevices();
    const t = setInterval(() => void loadDevices(), 5000);
    return () => clearInterval(t);
  }, [loadDevices]);
  useEffect(() => { setPicked(new Set()); loadChannels(); }, [loadChannels]);

  const approve = async () => {
    if (!device || !picked.size) return;
    setBusy(true);
    try {
      const r = await request<{ created: number; linked: number }>('/api/gb28181/channels/approve', { method: 'POST', json: { deviceId: device, channelIds: [...picked], sharing } });
      setMessage(`已入库 ${r.created} 个，关联已有 ${r.linked} 个 · ${r.created} added to the inventory, ${r.linked} linked to existing cameras`);
      setPicked(new Set());
      loadChannels();
      void loadDevices();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const refreshCatalog = async (id: string) => {
    setBusy(true);
    try {
      const r = await request<{ total: number; removed: number }>(`/api/gb28181/devices/${id}/catalog`, { method: 'POST' });
      setMessage(`目录已更新：${r.total} 项 · catalog updated: ${r.total} items (${r.removed} removed)`);
      void loadDevices();
      loadChannels();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const expect = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      await request(`/api/gb28181/devices/${encodeURIComponent(form.deviceId.trim())}`, { method: 'PUT', json: { name: form.name || undefined, password: form.password || undefined } });
      setForm({ deviceId: '', name: '', password: '' });
      setMessage('设备已登记，等待其注册 · device expected; waiting for it to register');
      void loadDevices();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const pending = channels?.items.filter((c) => !c.cameraId) ?? [];
  return (
    <div className="page" data-testid="gb-page">
      <div className="page-head">
        <h1>国标接入 <span className="en">GB/T 28181</span></h1>
      </div>
      {status ? (
        <p className="muted" data-testid="gb-status">
          平台编码 Server ID <span className="mono">{status.serverId}</span> · 域 realm <span className="mono">{status.realm}</span> · SIP {status.advertiseHost}:{status.sipPort} (UDP/TCP) ·
          在线 {status.online} online / 注册 {status.registered} registered{status.enabled ? '' : ' · 未启用 SIP server disabled on this node'}
        </p>
      ) : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      {message ? <Notice kind="info">{message}</Notice> : null}

      <form className="inline-form" onSubmit={expect} data-testid="gb-expect">
        <input placeholder="设备编码 20-digit device ID" value={form.deviceId} onChange={(e) => setForm({ ...form, deviceId: e.target.value })} pattern="[0-9]{20}" required />
        <input placeholder="名称 Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        <input type="password" placeholder="密码 Password (空 = 平台统一密码)" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} autoComplete="new-password" />
        <button type="submit">登记设备 Expect device</button>
      </form>

      <table className="grid-table" data-testid="gb-devices">
        <thead>
          <tr><th>设备 Device</th><th>名称 Name</th><th>状态 State</th><th>版本 Edition</th><th>地址 Address</th><th>心跳 Keepalive</th><th className="num">通道 Channels</th><th className="num">已入库 Approved</th><th /></tr>
        </thead>
        <tbody>
          {devices.length === 0 ? <tr><td colSpan={9} className="empty">还没有设备。登记一个设备，或设置 GB28181_ACCEPT_NEW。No devices yet.</td></tr> : null}
          {devices.map((d) => (
            <tr key={d.deviceId} data-testid="gb-device" className={d.deviceId === device ? 'selected' : undefined} onClick={() => setDevice(d.deviceId)}>
              <td className="mono">{d.deviceId}</td>
              <td>{d.name ?? d.model ?? ''}</td>
              <td>
                <span className={d.online ? 'badge badge-ok' : 'badge badge-err'} title={d.statusReason ?? undefined}>{d.online ? '在线 online' : '离线 offline'}</span>
                {d.catalogError ? <div className="muted" title={d.catalogError}>目录未导入 catalog not imported</div> : null}
              </td>
              <td>{d.edition ?? '—'}</td>
              <td className="mono">{d.address ? `${d.transport}://${d.address}` : '—'}</td>
              <td className="tabular">{fmtTime(d.lastKeepaliveAt)}</td>
              <td className="num tabular">{d.channels}</td>
              <td className="num tabular">{d.approved}</td>
              <td><button type="button" disabled={busy || !d.online} onClick={(e) => { e.stopPropagation(); void refreshCatalog(d.deviceId); }}>查询目录 Query catalog</button></td>
            </tr>
          ))}
        </tbody>
      </table>

      {device ? (
        <section data-testid="gb-channels">
          <h2>待审批通道 <span className="en">Channels awaiting approval</span> — <span className="mono">{device}</span></h2>
          <div className="inline-form">
            <input placeholder="搜索名称或编码 Search name or ID" value={q} onChange={(e) => setQ(e.target.value)} />
            <label>共享 Sharing{' '}
              <select value={sharing} onChange={(e) => setSharing(e.target.value as 'restricted' | 'shared')}>
                <option value="restricted">限制 restricted (police decide)</option>
                <option value="shared">共享 shared</option>
              </select>
            </label>
            <button type="button" onClick={() => setPicked(new Set(pending.map((c) => c.channelId)))} disabled={!pending.length}>全选 Select all ({pending.length})</button>
            <button type="button" onClick={() => void approve()} disabled={busy || !picked.size} data-testid="gb-approve">批准入库 Approve {picked.size}</button>
          </div>
          <p className="muted">显示 {channels?.items.length ?? 0} / {channels?.total ?? 0} 个视频通道 video channels shown</p>
          <table className="grid-table">
            <thead><tr><th /><th>通道编码 Channel ID</th><th>名称 Name</th><th>行政区划 Civil code</th><th>类型 PTZ</th><th>状态 Status</th><th>入库 In inventory</th></tr></thead>
            <tbody>
              {channels?.items.map((c) => (
                <tr key={c.channelId} data-testid="gb-channel">
                  <td>{c.cameraId ? null : <input type="checkbox" checked={picked.has(c.channelId)} onChange={(e) => { const n = new Set(picked); if (e.target.checked) n.add(c.channelId); else n.delete(c.channelId); setPicked(n); }} />}</td>
                  <td className="mono">{c.channelId}</td>
                  <td>{c.name ?? ''}</td>
                  <td className="mono">{c.civilCode ?? ''}</td>
                  <td>{c.ptzType ? PTZ[c.ptzType] ?? c.ptzType : '—'}</td>
                  <td>{c.status ?? '—'}</td>
                  <td>{c.cameraId ? <a href={`/cameras/${c.cameraId}`}>已入库 approved</a> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : <p className="muted">选择一个设备以审批其通道 · Pick a device to approve its channels.</p>}
    </div>
  );
}
