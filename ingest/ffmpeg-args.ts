/** The ffmpeg argument array for one camera stream: RTSP in, `-c copy` fragmented MP4 out on stdout. */
import { urlWithCredentials, validateRtspUrl, type RtspSource } from './rtsp-url.js';

/** Protocols the rtsp demuxer may open underneath (TCP interleaved, TLS for rtsps, UDP/RTP if the server insists). */
export const PROTOCOL_WHITELIST = 'rtsp,rtsps,tcp,tls,udp,rtp';

export interface IngestArgsOptions {
  /** fMP4 fragment (LL-HLS part) duration, microseconds */
  fragDurationUs?: number;
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
    '-protocol_whitelist', PROTOCOL_WHITELIST,
    '-f', 'rtsp',
    '-rtsp_transport', 'tcp',
    '-probesize', '32768',
    '-analyzeduration', '0',
    '-i', urlWithCredentials(checked),
    '-map', '0:v:0',
    '-c', 'copy',
    '-f', 'mp4',
    '-movflags', '+frag_keyframe+empty_moov+default_base_moof',
    '-frag_duration', String(Math.round(opts.fragDurationUs ?? 250_000)),
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
