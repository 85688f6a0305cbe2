import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, type FieldErrors } from '../api';
import { hasRole, useUser } from '../auth';
import { INVENTORY_EDITORS, SHARING_DECIDERS, type Camera, type CameraInput } from '../types';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { StatusBadge } from '../components/StatusBadge';
import { CameraCheck } from '../components/CameraCheck';
import { fmtTime } from '../lib/format';

/** The form's text state: every field as the user typed it. */
interface FormState {
  name: string; nationalId: string; owner: string; sharing: 'shared' | 'restricted';
  lat: string; lng: string; address: string; district: string; street: string; community: string; gridCode: string;
  tags: string; rtspMain: string; rtspSub: string; onvifUrl: string; username: string; password: string;
  mediaEngine: 'native' | 'ffmpeg';
}

const EMPTY: FormState = {
  name: '', nationalId: '', owner: '', sharing: 'shared', lat: '', lng: '', address: '', district: '', street: '', community: '',
  gridCode: '', tags: '', rtspMain: '', rtspSub: '', onvifUrl: '', username: '', password: '', mediaEngine: 'native',
};

function fromCamera(c: Camera): FormState {
  const s = (v: string | number | null) => (v === null ? '' : String(v));
  return {
    name: c.name, nationalId: s(c.nationalId), owner: s(c.owner), sharing: c.sharing, lat: s(c.lat), lng: s(c.lng),
    address: s(c.address), district: s(c.district), street: s(c.street), community: s(c.community), gridCode: s(c.gridCode),
    tags: c.tags.join('; '), rtspMain: s(c.rtspMain), rtspSub: s(c.rtspSub), onvifUrl: s(c.onvifUrl), username: '', password: '', mediaEngine: c.mediaEngine ?? 'native',
  };
}

const TEXT_FIELDS = ['name', 'nationalId', 'owner', 'address', 'district', 'street', 'community', 'gridCode', 'rtspMain', 'rtspSub', 'onvifUrl'] as const;

/** The API body: on edit only what changed (so a technician's save never touches `sharing`). */
function toInput(f: FormState, base: FormState | null, errors: FieldErrors): CameraInput {
  const out: CameraInput = {};
  const changed = (k: keyof FormState) => !base || f[k] !== base[k];
  for (const k of TEXT_FIELDS) {
    if (!changed(k)) continue;
    const v = f[k].trim();
    if (k === 'name') out.name = v;
    else out[k] = v === '' ? null : v;
  }
  if (changed('sharing')) out.sharing = f.sharing;
  if (changed('mediaEngine')) out.mediaEngine = f.mediaEngine;
  for (const k of ['lat', 'lng'] as const) {
    if (!changed(k)) continue;
    const v = f[k].trim();
    if (v === '') out[k] = null;
    else if (!Number.isFinite(Number(v))) errors[k] = '必须是数字 must be a number';
    else out[k] = Number(v);
  }
  if (changed('tags')) out.tags = f.tags.split(/[;,，；]/).map((t) => t.trim()).filter(Boolean);
  if (f.username.trim() !== '') out.username = f.username.trim();
  if (f.password !== '') out.password = f.password;
  return out;
}

