import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FfmpegFrameSource } from './frame-source.js';
import { fixtureMedia, silentLogger } from './test-helpers.js';

const clip = join(fixtureMedia, 'street-pedestrians-30s.mp4');

describe('ffmpeg frame source', () => {
  it('samples a file at N fps with video timestamps and RGB frames of the right size', async () => {
    const src = new FfmpegFrameSource({ cameraId: 'c', input: { kind: 'file', path: clip }, rate: 2, baseTs: 1000, logger: silentLogger });
    const frames = [];
    for await (const f of src.frames()) frames.push(f);
    expect(frames).toHaveLength(60);
    expect(frames[0]).toMatchObject({ cameraId: 'c', width: 768, height: 576 });
    expect(frames[0].rgb.length).toBe(768 * 576 * 3);
    expect(frames[1].ts - frames[0].ts).toBe(500);
    expect(frames[59].ts - frames[0].ts).toBe(29_500);
    // Real picture content, not a blank buffer.
    expect(new Set(frames[10].rgb.subarray(0, 3000)).size).toBeGreaterThan(20);
  });

  it('decodes keyframes only, and stops ffmpeg when the consumer leaves early', async () => {
    const keys = new FfmpegFrameSource({ cameraId: 'c', input: { kind: 'file', path: clip }, rate: 'keyframes', width: 384, height: 288, baseTs: 0, logger: silentLogger });
    const ts: number[] = [];
    for await (const f of keys.frames()) {
      expect(f.width).toBe(384);
      ts.push(f.ts);
    }
    expect(ts.length).toBeGreaterThanOrEqual(1);
    expect(ts.length).toBeLessThan(300);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);

    const early = new FfmpegFrameSource({ cameraId: 'c', input: { kind: 'file', path: clip }, rate: 10, logger: silentLogger });
    let n = 0;
    for await (const _ of early.frames()) if (++n === 3) break;
    expect(n).toBe(3);
  });

  it('refuses inputs other than rtsp(s) URLs for live sources', () => {
    const src = new FfmpegFrameSource({ cameraId: 'c', input: { kind: 'rtsp', url: 'concat:/etc/passwd' }, rate: 1, logger: silentLogger });
    expect(() => src.args()).toThrow(/rtsp/);
    const ok = new FfmpegFrameSource({ cameraId: 'c', input: { kind: 'rtsp', url: 'rtsp://10.0.0.5/sub' }, rate: 1, logger: silentLogger });
    expect(ok.args()).toEqual(expect.arrayContaining(['-protocol_whitelist', 'rtsp,rtsps,tcp,udp,tls,rtp', '-rtsp_transport', 'tcp']));
  });
});
