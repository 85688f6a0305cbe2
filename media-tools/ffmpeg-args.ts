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
