import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveFfmpeg } from './ffmpeg-path.js';
import { FMP4_PER_FRAME_MOVFLAGS } from './ffmpeg-args.js';
import { RgbDecoder, type DecodedFrame } from './rgb-decoder.js';

/** 4 s of ffmpeg's test pattern (320x240, 10 fps, 1 s GOP) as fragmented MP4, the shape ingest sessions write. */
function testPatternFmp4(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:d=4',
      '-c:v', 'libx264', '-preset', 'veryfast', '-g', '10', '-pix_fmt', 'yuv420p', '-f', 'mp4', '-movflags', FMP4_PER_FRAME_MOVFLAGS, 'pipe:1']);
    const out: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exited ${code}`))));
  });
}

describe('RGB decoder (analytics sources and the frame tap)', () => {
  it('decodes fMP4 fed on stdin at N fps to frames of the asked size, as the frame tap runs it', async () => {
    const frames: DecodedFrame[] = [];
    const d = new RgbDecoder(resolveFfmpeg(), {
      inputOptions: ['-f', 'mp4'], input: 'pipe:0', feed: true, rate: 2, size: { width: 160, height: 120 }, vsync: 'vfr',
    }, (f) => frames.push(f));
    d.write(await testPatternFmp4());
    d.end(); // end of input: ffmpeg decodes the rest and exits
    const exit = await d.closed;
    expect(exit.error).toBeUndefined();
    expect(frames.length).toBeGreaterThanOrEqual(7);
    expect(frames.length).toBeLessThanOrEqual(9);
    for (const f of frames) expect(f).toMatchObject({ width: 160, height: 120, ptsMs: null });
    expect(frames[0].rgb.length).toBe(160 * 120 * 3);
    expect(new Set(frames[3].rgb.subarray(0, 3000)).size).toBeGreaterThan(20); // a picture, not a blank buffer
  });

  it('reads sizes and presentation times from showinfo when asked', async () => {
    const frames: DecodedFrame[] = [];
    const d = new RgbDecoder(resolveFfmpeg(), { inputOptions: ['-f', 'lavfi'], input: 'testsrc2=size=96x64:rate=10:d=2', rate: 5, timestamps: true }, (f) => frames.push(f));
    expect((await d.closed).code).toBe(0);
    expect(frames).toHaveLength(10);
    expect(frames[0]).toMatchObject({ width: 96, height: 64 });
    expect(frames[1].ptsMs! - frames[0].ptsMs!).toBe(200);
  });
});
