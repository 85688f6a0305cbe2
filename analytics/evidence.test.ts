import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg, resolveFfprobe } from '../media-tools/ffmpeg-path.js';
import { EvidenceWriter, renderAnnotatedJpeg, writeClip, type ClipSegments } from './evidence.js';
import { decodeImage, type RawImage } from './preprocess.js';
import { fixtureMedia, silentLogger, VAN_BOX } from './test-helpers.js';

/** Splits a fragmented MP4 into its init segment (ftyp+moov) and moof+mdat fragments. */
function splitFmp4(buf: Buffer): ClipSegments {
  const boxes: { type: string; start: number; end: number }[] = [];
  for (let o = 0; o < buf.length; ) {
    const size = buf.readUInt32BE(o);
    boxes.push({ type: buf.toString('latin1', o + 4, o + 8), start: o, end: o + size });
    o += size;
  }
  const moov = boxes.find((b) => b.type === 'moov')!;
  const segments: Buffer[] = [];
  for (let i = 0; i < boxes.length; i++) {
    if (boxes[i].type === 'moof' && boxes[i + 1]?.type === 'mdat') segments.push(buf.subarray(boxes[i].start, boxes[i + 1].end));
  }
  return { init: buf.subarray(0, moov.end), segments };
}

function probeDuration(path: string): number {
  const r = spawnSync(resolveFfprobe(), ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', path], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

describe('evidence', () => {
  let dir: string;
  let frame: RawImage;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streeteye-evidence-'));
    frame = await decodeImage(await readFile(join(fixtureMedia, 'street-pedestrians-t20.jpg')));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('draws the zone and the box on a decodable JPEG', async () => {
    const zone: [number, number][] = [[0.83, 0.1], [0.95, 0.1], [0.95, 0.22], [0.83, 0.22]];
    const jpeg = await renderAnnotatedJpeg(frame, zone, [{ box: VAN_BOX, label: 'truck', score: 0.69 }], '09009 illegal_motor_parking');
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 768, height: 576, channels: 3 });
    // The box's left edge is painted red (JPEG blurs a little: sample the middle of the stroke).
    const px = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    const [r, g, b] = px(VAN_BOX.x1, 75);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(90);
    // Away from the drawing the picture is the frame itself.
    const o = (400 * 768 + 100) * 3;
    expect(Math.abs(px(100, 400)[1] - frame.rgb[o + 1])).toBeLessThan(20);
  });

  it('writes stills under <day>/<event id>/ with relative paths', async () => {
    const writer = new EvidenceWriter({ dir, logger: silentLogger });
    const paths = await writer.writeStills('ev-1', Date.UTC(2026, 10, 25, 8), frame, [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]], [{ box: VAN_BOX, label: 'car' }]);
    expect(paths).toEqual({ annotatedJpeg: '2026-11-25/ev-1/annotated.jpg', cleanJpeg: '2026-11-25/ev-1/frame.jpg' });
    const meta = await sharp(join(dir, paths.cleanJpeg!)).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 768, height: 576 });
  });

  it('turns buffered fMP4 fragments into a playable MP4 clip', async () => {
    const frag = join(dir, 'source.mp4');
    const r = spawnSync(resolveFfmpeg(), [
      '-hide_banner', '-loglevel', 'error', '-y', '-i', join(fixtureMedia, 'street-pedestrians-30s.mp4'), '-t', '4', '-an', '-c', 'copy',
      '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '500000', '-f', 'mp4', frag,
    ]);
    expect(r.status).toBe(0);
    const clip = splitFmp4(await readFile(frag));
    expect(clip.segments.length).toBeGreaterThan(0);
    const remuxed = join(dir, 'clip.mp4');
    await writeClip(clip, remuxed, { remux: true });
    expect(probeDuration(remuxed)).toBeGreaterThan(2);
    const plain = join(dir, 'clip-frag.mp4');
    await writeClip(clip, plain, { remux: false });
    expect((await stat(plain)).size).toBe(clip.init.length + clip.segments.reduce((n, s) => n + s.length, 0));
    expect(probeDuration(plain)).toBeGreaterThan(2);
  });
});
