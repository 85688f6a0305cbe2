/**
 * A camera stream that is not pulled by ffmpeg over RTSP but pushed to it: StreetEye receives the media itself
 * (GB/T 28181: INVITEd PS over RTP, demuxed in gb28181/) and hands ffmpeg a clean MPEG program stream on stdin
 * to remux (`-c copy`) into the same fragmented MP4 as the RTSP path. Until the native fMP4 muxer lands this is the
 * bridge into the session pipeline; the demuxed access units are what a native muxer would take instead.
 */
import type { Readable } from 'node:stream';

export interface PipeFeed {
  /** the bytes for ffmpeg's stdin; 'end' = the stream is over (the session reconnects), 'error' = it failed */
  readable: Readable;
  /** stop receiving and tell the sender (GB: BYE); idempotent */
  close(): Promise<void>;
}

export interface PipeSource {
  kind: 'pipe';
  /** ffmpeg demuxer of what `readable` carries */
  format: 'mpeg';
  /** for logs: what this is, without secrets */
  label: string;
  /** start the stream (GB: INVITE); throws PipeOpenError when the sender refuses or does not answer */
  open(): Promise<PipeFeed>;
}

export class PipeOpenError extends Error {
  constructor(message: string, readonly kind: 'network' | 'fatal' | 'transient' = 'network') {
    super(message);
    this.name = 'PipeOpenError';
  }
}

export function isPipeSource(s: unknown): s is PipeSource {
  return typeof s === 'object' && s !== null && (s as PipeSource).kind === 'pipe';
}
