/**
 * Drives hls.js in a real Chromium page to play a recording (tests and bench:record): load a VOD playlist, seek to a
 * wall-clock time, and read the simulator's burnt-in clock strip of the frame on screen.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page functions run in the browser, outside Node's types */
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { readClockStrip } from '../../simulator/clock-strip.js';

const require = createRequire(import.meta.url);
export const HLS_JS_PATH = require.resolve('hls.js/dist/hls.min.js');

export interface FrameReading {
  /** ms within the minute burnt into the frame on screen (null: unreadable) */
  stripMs: number | null;
  /** wall-clock ms the player believes it shows (playlist PDT + currentTime) */
  playerWallMs: number | null;
}

/** Put hls.js and a <video> on the page (any page of the server's origin). */
export async function preparePlayer(page: Page): Promise<void> {
  // tsx/esbuild (keepNames) wraps functions in __name(): give the page one, as a string so nothing transforms it
  await page.evaluate('globalThis.__name = globalThis.__name || ((f) => f)');
  await page.addScriptTag({ path: HLS_JS_PATH });
  await page.evaluate(() => {
    (globalThis as any).document.body.innerHTML = '<video id="v" muted playsinline style="width:640px;height:360px"></video>';
  });
}

/** Load `url` and wait until a frame at `seekWallMs` (or the playlist's start) is painted; returns ms taken. */
export async function loadAndShow(page: Page, url: string, timeoutMs = 20_000): Promise<number> {
  return page.evaluate(({ src, timeout }) => new Promise<number>((resolve, reject) => {
    const w = globalThis as unknown as { Hls: any; hls?: any };
    const video = (globalThis as any).document.getElementById('v');
    w.hls?.destroy();
    const t0 = performance.now();
    const hls = new w.Hls({ enableWorker: false, startPosition: -1, maxBufferLength: 8 });
    w.hls = hls;
    const timer = setTimeout(() => reject(new Error('no frame within the timeout')), timeout);
    hls.on(w.Hls.Events.ERROR, (_: unknown, d: { fatal: boolean; details: string }) => { if (d.fatal) { clearTimeout(timer); reject(new Error(`hls.js: ${d.details}`)); } });
    video.addEventListener('seeked', function onSeeked() {
      video.removeEventListener('seeked', onSeeked);
    });
    const done = () => { clearTimeout(timer); video.pause(); resolve(performance.now() - t0); };
    video.addEventListener('playing', () => (video.requestVideoFrameCallback ? video.requestVideoFrameCallback(done) : done()), { once: true });
    hls.loadSource(src);
    hls.attachMedia(video);
    hls.on(w.Hls.Events.MANIFEST_PARSED, () => void video.play().catch(() => {}));
  }), { src: url, timeout: timeoutMs });
}

/** Seek the loaded player to a wall-clock time; resolves with ms until the new frame is painted. */
export async function seekTo(page: Page, wallMs: number, timeoutMs = 20_000): Promise<number> {
  return page.evaluate(({ at, timeout }) => new Promise<number>((resolve, reject) => {
    const w = globalThis as unknown as { hls: any };
    const video = (globalThis as any).document.getElementById('v');
    const frags = w.hls.levels[0].details.fragments as Array<{ start: number; programDateTime: number | null }>;
    // the playlist's timeline is the wall clock: PDT of the first fragment + position
    const first = frags.find((f) => f.programDateTime !== null)!;
    const pos = (at - first.programDateTime!) / 1000 + first.start;
    const t0 = performance.now();
    const timer = setTimeout(() => reject(new Error('seek timed out')), timeout);
    video.addEventListener('seeked', () => {
      // the first frame presented after the seek (rVFC fires on presentation; the video plays until then)
      const done = () => { clearTimeout(timer); video.pause(); resolve(performance.now() - t0); };
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(done);
      else done();
    }, { once: true });
    void video.play().catch(() => {});
    video.currentTime = pos;
  }), { at: wallMs, timeout: timeoutMs });
}

/** Read the frame on screen: the clock strip, and the wall time the player thinks it shows (a console page's own
 * player: pass its <video>'s selector; the player's wall time is then null). */
export async function readFrame(page: Page, selector = '#v'): Promise<FrameReading> {
  const fr = await page.evaluate((sel) => {
    const w = globalThis as unknown as { hls: any };
    const video = (globalThis as any).document.querySelector(sel);
    if (!video) return null;
    const cw = video.videoWidth;
    const ch = video.videoHeight;
    if (!cw || !ch) return null;
    const c = (globalThis as any).document.createElement('canvas');
    c.width = cw;
    c.height = ch;
    const g = c.getContext('2d')!;
    g.drawImage(video, 0, 0, cw, ch);
    const px = g.getImageData(0, 0, cw, ch).data;
    const gray = new Uint8Array(cw * ch);
    for (let i = 0; i < cw * ch; i++) gray[i] = (px[i * 4] * 299 + px[i * 4 + 1] * 587 + px[i * 4 + 2] * 114) / 1000;
    let bin = '';
    for (let i = 0; i < gray.length; i += 0x8000) bin += String.fromCharCode(...gray.subarray(i, i + 0x8000));
    const frags = w.hls?.levels?.[0]?.details?.fragments as Array<{ start: number; programDateTime: number | null }> | undefined;
    const first = frags?.find((f) => f.programDateTime !== null);
    const wall = first ? first.programDateTime! + (video.currentTime - first.start) * 1000 : null;
    return { w: cw, h: ch, gray: (globalThis as any).btoa(bin), wall: sel === '#v' ? wall : null };
  }, selector);
  if (!fr) return { stripMs: null, playerWallMs: null };
  return { stripMs: readClockStrip(Buffer.from(fr.gray, 'base64'), fr.w, fr.h, 1), playerWallMs: fr.wall };
}
