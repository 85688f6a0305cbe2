/**
 * Reviewed candidates as a training set, one zip in YOLO and COCO form: the clean frames (no drawing on them), the
 * candidate boxes with their classes for confirmed candidates, and rejected candidates as hard negatives (an empty
 * YOLO label file, a COCO image without annotations) with the reviewer's reason. Streamed with fflate: frames are
 * stored as they are (JPEG does not deflate), text files are deflated.
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import sharp from 'sharp';

export interface ExportRow {
  id: string;
  status: 'confirmed' | 'rejected';
  eventType: string;
  label: string | null;
  score: number;
  box: { x1: number; y1: number; x2: number; y2: number } | null;
  cameraId: string;
  cameraName: string;
  firstSeen: Date;
  rejectReason: string | null;
  rejectNote: string | null;
  frame: string | null;
}

export interface ExportSummary {
  images: number;
  positives: number;
  negatives: number;
  /** Candidates left out because their clean frame is gone (retention) or unreadable. */
  skipped: { id: string; why: string }[];
  classes: string[];
}

/** Class of a candidate in the set: its event type (what the city wants found) or the detector's label. */
export type ClassBy = 'eventType' | 'label';

const clamp = (v: number) => Math.min(1, Math.max(0, v));
const csv = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * Writes the zip to the returned stream as it goes (the caller pipes it to the reply) and resolves `done` with
 * what went in. Paths of frames are resolved inside evidenceDir only.
 */
export function writeDataset(rows: ExportRow[], evidenceDir: string, classBy: ClassBy, meta: Record<string, unknown>): { stream: PassThrough; done: Promise<ExportSummary> } {
  const stream = new PassThrough();
  const zip = new Zip((err, chunk, final) => {
    if (err) stream.destroy(err);
    else {
      stream.write(Buffer.from(chunk));
      if (final) stream.end();
    }
  });
  const text = (name: string, body: string) => {
    const f = new ZipDeflate(name, { level: 6 });
    zip.add(f);
    f.push(new TextEncoder().encode(body), true);
  };
  const done = (async (): Promise<ExportSummary> => {
    const classOf = (r: ExportRow) => (classBy === 'label' ? r.label ?? r.eventType : r.eventType);
    const classes = [...new Set(rows.filter((r) => r.status === 'confirmed' && r.box).map(classOf))].sort();
    const root = resolve(evidenceDir);
    const skipped: ExportSummary['skipped'] = [];
    const coco = {
      info: { description: 'StreetEye reviewed candidates', date_created: new Date().toISOString(), ...meta },
      licenses: [] as unknown[],
      categories: classes.map((name, i) => ({ id: i + 1, name, supercategory: 'streeteye' })),
      images: [] as Record<string, unknown>[],
      annotations: [] as Record<string, unknown>[],
    };
    const negatives: string[] = ['event_id,image,event_type,reason,note,camera,captured_at'];
    let positives = 0;
    for (const r of rows) {
      const file = r.frame ? resolve(root, r.frame) : null;
      if (!file || !file.startsWith(root + sep)) {
        skipped.push({ id: r.id, why: 'no clean frame' });
        continue;
      }
      let jpeg: Buffer;
      let width: number;
      let height: number;
      try {
        jpeg = await readFile(file);
        const m = await sharp(jpeg).metadata();
        if (m.format !== 'jpeg' || !m.width || !m.height) throw new Error(`not a JPEG (${m.format})`);
        width = m.width;
        height = m.height;
      } catch (err) {
        skipped.push({ id: r.id, why: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'clean frame removed' : (err as Error).message });
        continue;
      }
      const image = `images/${r.id}.jpg`;
      const img = new ZipPassThrough(image);
      zip.add(img);
      img.push(jpeg, true);
      const imageId = coco.images.length + 1;
      coco.images.push({
        id: imageId, file_name: image, width, height, date_captured: r.firstSeen.toISOString(),
        streeteye: { eventId: r.id, status: r.status, eventType: r.eventType, detectorLabel: r.label, cameraId: r.cameraId, rejectReason: r.rejectReason, rejectNote: r.rejectNote },
      });
      let yolo = '';
      if (r.status === 'confirmed' && r.box) {
        const b = { x1: clamp(r.box.x1), y1: clamp(r.box.y1), x2: clamp(r.box.x2), y2: clamp(r.box.y2) };
        const cls = classes.indexOf(classOf(r));
        yolo = `${cls} ${((b.x1 + b.x2) / 2).toFixed(6)} ${((b.y1 + b.y2) / 2).toFixed(6)} ${(b.x2 - b.x1).toFixed(6)} ${(b.y2 - b.y1).toFixed(6)}\n`;
        const bbox = [b.x1 * width, b.y1 * height, (b.x2 - b.x1) * width, (b.y2 - b.y1) * height].map((v) => Math.round(v * 100) / 100);
        coco.annotations.push({ id: coco.annotations.length + 1, image_id: imageId, category_id: cls + 1, bbox, area: Math.round(bbox[2] * bbox[3] * 100) / 100, iscrowd: 0, score: r.score });
        positives++;
      } else {
        negatives.push([r.id, image, r.eventType, r.rejectReason, r.rejectNote, r.cameraName, r.firstSeen.toISOString()].map(csv).join(','));
      }
      // a YOLO image without objects has an empty label file: a background (hard negative) image
      text(`labels/${r.id}.txt`, yolo);
    }
    text('classes.txt', classes.join('\n') + (classes.length ? '\n' : ''));
    text('data.yaml', `# Ultralytics dataset (yolo detect train data=data.yaml); split train/val yourself\npath: .\ntrain: images\nval: images\nnames:\n${classes.map((c, i) => `  ${i}: ${JSON.stringify(c)}`).join('\n')}${classes.length ? '\n' : ''}`);
    text('annotations.coco.json', JSON.stringify(coco, null, 1));
    text('negatives.csv', negatives.join('\n') + '\n');
    const summary = { images: coco.images.length, positives, negatives: negatives.length - 1, skipped, classes };
    text('README.txt', [
      'StreetEye training set / 训练数据集',
      '',
      'images/<event>.jpg        clean frames of reviewed candidates (no boxes drawn) / 原始画面',
      'labels/<event>.txt        YOLO: "class cx cy w h" normalised 0..1; empty = hard negative (rejected) / 空文件为负样本',
      'classes.txt, data.yaml    class names in index order (YOLO, Ultralytics)',
      'annotations.coco.json     COCO detection; images without annotations are hard negatives, image.streeteye says why',
      'negatives.csv             rejected candidates with the reviewer\'s reason / 驳回原因',
      '',
      JSON.stringify({ ...meta, ...summary }, null, 2),
      '',
    ].join('\n'));
    zip.end();
    return summary;
  })();
  done.catch((err) => stream.destroy(err as Error));
  return { stream, done };
}
