import { useState } from 'react';
import { ApiError, request, type FieldErrors } from '../api';
import { Notice } from '../components/Notice';

/**
 * 自有模型 A city's own model (admin): upload ONNX weights with their manifest, see the server's check (manifest,
 * sha256, input shape, one run through the decoder), test-run it on a camera's snapshot with the boxes drawn over
 * it, then enable it so rules can choose it. Nothing is kept unless the check passes.
 */
export interface ModelItem {
  id: string; description: string | null; decoder: string; classes: string[]; input: { width: number | null; height: number | null };
  sha256: string | null; source: 'shipped' | 'uploaded' | 'staged'; status: string; message: string | null;
}
interface TestRun {
  width: number; height: number; snapshot: string; ms: number;
  detections: { label: string; score: number; box: { x1: number; y1: number; x2: number; y2: number } }[];
}

export const modelsApi = {
  list: () => request<{ models: ModelItem[]; defaultModel: string }>('/api/models'),
  testRun: (id: string, cameraId: string) => request<TestRun>(`/api/models/${encodeURIComponent(id)}/test-run`, { method: 'POST', json: { cameraId } }),
  enable: (id: string) => request<{ model: ModelItem; hotSwapped: boolean }>(`/api/models/${encodeURIComponent(id)}/enable`, { method: 'POST' }),
  /** Raw weights as the body, the manifest as base64 UTF-8 JSON in a header (the server streams the body to disk). */
  async upload(weights: Blob, manifestText: string): Promise<{ model: ModelItem; check: { input: { width: number; height: number }; sha256: string } }> {
    const bytes = new TextEncoder().encode(manifestText);
    let bin = '';
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    const res = await fetch('/api/models', {
      method: 'POST', credentials: 'same-origin', body: weights,
      headers: { 'content-type': 'application/octet-stream', accept: 'application/json', 'x-model-manifest': btoa(bin) },
    }).catch(() => { throw new ApiError(0, '无法连接服务器 Cannot reach the server'); });
    const body = await res.json().catch(() => undefined) as { message?: string; fieldErrors?: FieldErrors } | undefined;
    if (!res.ok) throw new ApiError(res.status, body?.message ?? `${res.status}`, body?.fieldErrors ?? {}, body);
    return body as never;
  },
};

const SOURCE: Record<ModelItem['source'], string> = { shipped: '自带 shipped', uploaded: '已启用 enabled upload', staged: '待启用 validated, not enabled' };

