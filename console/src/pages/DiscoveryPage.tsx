import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api';
import type { Camera } from '../types';
import { fmtTime } from '../lib/format';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { useLiveMessages } from '../live';
import { fleetApi, fmtDrift, type DiscoveryProgress, type Scan, type ScanRequest, type ScanResult, type ScanSummary } from '../fleet-api';
import './fleet.css';
import { Icon } from '../components/Icon';

const STATE_LABEL: Record<string, string> = { running: '扫描中 running', done: '完成 done', failed: '失败 failed', cancelled: '已取消 cancelled' };

function defaultName(r: ScanResult): string {
  if (r.name) return r.name.slice(0, 100);
  const what = [r.manufacturer, r.model].filter(Boolean).join(' ') || 'ONVIF camera';
  return `${what} ${r.port && r.port !== 80 ? `${r.host}:${r.port}` : r.host}`.slice(0, 100);
}

/** The device service's path when it is not the standard one: devices behind one address and port (an NVR, an encoder, the simulator) differ there. */
function servicePath(xaddr: string): string | null {
  try {
    const p = new URL(xaddr).pathname;
    return p === '/onvif/device_service' ? null : p;
  } catch { return null; }
}

function resultStatus(r: ScanResult) {
  if (r.error && r.authFailed) return <span className="badge badge-warn" title={r.error}>认证失败 auth failed</span>;
  if (r.error) return <span className="badge badge-err" title={r.error}>{r.reachable ? '部分失败 partial' : '不可达 unreachable'}</span>;
  return <span className="badge badge-ok">正常 ok</span>;
}

/**
 * ONVIF discovery for technicians: scan an address range (or a host list, or multicast), watch progress live,
 * pick devices and add them to the inventory with their credentials.
 */
