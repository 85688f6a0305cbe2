/**
 * ffmpeg argument pieces every layer builds on (ingest's pull, analytics' frame sources, the frame tap, the benches).
 * Arguments are always arrays handed to spawn(), never a shell line.
 */

/** Protocols the rtsp demuxer may open underneath (TCP interleaved, TLS for rtsps, UDP/RTP if the server insists). */
export const RTSP_PROTOCOL_WHITELIST = 'rtsp,rtsps,tcp,udp,tls,rtp';

/**
 * Input options for an RTSP URL: forced through the rtsp demuxer with the whitelist, so no file, concat, lavfi,
 * http or pipe input can be opened whatever the URL says; interleaved over TCP. The caller has validated the URL.
 */
export function rtspInputOptions(): string[] {
  return ['-protocol_whitelist', RTSP_PROTOCOL_WHITELIST, '-f', 'rtsp', '-rtsp_transport', 'tcp'];
}

/**
 * Fragmented MP4 as StreetEye's sessions write it: one fragment per frame, written as soon as the frame is complete
 * (StreetEye groups frames into LL-HLS parts itself, so the first part can be the first keyframe).
 */
export const FMP4_PER_FRAME_MOVFLAGS = '+frag_every_frame+empty_moov+default_base_moof';

/**
 * A live H.264 rendition of a stream the browser cannot play (H.265): the session's own fMP4 on stdin (never a second
 * camera pull), libx264 `veryfast`/`zerolatency` (no B-frames, no lookahead), a keyframe every `gopFrames` frames
 * (the source's GOP, so segments line up with the source's), at most `maxWidth` wide, per-frame fMP4 on stdout like
 * the sessions'. Every value is a number the caller computed: no user string reaches this command line.
 */
export function transcodeH264Args(o: { gopFrames: number; maxWidth: number; crf?: number }): string[] {
  const gop = String(Math.max(1, Math.min(600, Math.round(o.gopFrames))));
  const width = Math.max(64, Math.round(o.maxWidth / 2) * 2);
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error',
    '-protocol_whitelist', 'pipe',
    '-probesize', '32768', '-analyzeduration', '0', '-fflags', 'nobuffer',
    '-f', 'mp4', '-i', 'pipe:0',
    '-map', '0:v:0', '-an',
    '-vf', `scale='min(${width},iw)':-2`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency',
    '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-crf', String(Math.round(o.crf ?? 26)),
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-bf', '0',
    '-f', 'mp4', '-movflags', FMP4_PER_FRAME_MOVFLAGS,
    'pipe:1',
  ];
}
