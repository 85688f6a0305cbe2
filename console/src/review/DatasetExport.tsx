import { useState } from 'react';

/**
 * 导出训练集 Dataset export (admin): reviewed candidates as a zip in YOLO and COCO form, rejected ones as hard
 * negatives with their reasons, for a city's own model training. The server audits every download.
 */
export function DatasetExport({ types, cameras }: { types: Array<{ key: string; nameZh: string }>; cameras: Array<{ id: string; name: string }> }) {
  const [f, setF] = useState({ eventType: '', cameraId: '', from: '', to: '', status: 'reviewed', classes: 'eventType' });
  const q = new URLSearchParams();
  if (f.eventType) q.set('eventType', f.eventType);
  if (f.cameraId) q.set('cameraId', f.cameraId);
  if (f.from) q.set('from', new Date(f.from).toISOString());
  if (f.to) q.set('to', new Date(f.to).toISOString());
  q.set('status', f.status);
  q.set('classes', f.classes);
  const bad = !!(f.from && f.to && f.from >= f.to);
  return (
    <section aria-label="导出训练集 Dataset export" style={{ marginTop: 14 }}>
      <h2>导出训练集 <span className="muted">Training set export (YOLO + COCO zip; rejected = hard negatives)</span></h2>
      <div className="toolbar">
        <select aria-label="事件类型 Event type" value={f.eventType} onChange={(e) => setF({ ...f, eventType: e.target.value })}>
          <option value="">全部类型 All types</option>
          {types.map((t) => <option key={t.key} value={t.key}>{t.nameZh}</option>)}
        </select>
        <select aria-label="点位 Camera" value={f.cameraId} onChange={(e) => setF({ ...f, cameraId: e.target.value })}>
          <option value="">全部点位 All cameras</option>
          {cameras.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select>
        <input type="datetime-local" aria-label="从 From" value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} />
        <input type="datetime-local" aria-label="到 To" value={f.to} onChange={(e) => setF({ ...f, to: e.target.value })} />
        <select aria-label="状态 Status" value={f.status} onChange={(e) => setF({ ...f, status: e.target.value })}>
          <option value="reviewed">已审核 Reviewed</option>
          <option value="confirmed">仅确认 Confirmed only</option>
          <option value="rejected">仅驳回 Rejected only</option>
        </select>
        <select aria-label="类别 Classes" value={f.classes} onChange={(e) => setF({ ...f, classes: e.target.value })}>
          <option value="eventType">按事件类型 Class = event type</option>
          <option value="label">按检测类别 Class = detector label</option>
        </select>
        {bad ? <span className="field-error">起始须早于结束 From must be before To</span>
          : <a className="btn btn-primary" href={`/api/datasets/export?${q.toString()}`} download>下载 Download zip</a>}
      </div>
    </section>
  );
}
