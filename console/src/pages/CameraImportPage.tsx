import { useRef, useState, type DragEvent } from 'react';
import { Link } from 'react-router';
import { api, ApiError } from '../api';
import type { ImportResult, ImportRowError } from '../types';
import { Notice } from '../components/Notice';

const COLUMNS = 'national_id,name,owner,sharing,lat,lng,address,district,street,community,grid_code,tags,rtsp_main,rtsp_sub,onvif_url,username,password';

type Phase =
  | { kind: 'idle' }
  | { kind: 'uploading'; progress: number; partial: boolean }
  | { kind: 'done'; result: ImportResult; partial: boolean }
  | { kind: 'rejected'; message: string; errors: ImportRowError[] }
  | { kind: 'failed'; message: string };

export default function CameraImportPage() {
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [dragging, setDragging] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);

  function choose(f: File | null) {
    setFile(f);
    setPhase({ kind: 'idle' });
  }

  async function run(partial: boolean) {
    if (!file) return;
    setPhase({ kind: 'uploading', progress: 0, partial });
    try {
      const result = await api.importCameras(file, partial, (progress) => setPhase({ kind: 'uploading', progress, partial }));
      setPhase({ kind: 'done', result, partial });
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) {
        const errors = (err.body as { errors?: ImportRowError[] } | undefined)?.errors ?? [];
        setPhase({ kind: 'rejected', message: err.message, errors });
      } else {
        setPhase({ kind: 'failed', message: err instanceof ApiError ? err.message : String(err) });
      }
    }
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    const f = e.dataTransfer.files[0];
    if (f) choose(f);
  }

  const busy = phase.kind === 'uploading';
  const rowErrors = phase.kind === 'rejected' ? phase.errors : phase.kind === 'done' ? phase.result.errors : [];

  return (
    <section className="page">
      <div className="page-head">
        <h1>批量导入 <span className="en">Import cameras (CSV)</span></h1>
        <div className="actions"><Link className="btn btn-ghost" to="/cameras">← 返回列表 Back</Link></div>
      </div>
      <p className="muted small">
        UTF-8 或 GBK 编码，首行为列名（也接受中文列名）。按国标编码、否则按名称更新已有点位。UTF-8 or GBK; first row is the header (Chinese headers accepted). Rows upsert by national_id, else name.
      </p>
      <p className="mono small columns">{COLUMNS}</p>

      <div className={`dropzone${dragging ? ' dragging' : ''}`} onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
        onDragLeave={() => setDragging(false)} onDrop={onDrop}>
        <label className="btn file-btn">
          <input ref={inputRef} className="visually-hidden" type="file" accept=".csv,text/csv" data-testid="csv-file"
            onChange={(e) => choose(e.target.files?.[0] ?? null)} disabled={busy} />
          选择文件 Choose file
        </label>
        <span>{file ? <><strong>{file.name}</strong> <span className="muted">({(file.size / 1024).toFixed(1)} KB)</span></> : <span className="muted">或拖入 CSV 文件 or drop a CSV file here</span>}</span>
        <button type="button" className="btn btn-primary" disabled={!file || busy} onClick={() => void run(false)} data-testid="import-run">
          导入 Import
        </button>
      </div>

      {phase.kind === 'uploading' ? (
        <div className="progress-block" role="status" aria-live="polite">
          <progress max={1} value={phase.progress < 1 ? phase.progress : undefined} />
          <span>{phase.progress < 1 ? `上传中 Uploading ${Math.round(phase.progress * 100)}%` : '服务器校验并写入中… Checking and writing…'}</span>
        </div>
      ) : null}

      {phase.kind === 'failed' ? <Notice kind="error" title="导入失败 Import failed">{phase.message}</Notice> : null}

      {phase.kind === 'rejected' ? (
        <div data-testid="import-rejected">
          <Notice kind="error" title="未导入任何数据 Nothing was imported">
            {phase.message}
          </Notice>
          <div className="form-actions">
            <button type="button" className="btn" onClick={() => void run(true)} data-testid="import-partial">
              仅导入无误的行 Import the good rows only
            </button>
            <span className="muted">或修正文件后重新导入 Or fix the file and import again.</span>
          </div>
        </div>
      ) : null}

      {phase.kind === 'done' ? (
        <Notice kind={phase.result.errors.length ? 'warn' : 'ok'} title="导入完成 Import finished">
          <span data-testid="import-summary">新增 created <strong>{phase.result.created}</strong> · 更新 updated <strong>{phase.result.updated}</strong>
            {phase.result.errors.length ? <> · 跳过 skipped <strong>{new Set(phase.result.errors.map((e) => e.row)).size}</strong> 行有误 rows with errors ({phase.result.errors.length} 处 errors)</> : null}</span>
          {' '}<Link to="/cameras">查看点位 View cameras →</Link>
        </Notice>
      ) : null}

      {rowErrors.length ? (
        <div className="table-wrap">
          <table className="grid-table" data-testid="import-errors">
            <caption>逐行错误 Row errors ({rowErrors.length})</caption>
            <thead><tr><th className="num">行 Row</th><th>列 Column</th><th>问题 Problem</th></tr></thead>
            <tbody>
              {rowErrors.slice(0, 1000).map((e, i) => (
                <tr key={`${e.row}-${e.column ?? ''}-${i}`}>
                  <td className="num tabular">{e.row}</td>
                  <td className="mono">{e.column ?? '—'}</td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rowErrors.length > 1000 ? <p className="muted">仅显示前 1000 条 Showing the first 1000.</p> : null}
        </div>
      ) : null}
    </section>
  );
}
