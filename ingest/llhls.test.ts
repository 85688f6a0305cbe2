import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { Fmp4Parser, type Fragment, type InitSegment } from './fmp4.js';
import { LlhlsMuxer } from './llhls-muxer.js';
import { resolveFfprobe } from '../media-tools/ffmpeg-path.js';
import { fragmentedMp4, oneSecondGopFixture, run } from './test-fixtures.js';

function parse(text: string) {
  const p = new Parser();
  const warnings: string[] = [];
  p.on('warn', (w) => warnings.push(w.message));
  p.push(text);
  p.end();
  return { manifest: p.manifest, warnings };
}

function split(data: Buffer, chunk = 4093): { init?: InitSegment; fragments: Fragment[] } {
  const out: { init?: InitSegment; fragments: Fragment[] } = { fragments: [] };
  const parser = new Fmp4Parser({ onInit: (i) => (out.init = i), onFragment: (f) => out.fragments.push(f) });
  for (let i = 0; i < data.length; i += chunk) parser.push(data.subarray(i, i + chunk)); // odd chunking crosses box edges
  return out;
}

describe('fMP4 parser and LL-HLS muxer (real ffmpeg output)', () => {
  let fmp4: Buffer;
  beforeAll(async () => {
    fmp4 = await fragmentedMp4(await oneSecondGopFixture());
  });

  it('finds the init segment, fragments, decode times and keyframes', () => {
    const { init, fragments } = split(fmp4);
    expect(init).toBeDefined();
    expect(init!.track.codec).toMatch(/^avc1\.[0-9a-f]{6}$/);
    expect(init!.track.width).toBe(768);
    expect(init!.track.height).toBe(576);
    expect(fragments.length).toBe(80); // one fragment per frame (frag_every_frame, as ingest runs ffmpeg)
    // 8 s at 10 fps = 80 frames; 1 s GOP = 8 keyframes
    expect(fragments.reduce((a, f) => a + f.sampleCount, 0)).toBe(80);
    expect(fragments.filter((f) => f.independent).length).toBe(8);
    expect(fragments.reduce((a, f) => a + f.keyframes, 0)).toBe(8);
    // decode times are contiguous: each fragment starts where the previous one ended
    for (let i = 1; i < fragments.length; i++)
      expect(fragments[i].baseDecodeTime).toBe(fragments[i - 1].baseDecodeTime + fragments[i - 1].duration);
    const total = fragments.reduce((a, f) => a + f.duration, 0) / fragments[0].timescale;
    expect(total).toBeCloseTo(8, 1);
  });

  it('cuts parts and keyframe segments, serves a valid LL-HLS playlist and playable media', async () => {
    const { init, fragments } = split(fmp4);
    const mux = new LlhlsMuxer({ partTargetS: 0.3, minSegmentS: 1, windowSegments: 5 });
    mux.setInit(init!);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    fragments.forEach((f, i) => mux.pushFragment(f, t0 + i * 250));

    const { manifest, warnings } = parse(mux.playlist());
    expect(warnings).toEqual([]);
    expect(manifest.serverControl.canBlockReload).toBe(true);
    expect(manifest.serverControl.partHoldBack).toBeGreaterThanOrEqual(3 * manifest.partTargetDuration - 1e-9);
    expect(manifest.partTargetDuration).toBeGreaterThanOrEqual(0.3);
    expect(manifest.targetDuration).toBe(1);
    // fast start: segment 0 is the first keyframe alone, segment 1 the rest of that GOP; then 1 s segments:
    // 9 segments, 8 complete (the last is open), the window keeps 5
    expect(manifest.mediaSequence).toBe(3);
    expect(manifest.segments.length).toBe(5);
    for (const s of manifest.segments) {
      expect(s.duration).toBeCloseTo(1, 2);
      expect(s.map.uri).toBe('init0.mp4');
      expect(s.dateTimeString).toMatch(/^2026-01-01T/);
    }
    // recent segments list their parts; every part fits PART-TARGET; the first part of a segment is independent
    const withParts = manifest.segments.filter((s: { parts?: unknown[] }) => s.parts?.length);
    expect(withParts.length).toBeGreaterThan(0);
    for (const s of withParts) {
      expect(s.parts[0].independent).toBe(true);
      for (const p of s.parts) expect(p.duration).toBeLessThanOrEqual(manifest.partTargetDuration + 1e-9);
      expect(s.parts.reduce((a: number, p: { duration: number }) => a + p.duration, 0)).toBeCloseTo(s.duration, 3);
    }
    // the open segment: parts + a preload hint for the next part
    expect(manifest.preloadSegment.parts.length).toBeGreaterThan(0);
    // parts are numbered across segments; the hint names the next number, wherever that part will land
    const uris = [...manifest.segments.flatMap((s: { parts?: { uri: string }[] }) => s.parts ?? []), ...manifest.preloadSegment.parts].map((p: { uri: string }) => p.uri);
    const seqs = uris.map((u: string) => Number(/^part(\d+)\.m4s$/.exec(u)![1]));
    seqs.forEach((n: number, i: number) => i && expect(n).toBe(seqs[i - 1] + 1));
    expect(manifest.preloadSegment.preloadHints[0]).toMatchObject({ type: 'PART', uri: `part${seqs.at(-1)! + 1}.m4s` });

    // blocking semantics
    expect(mux.has(7)).toBe(true);
    expect(mux.has(8)).toBe(false);
    expect(mux.has(8, 0)).toBe(true);
    expect(mux.has(8, 9)).toBe(false);
    expect(await mux.waitFor(8, 9, 50)).toBe('timeout');
    expect(mux.getSegment(7)!.duration).toBeCloseTo(1, 5);

    // the media decodes: init + the listed segments through ffprobe
    const dir = mkdtempSync(join(tmpdir(), 'llhls-'));
    try {
      const body = Buffer.concat([mux.getInit(0)!, ...[3, 4, 5, 6, 7].map((m) => Buffer.concat(mux.getSegment(m)!.parts.map((p) => p.data)))]);
      writeFileSync(join(dir, 'x.mp4'), body);
      const r = await run(resolveFfprobe(), ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', join(dir, 'x.mp4')]);
      expect(r.stderr).toBe('');
      expect(Number(r.stdout.toString().trim())).toBe(50);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('unblocks a waiting reload when the part arrives, and bounds memory', async () => {
    const { init, fragments } = split(fmp4);
    const mux = new LlhlsMuxer({ partTargetS: 0.2, minSegmentS: 1, windowSegments: 3, maxBytes: 400_000 });
    mux.setInit(init!);
    mux.pushFragment(fragments[0]);
    // fast start: the first keyframe alone is the first part, and a complete segment (players need one)
    expect(mux.getSegment(0)?.parts.map((p) => p.duration)).toEqual([0.1]);
    let i = 1;
    const waiting = mux.waitFor(1, 0, 5000);
    mux.pushFragment(fragments[i++]);
    expect(mux.has(1, 0)).toBe(false); // 0.1 s of a 0.2 s part: not published yet
    mux.pushFragment(fragments[i++]);
    expect(await waiting).toBe('ok');
    expect(mux.getPart(1, 0)?.duration).toBeCloseTo(0.2, 5);
    expect(mux.getPart(1, 0)?.independent).toBe(false); // the continuation segment starts mid-GOP
    expect(mux.playlist()).not.toContain('#EXT-X-INDEPENDENT-SEGMENTS');
    const next = mux.getPart(1, 0)!.seq + 1;
    const hint = mux.waitForPart(next, 5000);
    mux.pushFragment(fragments[i++]);
    mux.pushFragment(fragments[i++]);
    expect((await hint)?.index).toBe(1);
    for (const f of fragments.slice(i, 10)) mux.pushFragment(f);
    i = 10;
    mux.pushFragment(fragments[i++]); // the keyframe: flushes the last part of segment 1 and starts the next part
    // the part hinted while segment 1 is still open turns out to open segment 2: it is published all the same
    const boundary = /URI="part(\d+)\.m4s"/.exec(mux.playlist().split('#EXT-X-PRELOAD-HINT')[1])![1];
    expect(mux.getSegment(1)).toBeUndefined();
    const hinted = mux.waitForPart(Number(boundary), 5000);
    mux.pushFragment(fragments[i++]); // the next keyframe's part closes the continuation segment whatever its length
    expect(mux.getSegment(1)?.duration).toBeCloseTo(0.9, 5);
    expect(await hinted).toMatchObject({ msn: 2, index: 0, independent: true });
    for (const f of fragments.slice(i)) mux.pushFragment(f);
    expect(mux.heldBytes).toBeLessThanOrEqual(400_000 + 200_000); // cap + the open segment
    expect(mux.range!.first).toBeGreaterThanOrEqual(3);
    // a part beyond the hint is refused at once, and one that left the window is gone
    const last = mux.lastPart!.seq;
    expect(await mux.waitForPart(last + 2, 1000)).toBeUndefined();
    expect(await mux.waitForPart(next - 1, 1000)).toBeUndefined(); // segment 1's first part
  });

  it('marks a restart (new init) as a discontinuity and serves delta updates', () => {
    const { init, fragments } = split(fmp4);
    const mux = new LlhlsMuxer({ minSegmentS: 1, windowSegments: 12 });
    mux.setInit(init!);
    for (const f of fragments) mux.pushFragment(f);
    mux.endOfStream();
    mux.setInit(init!);
    for (const f of fragments) mux.pushFragment(f);
    const full = parse(mux.playlist()).manifest;
    const disc = full.segments.findIndex((s: { discontinuity?: boolean }) => s.discontinuity);
    expect(full.mediaSequence + disc).toBe(9); // the first segment after the restart
    expect(full.discontinuitySequence ?? 0).toBe(0);
    expect(full.segments[disc].map.uri).toBe('init1.mp4');
    expect(full.serverControl.canSkipUntil).toBe(6);
    // a delta update may not skip across the discontinuity here: it falls back to the full playlist
    expect(parse(mux.playlist({ skip: true })).manifest.skip).toBeUndefined();
    // without one, the old segments are skipped
    const mux2 = new LlhlsMuxer({ minSegmentS: 1, windowSegments: 12 });
    mux2.setInit(init!);
    for (const f of fragments) mux2.pushFragment(f);
    mux2.endOfStream();
    const delta = parse(mux2.playlist({ skip: true })).manifest;
    expect(delta.skip.skippedSegments).toBeGreaterThanOrEqual(1); // 8 s listed, only ~6 s must stay
    expect(delta.skip.skippedSegments + delta.segments.length).toBe(9);
    expect(delta.mediaSequence).toBe(0);
  });
});
