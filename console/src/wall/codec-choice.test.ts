import { describe, expect, it } from 'vitest';
import { CannotPlayError, chooseSource, codecsOfMaster, type ChoiceDeps } from './codec-choice';
import type { LiveUrls } from './wall-api';
import type { StreamKind } from './types';

// The decision alone (the browser test console/e2e/h265.test.ts plays it in Chromium): a browser without H.265.
const H265 = 'hvc1.1.6.L120.90';
const H264 = 'avc1.64001F';

function deps(codecs: Record<StreamKind, string>, transcode: { status: number; body?: unknown } = { status: 200 }): ChoiceDeps & { asked: string[] } {
  const asked: string[] = [];
  const live = (stream: StreamKind): LiveUrls => ({
    url: `/live/c/${stream}/t/index.m3u8`, masterUrl: `/live/c/${stream}/t/master.m3u8`, keyframesUrl: `/live/c/${stream}/t/keyframes.m3u8`,
    transcodeUrl: `/live/c/${stream}/t/transcode.m3u8`, expiresAt: '2030-01-01T00:00:00Z', streams: ['sub', 'main'],
  });
  return {
    asked,
    live: async (_id, stream) => live(stream),
    fetch: async (url) => {
      asked.push(url);
      const stream = url.split('/')[3] as StreamKind;
      if (url.endsWith('master.m3u8')) return { ok: true, status: 200, text: async () => `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="${codecs[stream]}",RESOLUTION=1x1\nindex.m3u8\n` };
      return { ok: transcode.status === 200, status: transcode.status, text: async () => JSON.stringify(transcode.body ?? {}) };
    },
    canPlay: (c) => c.startsWith('avc1'),
  };
}

describe('codec choice', () => {
  it('reads CODECS from a master playlist', () => {
    expect(codecsOfMaster(`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2400000,CODECS="${H265}",RESOLUTION=1920x1080\nindex.m3u8\n`)).toBe(H265);
    expect(codecsOfMaster('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nindex.m3u8\n')).toBeUndefined();
  });

  it('plays what the browser can, keyframes included', async () => {
    const c = await chooseSource('c', 'sub', true, undefined, deps({ main: H265, sub: H264 }));
    expect(c).toMatchObject({ via: 'direct', stream: 'sub', url: '/live/c/sub/t/keyframes.m3u8', keyframes: true, codec: H264 });
  });

  it('takes the H.264 sub stream for an H.265 main stream', async () => {
    const c = await chooseSource('c', 'main', false, undefined, deps({ main: H265, sub: H264 }));
    expect(c).toMatchObject({ via: 'sub', stream: 'sub', url: '/live/c/sub/t/index.m3u8' });
  });

  it('asks for the transcode of the sub stream when both streams are H.265', async () => {
    const d = deps({ main: H265, sub: H265 });
    const c = await chooseSource('c', 'main', true, undefined, d);
    expect(c).toMatchObject({ via: 'transcode', stream: 'sub', url: '/live/c/sub/t/transcode.m3u8', keyframes: false });
    expect(d.asked).toContain('/live/c/sub/t/transcode.m3u8');
  });

  it('says why when the transcode budget is full', async () => {
    const d = deps({ main: H265, sub: H265 }, { status: 503, body: { reason: 'transcode_budget', zh: '浏览器不支持 H.265，转码名额已满（4 路）', en: 'this browser cannot play H.265 and this node already runs its 4 transcodes' } });
    const e = await chooseSource('c', 'sub', false, undefined, d).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CannotPlayError);
    expect((e as CannotPlayError).reason).toBe('transcode_budget');
    expect((e as Error).message).toContain('转码名额已满');
  });
});
