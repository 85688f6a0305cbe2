import { wallApi, type LiveUrls } from './wall-api';
import type { StreamKind } from './types';

/**
 * Which URL a tile plays, by what this browser can decode. The stream's codec (RFC 6381: `avc1.64001F`,
 * `hvc1.1.6.L120.90`) comes from the live API when its session already runs, else from the master playlist's CODECS;
 * MediaSource.isTypeSupported says whether the browser plays it. Where it cannot (H.265 on most desktop Chromium):
 *   1. the camera's other stream, the sub stream, when the tile asked for the main one and the sub stream plays here;
 *   2. else the server's H.264 transcode of the stream (the sub stream where there is one: a smaller picture, a
 *      cheaper transcode), within the node's transcode budget;
 *   3. past that budget: a CannotPlayError that the tile shows as it is (浏览器不支持 H.265，转码名额已满), and tries
 *      again later (a place may free up), never a black tile.
 * A codec that cannot be learnt (an old server, a master playlist that fails) is played as before: hls.js says why.
 */

export type Via = 'direct' | 'sub' | 'transcode';

export interface SourceChoice {
  live: LiveUrls;
  /** the media playlist to load */
  url: string;
  via: Via;
  /** the stream whose picture is played (the sub stream when the main one cannot play here) */
  stream: StreamKind;
  /** the codec of what is played, when known */
  codec?: string;
  /** the keyframe-only rendition is used (a transcode is always the full stream) */
  keyframes: boolean;
}

/** The stream cannot play in this browser and the server cannot transcode it now (or at all). */
export class CannotPlayError extends Error {
  constructor(message: string, readonly reason: 'transcode_budget' | 'no_transcode' | 'transcode_failed') {
    super(message);
    this.name = 'CannotPlayError';
  }
}

export interface ChoiceDeps {
  live(cameraId: string, stream: StreamKind, signal?: AbortSignal): Promise<LiveUrls>;
  fetch(url: string, init: { signal?: AbortSignal }): Promise<{ ok: boolean; status: number; text(): Promise<string> }>;
  canPlay(codec: string): boolean;
}

export function browserCanPlay(codec: string): boolean {
  const type = `video/mp4; codecs="${codec}"`;
  const g = globalThis as unknown as { MediaSource?: { isTypeSupported(t: string): boolean }; ManagedMediaSource?: { isTypeSupported(t: string): boolean } };
  const ms = g.MediaSource ?? g.ManagedMediaSource;
  return !!ms && ms.isTypeSupported(type);
}

const defaultDeps: ChoiceDeps = {
  live: (id, stream, signal) => wallApi.live(id, stream, signal),
  fetch: (url, init) => fetch(url, { signal: init.signal, credentials: 'omit' }),
  canPlay: browserCanPlay,
};

/** CODECS="…" of the first variant of a multivariant playlist. */
export function codecsOfMaster(text: string): string | undefined {
  const m = /#EXT-X-STREAM-INF:[^\n]*CODECS="([^"]+)"/.exec(text);
  return m?.[1].split(',')[0].trim() || undefined;
}

async function codecOf(live: LiveUrls, deps: ChoiceDeps, signal?: AbortSignal): Promise<string | undefined> {
  if (live.codec) return live.codec;
  if (!live.masterUrl) return undefined;
  try {
    const r = await deps.fetch(live.masterUrl, { signal });
    return r.ok ? codecsOfMaster(await r.text()) : undefined;
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    return undefined;
  }
}

const pick = (live: LiveUrls, keyframes: boolean) => (keyframes && live.keyframesUrl ? live.keyframesUrl : live.url);

export async function chooseSource(cameraId: string, stream: StreamKind, keyframes: boolean, signal?: AbortSignal, deps: ChoiceDeps = defaultDeps): Promise<SourceChoice> {
  const live = await deps.live(cameraId, stream, signal);
  const codec = await codecOf(live, deps, signal);
  if (!codec || deps.canPlay(codec)) return { live, url: pick(live, keyframes && !!live.keyframesUrl), via: 'direct', stream, codec, keyframes: keyframes && !!live.keyframesUrl };
  let target = live;
  let targetStream = stream;
  if (stream === 'main' && live.streams?.includes('sub')) {
    const sub = await deps.live(cameraId, 'sub', signal);
    const subCodec = await codecOf(sub, deps, signal);
    if (subCodec && deps.canPlay(subCodec)) return { live: sub, url: pick(sub, keyframes && !!sub.keyframesUrl), via: 'sub', stream: 'sub', codec: subCodec, keyframes: keyframes && !!sub.keyframesUrl };
    target = sub;
    targetStream = 'sub';
  }
  const name = codec.startsWith('hvc1') || codec.startsWith('hev1') ? 'H.265' : codec;
  if (!target.transcodeUrl) throw new CannotPlayError(`浏览器不支持 ${name}，服务器无转码 / cannot play here: ${name}, and this server cannot transcode`, 'no_transcode');
  // ask for the transcode once before handing it to the player: a refusal (the budget) is read and shown as it is
  const r = await deps.fetch(target.transcodeUrl, { signal });
  if (!r.ok) {
    let body: { reason?: string; zh?: string; en?: string; message?: string } = {};
    try { body = JSON.parse(await r.text()) as typeof body; } catch { /* not JSON */ }
    if (r.status === 503 && body.reason === 'transcode_budget') {
      throw new CannotPlayError(`${body.zh ?? `浏览器不支持 ${name}，转码名额已满`} / ${body.en ?? `cannot play here: ${name}, transcode budget full`}`, 'transcode_budget');
    }
    throw new CannotPlayError(`浏览器不支持 ${name}，转码未就绪 / cannot play here: ${name}, transcode not ready (HTTP ${r.status}${body.message ? `: ${body.message}` : ''})`, 'transcode_failed');
  }
  return { live: target, url: target.transcodeUrl, via: 'transcode', stream: targetStream, codec: 'avc1', keyframes: false };
}
