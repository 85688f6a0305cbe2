/**
 * The ffmpeg argument array for one camera stream: RTSP in, `-c copy` fragmented MP4 out on stdout. The pieces other
 * layers share (the RTSP input's whitelist, the per-frame fMP4 flags) are media-tools/ffmpeg-args.ts.
 */
import { FMP4_PER_FRAME_MOVFLAGS, RTSP_PROTOCOL_WHITELIST, rtspInputOptions } from '../media-tools/ffmpeg-args.js';
import { urlWithCredentials, validateRtspUrl, type RtspSource } from './rtsp-url.js';

/** Protocols the rtsp demuxer may open underneath (media-tools/ffmpeg-args.ts). */
export const PROTOCOL_WHITELIST = RTSP_PROTOCOL_WHITELIST;

export interface IngestArgsOptions {
  /**
   * Bytes ffmpeg reads to probe the stream before it starts writing. Small = fast start (the SDP's
   * sprop-parameter-sets already give the codec and size); the session retries with a bigger value when a
   * camera needs in-band parameters.
   */
  probeSize?: number;
  loglevel?: 'error' | 'warning' | 'info';
}

/**
 * Arguments for `spawn(ffmpeg, args)`. The input is validated again here (rtsp/rtsps only) and forced through
 * the rtsp demuxer with a protocol whitelist: no file, concat, lavfi, http or pipe input can ever be opened.
 * stdin stays open: ffmpeg reads `q` from it to stop cleanly (RTSP TEARDOWN).
 */
export function buildIngestArgs(src: RtspSource, opts: IngestArgsOptions = {}): string[] {
  const checked = validateRtspUrl(src.url, { username: src.username, password: src.password });
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel', opts.loglevel ?? 'error',
    ...rtspInputOptions(),
    '-probesize', String(Math.max(32, Math.round(opts.probeSize ?? 4096))),
    '-analyzeduration', '0',
    '-i', urlWithCredentials(checked),
    '-map', '0:v:0',
    '-c', 'copy',
    '-f', 'mp4',
    // one fragment per frame: StreetEye groups frames into LL-HLS parts itself (part boundaries follow its own target)
    '-movflags', FMP4_PER_FRAME_MOVFLAGS,
    'pipe:1',
  ];
}

/**
 * Arguments for a pushed stream (see pipe-source.ts): a program stream on stdin, remuxed like the RTSP path. Only
 * the pipe protocol is allowed; the input format is forced, never probed from the bytes.
 */
export function buildPipeIngestArgs(format: 'mpeg', opts: IngestArgsOptions = {}): string[] {
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel', opts.loglevel ?? 'error',
    '-protocol_whitelist', 'pipe',
    '-f', format,
    '-probesize', String(Math.max(2048, Math.round(opts.probeSize ?? 32768))),
    '-analyzeduration', '0',
    '-i', 'pipe:0',
    '-map', '0:v:0',
    '-c', 'copy',
    '-f', 'mp4',
    '-movflags', FMP4_PER_FRAME_MOVFLAGS,
    'pipe:1',
  ];
}

/** Decode the first frame of an fMP4 (init + independent part) from stdin to one JPEG on stdout. */
export function buildSnapshotArgs(opts: { maxWidth?: number; quality?: number } = {}): string[] {
  const args = ['-hide_banner', '-nostats', '-loglevel', 'error', '-protocol_whitelist', 'pipe', '-f', 'mp4', '-i', 'pipe:0', '-frames:v', '1', '-an'];
  if (opts.maxWidth) args.push('-vf', `scale='min(${Math.round(opts.maxWidth)},iw)':-2`);
  args.push('-q:v', String(opts.quality ?? 4), '-f', 'image2pipe', '-c:v', 'mjpeg', 'pipe:1');
  return args;
}