export default function CameraFormPage() {
  const { id } = useParams();
  const creating = !id || id === 'new';
  const user = useUser();
  const editor = hasRole(user, INVENTORY_EDITORS);
  const mayShare = hasRole(user, SHARING_DECIDERS);
  const navigate = useNavigate();
  const [camera, setCamera] = useState<Camera | null>(null);
  const [form, setForm] = useState<FormState>(EMPTY);
  const [base, setBase] = useState<FormState | null>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [clearCreds, setClearCreds] = useState(false);

  useEffect(() => {
    if (creating) { setCamera(null); setForm(EMPTY); setBase(null); return; }
    const ctl = new AbortController();
    api.camera(id, ctl.signal).then(
      (c) => { setCamera(c); const f = fromCamera(c); setForm(f); setBase(f); },
      (err: unknown) => { if (!ctl.signal.aborted) setLoadError(err instanceof ApiError ? err.message : String(err)); },
    );
    return () => ctl.abort();
  }, [id, creating]);

  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setSaved(false);
    if (fieldErrors[k]) setFieldErrors(({ [k]: _gone, ...rest }) => rest);
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy || !editor) return;
    const local: FieldErrors = {};
    const body = toInput(form, creating ? null : base, local);
    if (clearCreds) { body.username = null; body.password = null; }
    if (!form.name.trim()) local.name = '必填 is required';
    if (Object.keys(local).length) { setFieldErrors(local); setError('请检查标红的字段。Please check the marked fields.'); return; }
    if (!creating && Object.keys(body).length === 0) { setSaved(true); return; }
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      const c = creating ? await api.createCamera(body) : await api.updateCamera(id, body);
      if (creating) { void navigate(`/cameras/${c.id}`, { replace: true }); return; }
      setCamera(c);
      const f = fromCamera(c);
      setForm(f);
      setBase(f);
      setClearCreds(false);
      setSaved(true);
    } catch (err) {
      if (err instanceof ApiError) { setError(err.message); setFieldErrors(err.fieldErrors); } else setError(String(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!camera || !window.confirm(`删除点位「${camera.name}」？ Delete this camera?`)) return;
    setBusy(true);
    try {
      await api.deleteCamera(camera.id);
      void navigate('/cameras', { replace: true });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  }

  if (loadError) return <section className="page"><Notice kind="error" title="无法加载点位 Could not load camera">{loadError}</Notice><Link to="/cameras">← 返回列表 Back</Link></section>;
  if (!creating && !camera) return <section className="page"><div className="loading-line" /><p className="muted">加载中 Loading…</p></section>;

  const ro = !editor;
  const text = (k: keyof FormState, label: string, en: string, opts: { wide?: boolean; placeholder?: string; hint?: string; type?: string; inputMode?: 'decimal' | 'numeric' } = {}) => (
    <Field label={label} en={en} error={fieldErrors[k]} wide={opts.wide} hint={opts.hint}>
      {(p) => <input {...p} name={k} type={opts.type ?? 'text'} inputMode={opts.inputMode} value={form[k]} readOnly={ro} placeholder={opts.placeholder}
        onChange={(e) => set(k, e.target.value)} autoComplete={k === 'password' ? 'new-password' : 'off'} />}
    </Field>
  );
  // Field errors the form has no control for (e.g. from the server's schema check) stay visible in the banner's message.

  return (
    <section className="page">
      <div className="page-head">
        <h1>
          {creating ? <>新增点位 <span className="en">Add camera</span></> : <>{camera!.name} <span className="en">{editor ? 'Edit camera' : 'Camera'}</span></>}
        </h1>
        <div className="actions"><Link className="btn btn-ghost" to="/cameras">← 返回列表 Back</Link></div>
      </div>
      {camera ? (
        <div className="meta-row">
          <StatusBadge status={camera.status} reason={camera.statusReason} />
          {camera.statusReason ? <span className="muted">{camera.statusReason}</span> : null}
          <span className="muted">最近在线 Last seen {fmtTime(camera.lastSeenAt)}</span>
          <span className="muted">更新 Updated {fmtTime(camera.updatedAt)}</span>
        </div>
      ) : null}
      {camera ? <CameraCheck camera={camera} /> : null}
      {error ? <Notice kind="error" title="保存失败 Not saved">{error}</Notice> : null}
      {saved ? <Notice kind="ok">已保存 Saved.</Notice> : null}
      <form className="form" onSubmit={submit} noValidate>
        <fieldset disabled={busy}>
          <legend>基本信息 Basics</legend>
          {text('name', '名称', 'Name')}
          {text('nationalId', '国标编码', 'National ID', { placeholder: '20 位 GB/T 28181', inputMode: 'numeric' })}
          {text('owner', '权属单位', 'Owner')}
          <Field label="共享" en="Sharing" error={fieldErrors.sharing} hint={mayShare ? undefined : '仅管理员/110 可修改 admin or police110 only'}>
            {(p) => (
              <select {...p} name="sharing" value={form.sharing} disabled={ro || !mayShare} onChange={(e) => set('sharing', e.target.value as FormState['sharing'])}>
                <option value="shared">共享 shared</option>
                <option value="restricted">受限 restricted (公安专用)</option>
              </select>
            )}
          </Field>
          {text('tags', '标签', 'Tags', { placeholder: '以 ; 分隔  e.g. 路口; 学校', wide: true })}
        </fieldset>
        <fieldset disabled={busy}>
          <legend>位置 Location</legend>
          {text('district', '区', 'District')}
          {text('street', '街道', 'Street')}
          {text('community', '社区', 'Community')}
          {text('gridCode', '网格编码', 'Grid code', { placeholder: '14 位单元网格 / 15 位网格', inputMode: 'numeric' })}
          {text('lat', '纬度', 'Lat (WGS-84)', { inputMode: 'decimal' })}
          {text('lng', '经度', 'Lng (WGS-84)', { inputMode: 'decimal' })}
          {text('address', '地址', 'Address', { wide: true })}
        </fieldset>
        <fieldset disabled={busy}>
          <legend>接入 Streams</legend>
          {text('rtspMain', '主码流', 'RTSP main', { wide: true, placeholder: 'rtsp://192.0.2.10:554/Streaming/Channels/101' })}
          {text('rtspSub', '子码流', 'RTSP sub', { wide: true, placeholder: 'rtsp://192.0.2.10:554/Streaming/Channels/102' })}
          {text('onvifUrl', 'ONVIF 地址', 'ONVIF URL', { wide: true, placeholder: 'http://192.0.2.10/onvif/device_service' })}
          <Field label="接入引擎" en="Media engine" error={fieldErrors.mediaEngine} hint="原生失败时自动改用 ffmpeg falls back to ffmpeg by itself when native cannot handle the camera">
            {(p) => (
              <select {...p} name="mediaEngine" value={form.mediaEngine} disabled={ro} onChange={(e) => set('mediaEngine', e.target.value as FormState['mediaEngine'])}>
                <option value="native">原生（默认） native (default)</option>
                <option value="ffmpeg">ffmpeg（兼容） ffmpeg (compatibility)</option>
              </select>
            )}
          </Field>
          {editor ? (
            <>
              {text('username', '设备用户名', 'Username', { placeholder: camera?.hasCredentials ? '(已保存，不变 unchanged)' : '' })}
              {text('password', '设备密码', 'Password', { type: 'password', placeholder: camera?.hasCredentials ? '(已保存，不变 unchanged)' : '' })}
              {camera?.hasCredentials ? (
                <label className="check">
                  <input type="checkbox" checked={clearCreds} onChange={(e) => setClearCreds(e.target.checked)} /> 清除已保存的凭据 Clear stored credentials
                </label>
              ) : null}
            </>
          ) : (
            <p className="muted">凭据 Credentials: {camera?.hasCredentials ? '已保存 stored' : '无 none'}</p>
          )}
        </fieldset>
        {editor ? (
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>{busy ? '保存中… Saving' : creating ? '创建 Create' : '保存 Save'}</button>
            <Link className="btn btn-ghost" to="/cameras">取消 Cancel</Link>
            {!creating ? <button type="button" className="btn btn-danger" onClick={() => void remove()} disabled={busy}>删除 Delete</button> : null}
          </div>
        ) : null}
      </form>
    </section>
  );
}