export default function DiscoveryPage() {
  // multicast needs nothing typed: the default scan (it also asks the WS-Discovery responders this server knows, e.g. the demo fleet)
  const [mode, setMode] = useState<'range' | 'hosts' | 'multicast'>('multicast');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [hosts, setHosts] = useState('');
  const [ports, setPorts] = useState('80, 8000, 8080');
  const [wsdPort, setWsdPort] = useState('3702');
  // credentials live in this component only: sent with the scan and the add, never stored by the browser
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [formError, setFormError] = useState<string | null>(null);
  const [scanId, setScanId] = useState<string | null>(null);
  const [scan, setScan] = useState<Scan | null>(null);
  const [progress, setProgress] = useState<DiscoveryProgress | null>(null);
  const [recent, setRecent] = useState<ScanSummary[]>([]);
  const [picked, setPicked] = useState<Record<string, { name: string }>>({});
  const [meta, setMeta] = useState({ district: '', owner: '' });
  const [addErrors, setAddErrors] = useState<Record<string, string>>({});
  const [addMessage, setAddMessage] = useState<string | null>(null);
  const [added, setAdded] = useState<Camera[] | null>(null);
  const [busy, setBusy] = useState(false);

  const loadRecent = () => { fleetApi.scans().then((p) => setRecent(p.items), () => {}); };
  useEffect(loadRecent, []);

  // the full scan when it changes state; while running, a slow poll backs up the live progress
  useEffect(() => {
    if (!scanId) return;
    let stop = false;
    let timer: number | undefined;
    const load = () => {
      fleetApi.scan(scanId).then((s) => {
        if (stop) return;
        setScan(s);
        if (s.state === 'running') timer = window.setTimeout(load, 2000);
        else loadRecent();
      }, (e: unknown) => { if (!stop) setFormError(e instanceof ApiError ? e.message : String(e)); });
    };
    load();
    return () => { stop = true; window.clearTimeout(timer); };
  }, [scanId, progress?.state]);

  useLiveMessages<DiscoveryProgress>({ topic: 'discovery.progress' }, (msg) => {
    if (msg.payload?.scanId === scanId) setProgress(msg.payload);
  });

  async function start(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    const body: ScanRequest = { mode: mode === 'multicast' ? 'multicast' : 'range' };
    if (mode !== 'multicast') {
      const portList = ports.split(/[\s,，]+/).filter(Boolean).map(Number);
      if (portList.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) { setFormError('端口须为 1-65535 的整数 Ports must be whole numbers 1-65535'); return; }
      if (portList.length) body.ports = portList;
      const w = Number(wsdPort || 0);
      if (!Number.isInteger(w) || w < 0 || w > 65535) { setFormError('WS-Discovery 端口无效 invalid WS-Discovery port'); return; }
      body.discoveryPort = w;
      if (mode === 'range') { body.from = from.trim(); body.to = to.trim(); }
      else body.hosts = hosts.split(/[\s,，;]+/).filter(Boolean);
    }
    if (username) body.username = username;
    if (password) body.password = password;
    setBusy(true);
    try {
      const { id } = await fleetApi.startScan(body);
      setScan(null); setProgress(null); setPicked({}); setAdded(null); setAddErrors({}); setAddMessage(null);
      setScanId(id);
    } catch (err) {
      setFormError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  async function cancel() {
    if (!scanId) return;
    try { setScan({ ...(scan as Scan), ...(await fleetApi.cancelScan(scanId)) }); } catch (err) { setFormError(err instanceof ApiError ? err.message : String(err)); }
  }

  async function add() {
    if (!scan) return;
    const chosen = scan.results.filter((r) => picked[r.xaddr]);
    setAddErrors({}); setAddMessage(null);
    setBusy(true);
    try {
      const res = await fleetApi.addDevices(scan.id, chosen.map((r) => ({
        xaddr: r.xaddr, name: picked[r.xaddr].name.trim() || undefined, username: username || null, password: password || null,
        district: meta.district.trim() || null, owner: meta.owner.trim() || null,
      })));
      setAdded(res.items);
      setPicked({});
      setScan(await fleetApi.scan(scan.id));
    } catch (err) {
      if (err instanceof ApiError) {
        const byXaddr: Record<string, string> = {};
        for (const [k, m] of Object.entries(err.fieldErrors)) {
          const i = Number(k.split('.')[1]);
          if (chosen[i]) byXaddr[chosen[i].xaddr] = m;
        }
        setAddErrors(byXaddr);
        setAddMessage(err.message);
      } else setAddMessage(String(err));
    } finally {
      setBusy(false);
    }
  }

  const p = progress?.progress ?? scan?.progress;
  const state = progress?.state ?? scan?.state;
  const message = progress?.message ?? scan?.message;
  const pickable = (scan?.results ?? []).filter((r) => !r.inInventory && (r.reachable || r.authFailed));
  const nPicked = Object.keys(picked).length;

  return (
    <section className="page" data-testid="discovery-page">
      <div className="page-head">
        <h1>设备发现 <span className="en">ONVIF discovery</span></h1>
        <div className="actions"><Link className="btn" to="/fleet">设备健康 Fleet health</Link></div>
      </div>

      <form className="form" onSubmit={(e) => void start(e)} autoComplete="off">
        <div className="scan-modes" role="radiogroup" aria-label="扫描方式 Mode">
          {([['range', '地址段 IPv4 range'], ['hosts', '主机列表 Host list'], ['multicast', '组播 Multicast (本网段)']] as const).map(([m, label]) => (
            <label key={m}><input type="radio" name="mode" value={m} checked={mode === m} onChange={() => setMode(m)} /> {label}</label>
          ))}
        </div>
        <div className="scan-form">
          {mode === 'range' ? (
            <>
              <Field label="起始地址" en="From">{(a) => <input {...a} value={from} onChange={(e) => setFrom(e.target.value)} placeholder="10.20.1.1" required />}</Field>
              <Field label="结束地址" en="To" hint="最多 1024 个地址 at most 1,024 addresses">{(a) => <input {...a} value={to} onChange={(e) => setTo(e.target.value)} placeholder="10.20.1.254" required />}</Field>
            </>
          ) : null}
          {mode === 'hosts' ? (
            <Field label="主机" en="Hosts" wide hint="每行一个，可带端口 one per line, host or host:port">
              {(a) => <textarea {...a} value={hosts} onChange={(e) => setHosts(e.target.value)} placeholder={'10.20.1.15\n10.20.1.16:8000'} required />}
            </Field>
          ) : null}
          {mode !== 'multicast' ? (
            <>
              <Field label="ONVIF 端口" en="HTTP ports">{(a) => <input {...a} value={ports} onChange={(e) => setPorts(e.target.value)} />}</Field>
              <Field label="WS-Discovery 端口" en="UDP (0 = off)">{(a) => <input {...a} value={wsdPort} onChange={(e) => setWsdPort(e.target.value)} inputMode="numeric" />}</Field>
            </>
          ) : null}
          <Field label="用户名" en="Username" hint="仅用于探测，不保存 used for probing only">{(a) => <input {...a} value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />}</Field>
          <Field label="密码" en="Password">{(a) => <input {...a} type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />}</Field>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy || state === 'running'}>开始扫描 Start scan</button>
            {state === 'running' ? <button type="button" className="btn btn-danger" onClick={() => void cancel()}>取消 Cancel</button> : null}
          </div>
        </div>
      </form>
      {formError ? <Notice kind="error" title="无法扫描 Cannot scan">{formError}</Notice> : null}

      {scanId && p ? (
        <div className="progress-block" data-testid="scan-progress">
          <progress value={p.done} max={Math.max(1, p.total)} />
          <span className="tabular">{p.done}/{p.total}</span>
          <span>{STATE_LABEL[state ?? 'running'] ?? state}</span>
          <span className="muted">发现 found {progress?.found ?? scan?.results.length ?? 0}</span>
        </div>
      ) : null}
      {message ? <Notice kind={state === 'failed' ? 'error' : 'warn'}>{message}</Notice> : null}

      {scan && scan.results.length ? (
        <>
          <div className="tablebar">
            <label className="check"><input type="checkbox" checked={nPicked > 0 && nPicked === pickable.length}
              onChange={(e) => setPicked(e.target.checked ? Object.fromEntries(pickable.map((r) => [r.xaddr, { name: picked[r.xaddr]?.name ?? defaultName(r) }])) : {})} /> 全选 Select all new</label>
            <span className="spacer" />
            <span className="muted">{scan.results.length} 台设备 devices{scan.results.some((r) => r.inInventory) ? ` · ${scan.results.filter((r) => r.inInventory).length} 台已在台账 already in the inventory` : ''} · {scan.targets}</span>
          </div>
          <div className="table-wrap">
            <table className="grid-table" data-testid="scan-results">
              <thead>
                <tr><th /><th>地址 Address</th><th>设备 Device</th><th>码流 Profiles</th><th>时钟 Clock</th><th>状态 Status</th><th>名称 Name (add)</th></tr>
              </thead>
              <tbody>
                {scan.results.map((r) => (
                  <tr key={r.xaddr} data-xaddr={r.xaddr} data-in-inventory={r.inInventory ? 'true' : 'false'}>
                    <td>
                      {r.inInventory ? <Link to={`/cameras/${r.inInventory}`} title="已在台账 already in the inventory" className="badge badge-ok" data-testid="in-inventory"><Icon name="check" /> 已在台账</Link> : (
                        <input type="checkbox" aria-label={`选择 ${r.xaddr}`} disabled={!(r.reachable || r.authFailed)} checked={Boolean(picked[r.xaddr])}
                          onChange={(e) => setPicked((cur) => {
                            const next = { ...cur };
                            if (e.target.checked) next[r.xaddr] = { name: defaultName(r) }; else delete next[r.xaddr];
                            return next;
                          })} />
                      )}
                    </td>
                    <td className="mono cell-wrap" title={r.xaddr}>{r.host}:{r.port}{servicePath(r.xaddr) ? <div className="small">{servicePath(r.xaddr)}</div> : null}<div className="muted small">{r.via}</div></td>
                    <td>{r.name ? <div data-testid="device-name">{r.name}</div> : null}{[r.manufacturer, r.model].filter(Boolean).join(' ') || <span className="muted">—</span>}
                      <div className="muted small">{[r.firmware && `FW ${r.firmware}`, r.serial && `SN ${r.serial}`, r.hasPtz && 'PTZ'].filter(Boolean).join(' · ')}</div>
                    </td>
                    <td className="small cell-wrap">
                      {r.profiles.map((pr) => <div key={pr.token} title={pr.streamUri ?? undefined}>{pr.width}×{pr.height} {pr.encoding} <span className="mono muted">{pr.streamUri ?? ''}</span></div>)}
                      {!r.profiles.length ? <span className="muted">—</span> : null}
                    </td>
                    <td className="small tabular">{fmtDrift(r.clockDriftMs)}</td>
                    <td className="small cell-wrap">{resultStatus(r)}{r.error ? <div className="muted">{r.error}</div> : null}
                      {addErrors[r.xaddr] ? <div className="field-error">{addErrors[r.xaddr]}</div> : null}
                    </td>
                    <td>{picked[r.xaddr] ? (
                      <input aria-label={`名称 ${r.xaddr}`} value={picked[r.xaddr].name} maxLength={100}
                        onChange={(e) => setPicked((cur) => ({ ...cur, [r.xaddr]: { name: e.target.value } }))} />
                    ) : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="add-panel">
            <div className="scan-form">
              <Field label="区" en="District">{(a) => <input {...a} value={meta.district} onChange={(e) => setMeta({ ...meta, district: e.target.value })} maxLength={50} />}</Field>
              <Field label="权属单位" en="Owner">{(a) => <input {...a} value={meta.owner} onChange={(e) => setMeta({ ...meta, owner: e.target.value })} maxLength={100} />}</Field>
              <div className="form-actions">
                <button type="button" className="btn btn-primary" disabled={busy || nPicked === 0} onClick={() => void add()}>
                  加入台账 Add {nPicked || ''} to inventory
                </button>
              </div>
            </div>
            <div className="hint">使用上面填写的用户名和密码（加密保存，不再显示）；主码流取最高分辨率，子码流取最低分辨率。Uses the username and password above (sealed, never shown again); main stream = highest resolution profile, sub = lowest.</div>
          </div>
          {addMessage ? <Notice kind="error" title="未添加 Nothing was added">{addMessage}</Notice> : null}
          {added ? (
            <Notice kind="ok" title={`已添加 ${added.length} 台 Added ${added.length}`}>
              {added.map((c) => <span key={c.id}><Link to={`/cameras/${c.id}`}>{c.name}</Link>{' '}</span>)}
            </Notice>
          ) : null}
        </>
      ) : scan && scan.state !== 'running' && !scan.results.length ? <Notice kind="warn">没有发现设备 No devices found.</Notice> : null}

      {recent.length ? (
        <div className="fleet-panel">
          <h2>最近扫描 Recent scans</h2>
          <table className="grid-table">
            <tbody>
              {recent.map((r) => (
                <tr key={r.id} className={r.id === scanId ? 'row-selected' : undefined}>
                  <td className="small">{fmtTime(r.startedAt)}</td>
                  <td>{r.targets}</td>
                  <td>{STATE_LABEL[r.state] ?? r.state}</td>
                  <td className="tabular">{r.found} 台</td>
                  <td className="muted small">{r.createdBy}</td>
                  <td><button type="button" className="btn btn-small" onClick={() => { setProgress(null); setPicked({}); setAdded(null); setScanId(r.id); }}>打开 Open</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
