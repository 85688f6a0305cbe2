/**
 * The native engine against an RTSP server we did not write: GStreamer's gst-rtsp-server (Debian packages
 * gstreamer1.0-rtsp, python3-gi, gir1.2-gst-rtsp-server-1.0 + the x264/x265 encoders; .ci/run installs them), started
 * here by a small python3 script on an ephemeral port with Digest auth. H.264 and H.265, TCP and UDP; every output is
 * checked by decoding it with ffmpeg. Skipped — loudly — only where those Debian packages are absent, and never on CI (test/third-party-peers.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCheck, pullFragments, writeTemp } from './test-helpers.js';
import { thirdPartyPeer } from '../test/third-party-peers.js';

const PY = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'testing', 'gst-rtsp-server.py');
const probe = spawnSync(PY, ['-c', "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"], { encoding: 'utf8' });
const available = thirdPartyPeer('gst-rtsp-server', probe.status === 0,
  'apt-get install gstreamer1.0-rtsp python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav');

const servers: ChildProcess[] = [];
async function startGst(codec: 'h264' | 'h265'): Promise<string> {
  const child = spawn(PY, ['-u', SCRIPT, codec, 'viewer', 'gst-Secret'], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`gst-rtsp-server did not start: ${err}`)), 20_000);
    child.stdout!.once('data', (d: Buffer) => {
      clearTimeout(t);
      resolve(Number(d.toString().trim()));
    });
    child.once('exit', (code) => reject(new Error(`gst-rtsp-server exited (${code}): ${err}`)));
  });
  return `rtsp://127.0.0.1:${port}/test`;
}

let urls: Record<'h264' | 'h265', string>;
beforeAll(async () => {
  if (!available) return;
  urls = { h264: await startGst('h264'), h265: await startGst('h265') };
});
afterAll(() => {
  for (const c of servers) if (c.exitCode === null) c.kill('SIGTERM');
});

describe.skipIf(!available)('native engine against gst-rtsp-server (third party)', () => {
  for (const codec of ['h264', 'h265'] as const) {
    for (const transport of ['tcp', 'udp'] as const) {
      it(`${codec.toUpperCase()} over ${transport.toUpperCase()} with Digest: decodes cleanly`, async () => {
        const { inits, frags, ended, transport: settled } = await pullFragments({ source: { url: urls[codec], username: 'viewer', password: 'gst-Secret' }, transport }, 40);
        expect(ended).toBeUndefined();
        expect(settled).toBe(transport);
        expect(inits.length).toBeGreaterThanOrEqual(1);
        expect(inits[0].track.codec).toMatch(codec === 'h264' ? /^avc1\.[0-9A-F]{6}$/ : /^hvc1\.1\.6\.L\d+\.[0-9A-F.]+$/);
        expect(inits[0].track).toMatchObject({ width: 320, height: 240, sampleEntry: codec === 'h264' ? 'avc1' : 'hvc1' });
        const d = await decodeCheck(writeTemp(`gst-${codec}-${transport}.mp4`, Buffer.concat([inits[0].data, ...frags.slice(0, 40).map((f) => f.data)])));
        expect(d.errors).toBe('');
        expect(d).toMatchObject({ codec: codec === 'h264' ? 'h264' : 'hevc', frames: 40, width: 320, height: 240 });
      }, 60_000);
    }
  }
});