export function ModelsPanel({ models, cameras, onChanged }: { models: ModelItem[]; cameras: Array<{ id: string; name: string }>; onChanged: () => void }) {
  const [weights, setWeights] = useState<File | null>(null);
  const [manifest, setManifest] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ kind: 'ok' | 'error'; text: string; fields?: FieldErrors } | null>(null);
  const [cameraId, setCameraId] = useState('');
  const [run, setRun] = useState<{ id: string; r: TestRun } | null>(null);

  const doUpload = async () => {
    if (!weights || !manifest.trim()) return;
    setBusy('upload'); setResult(null); setRun(null);
    try {
      const r = await modelsApi.upload(weights, manifest);
      setResult({ kind: 'ok', text: `校验通过 Validated: ${r.model.id} · ${r.model.decoder} · ${r.check.input.width}×${r.check.input.height} · ${r.model.classes.length} 类 classes · sha256 ${r.check.sha256.slice(0, 12)}… — 请先试运行再启用 test-run it, then enable` });
      onChanged();
    } catch (e) {
      setResult({ kind: 'error', text: (e as Error).message, fields: e instanceof ApiError ? e.fieldErrors : undefined });
    } finally { setBusy(null); }
  };
  const doTest = async (id: string) => {
    setBusy(`test:${id}`); setRun(null);
    try { setRun({ id, r: await modelsApi.testRun(id, cameraId || cameras[0]?.id || '') }); }
    catch (e) { setResult({ kind: 'error', text: `试运行失败 Test run failed: ${(e as Error).message}` }); }
    finally { setBusy(null); }
  };
  const doEnable = async (id: string) => {
    setBusy(`enable:${id}`);
    try {
      const r = await modelsApi.enable(id);
      setResult({ kind: 'ok', text: `已启用 Enabled: ${id}${r.hotSwapped ? '（运行中的会话已热替换 running session hot-swapped）' : ''} — 规则现在可以选择它 rules can now choose it` });
      onChanged();
    } catch (e) { setResult({ kind: 'error', text: (e as Error).message }); }
    finally { setBusy(null); }
  };

  return (
    <section aria-label="自有模型 Models" style={{ marginTop: 14 }}>
      <h2>自有模型 <span className="muted">A city's own models (ONNX: YOLOX, NanoDet, YOLOv8/YOLO11-style)</span></h2>
      <div className="toolbar">
        <label>模型文件 Weights (.onnx) <input type="file" accept=".onnx" aria-label="模型文件 Weights" onChange={(e) => setWeights(e.target.files?.[0] ?? null)} /></label>
        <label>清单 Manifest (.json) <input type="file" accept=".json,application/json" aria-label="清单文件 Manifest file" onChange={(e) => { const f = e.target.files?.[0]; if (f) void f.text().then(setManifest); }} /></label>
        <button className="btn btn-primary" type="button" disabled={!weights || !manifest.trim() || !!busy} onClick={() => void doUpload()}>{busy === 'upload' ? '校验中… Checking…' : '上传并校验 Upload & validate'}</button>
      </div>
      <textarea aria-label="清单 Manifest JSON" rows={4} style={{ width: '100%', fontFamily: 'monospace' }} placeholder='{"id": "city_model", "file": "city_model.onnx", "input": {…}, "decoder": {"kind": "yolov8"}, "classes": […]}' value={manifest} onChange={(e) => setManifest(e.target.value)} />
      {result && (
        <Notice kind={result.kind}>
          {result.text}
          {result.fields && Object.keys(result.fields).length > 0 && <ul>{Object.entries(result.fields).map(([k, v]) => <li key={k}><code>{k}</code>: {v}</li>)}</ul>}
        </Notice>
      )}
      <div className="toolbar">
        <label>试运行点位 Test-run camera <select aria-label="试运行点位 Test-run camera" value={cameraId} onChange={(e) => setCameraId(e.target.value)}>
          {cameras.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select></label>
      </div>
      <div className="table-wrap">
        <table className="grid-table">
          <caption>{models.length} 个模型 models</caption>
          <thead><tr><th>模型 Model</th><th>来源 Source</th><th>解码器 Decoder</th><th>输入 Input</th><th>类别 Classes</th><th>状态 State</th><th /></tr></thead>
          <tbody>
            {models.map((m) => (
              <tr key={`${m.source}:${m.id}`} data-model={m.id}>
                <td>{m.id} {m.description ? <span className="muted">{m.description}</span> : null}</td>
                <td>{SOURCE[m.source]}</td>
                <td>{m.decoder}</td>
                <td className="tabular">{m.input.width ?? '?'}×{m.input.height ?? '?'}</td>
                <td>{m.classes.length}</td>
                <td>{m.status}{m.message ? <span className="muted"> {m.message}</span> : null}</td>
                <td>
                  <button className="btn btn-small" type="button" disabled={!!busy || !cameras.length} onClick={() => void doTest(m.id)}>{busy === `test:${m.id}` ? '运行中… Running…' : '试运行 Test run'}</button>
                  {m.source === 'staged' && <> <button className="btn btn-small btn-primary" type="button" disabled={!!busy} onClick={() => void doEnable(m.id)}>启用 Enable</button></>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {run && (
        <figure aria-label="试运行结果 Test-run result" style={{ margin: '10px 0' }}>
          <figcaption>{run.id}: {run.r.detections.length} 个目标 detections · {run.r.ms} ms</figcaption>
          <div style={{ position: 'relative', maxWidth: 640 }}>
            <img alt="试运行快照 Test-run snapshot" src={run.r.snapshot} style={{ width: '100%', display: 'block' }} />
            <svg viewBox="0 0 1 1" preserveAspectRatio="none" style={{ position: 'absolute', inset: 0, width: '100%', height: '100%' }}>
              {run.r.detections.map((d, i) => (
                <rect key={i} data-label={d.label} x={d.box.x1} y={d.box.y1} width={d.box.x2 - d.box.x1} height={d.box.y2 - d.box.y1} fill="none" stroke="#ff3b30" strokeWidth={0.004} />
              ))}
            </svg>
          </div>
          <ul className="muted">{run.r.detections.slice(0, 20).map((d, i) => <li key={i}>{d.label} {Math.round(d.score * 100)}%</li>)}</ul>
          {run.r.detections.length === 0 && <p className="muted">此快照上没有检测到目标 Nothing detected on this snapshot</p>}
        </figure>
      )}
    </section>
  );
}
