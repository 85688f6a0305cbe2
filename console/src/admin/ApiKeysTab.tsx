import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, type FieldErrors } from '../api';
import { fmtTime } from '../lib/format';
import { Field } from '../components/Field';
import { Notice } from '../components/Notice';
import { adminApi, SCOPES, type ApiKey, type IssuedKey } from './admin-api';

/** API keys for machine callers: issue with scopes (the key and its signing secret are shown once), revoke, last used. */
export function ApiKeysTab() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [f, setF] = useState({ name: '', scopes: ['110'] as string[], callbackUrl: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const [busy, setBusy] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    adminApi.keys(ac.signal).then((r) => setKeys(r.items), (err: unknown) => { if (!ac.signal.aborted) setError(err instanceof ApiError ? err.message : String(err)); });
    return () => ac.abort();
  }, [reload]);

  async function issue(e: FormEvent) {
    e.preventDefault();
    const errs: FieldErrors = {};
    if (!f.name.trim()) errs.name = '请填写名称 give the key a name';
    if (!f.scopes.length) errs.scopes = '至少选择一个权限范围 pick at least one scope';
    if (Object.keys(errs).length) { setErrors(errs); return; }
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      const k = await adminApi.issueKey({ name: f.name.trim(), scopes: f.scopes, callbackUrl: f.callbackUrl.trim() || undefined });
      setIssued(k);
      setF({ name: '', scopes: ['110'], callbackUrl: '' });
      setReload((n) => n + 1);
    } catch (err) {
      if (err instanceof ApiError) { setError(err.message); setErrors(err.fieldErrors); } else setError(String(err));
    } finally {
      setBusy(false);
    }
  }

  async function revoke(k: ApiKey) {
    if (!window.confirm(`吊销密钥“${k.name}”？使用它的系统将立即无法访问。Revoke "${k.name}"? It stops working at once.`)) return;
    try { await adminApi.revokeKey(k.id); setReload((n) => n + 1); } catch (err) { setError(err instanceof ApiError ? err.message : String(err)); }
  }

  return (
    <div data-testid="api-keys-tab">
      <form className="form form-inline" onSubmit={issue} noValidate data-testid="issue-key">
        <fieldset disabled={busy}>
          <legend>签发新密钥 Issue a key</legend>
          <Field label="名称" en="Name" error={errors.name} hint="例如 e.g. 市局 110 系统">
            {(p) => <input {...p} name="name" value={f.name} onChange={(e) => setF((x) => ({ ...x, name: e.target.value }))} />}
          </Field>
          <Field label="权限范围" en="Scopes" error={errors.scopes}>
            {() => (
              <div>
                {SCOPES.map((s) => (
                  <label key={s.scope} className="check" style={{ gridColumn: 'auto' }}>
                    <input type="checkbox" name={`scope-${s.scope}`} checked={f.scopes.includes(s.scope)}
                      onChange={(e) => setF((x) => ({ ...x, scopes: e.target.checked ? [...x.scopes, s.scope] : x.scopes.filter((y) => y !== s.scope) }))} />
                    <span className="mono">{s.scope}</span> {s.zh} <span className="en">{s.en}</span>
                  </label>
                ))}
              </div>
            )}
          </Field>
          <Field label="回调地址" en="Callback URL" error={errors.callbackUrl} hint="可选：状态反馈推送到此 optional: status feedback is posted here">
            {(p) => <input {...p} name="callbackUrl" placeholder="https://…" value={f.callbackUrl} onChange={(e) => setF((x) => ({ ...x, callbackUrl: e.target.value }))} />}
          </Field>
          <div className="form-actions"><button type="submit" className="btn btn-primary">签发 Issue</button></div>
        </fieldset>
        {error ? <Notice kind="error">{error}</Notice> : null}
      </form>
      {issued ? (
        <Notice kind="warn" title="请立即复制：密钥只显示这一次 Copy it now: the key is shown only once">
          <div style={{ display: 'grid', gap: 6, width: '100%' }}>
            <div>密钥 Key（Authorization: Bearer …）</div>
            <div className="secret-box" data-testid="issued-key">{issued.key}</div>
            {issued.callbackSecret ? (
              <>
                <div>签名密钥 Signing secret（HMAC-SHA256，X-StreetEye-Signature）</div>
                <div className="secret-box" data-testid="issued-secret">{issued.callbackSecret}</div>
              </>
            ) : null}
            <div><button type="button" className="btn btn-small" onClick={() => setIssued(null)}>我已保存 I have saved it</button></div>
          </div>
        </Notice>
      ) : null}
      <div className="table-wrap">
        <table className="grid-table" data-testid="keys-table">
          <thead><tr><th>名称 Name</th><th>前缀 Prefix</th><th>权限 Scopes</th><th>回调 Callback</th><th>签发 Created</th><th>最近使用 Last used</th><th>状态 State</th><th /></tr></thead>
          <tbody>
            {keys?.map((k) => (
              <tr key={k.id} data-key={k.name} className={k.revokedAt ? 'row-disabled' : undefined}>
                <td>{k.name}</td>
                <td className="mono">{k.keyPrefix}…</td>
                <td>{k.scopes.map((s) => <span key={s} className="tag">{s}</span>)}</td>
                <td className="cell-area mono">{k.callbackUrl ?? '—'}</td>
                <td className="tabular muted">{fmtTime(k.createdAt)}</td>
                <td className="tabular" data-testid="last-used">{k.lastUsedAt ? fmtTime(k.lastUsedAt) : <span className="muted">从未 never</span>}</td>
                <td>{k.revokedAt ? <span className="badge badge-err">已吊销 revoked {fmtTime(k.revokedAt)}</span> : <span className="badge badge-ok">有效 active</span>}</td>
                <td>{k.revokedAt ? null : <button type="button" className="btn btn-small btn-danger" onClick={() => void revoke(k)}>吊销 Revoke</button>}</td>
              </tr>
            ))}
            {keys && !keys.length ? <tr><td colSpan={8} className="empty">还没有密钥 No keys yet.</td></tr> : null}
          </tbody>
        </table>
      </div>
    </div>
  );
}
