/**
 * Ingest: one RTSP pull per camera stream (ffmpeg `-c copy` → fMP4 on a pipe), shared by every consumer, and
 * an in-process LL-HLS relay with signed, expiring URLs.
 *
 *   (the server's wiring, inventory sources, bus and access log, is server/live/ingest-wiring.ts: ingest/ imports
 *   nothing from server/)
 *   subsystem ............ service.ts      IngestService { manager, snapshots, settings, start(), stop() }
 *   sessions ............. session-manager.ts (refcounted consumers, idle grace, pin, node limit → SessionLimitError)
 *                          camera-session.ts (ffmpeg supervision: states, watchdog, backoff, q → SIGTERM → SIGKILL)
 *   LL-HLS ............... fmp4.ts (box parser), llhls-muxer.ts (parts/segments window), llhls-playlist.ts (text)
 *   HTTP ................. live-routes.ts (GET /api/cameras/:id/live, /snapshot, /live/… signed playlist + media)
 *   safety ............... rtsp-url.ts (rtsp/rtsps only, credentials out of logs), ffmpeg-args.ts, signed-url.ts
 *   ffmpeg ............... ../media-tools/ (ffmpeg-path.ts: FFMPEG_PATH → PATH → npm; ffmpeg-check.ts: muxer/demuxer self-check;
 *                          ffmpeg-args.ts: shared argument pieces; rgb-decoder.ts: the RGB decoder frame-tap.ts runs)
 *   snapshots ............ snapshot.ts (latest keyframe → JPEG, else the camera's URI), onvif-snapshot.ts
 *
 * Consumers other than viewers (analytics, evidence) take a lease on the session and read its fMP4:
 *   const lease = ingest.manager.acquire(cameraId, 'sub', 'analytics');   // or manager.pin(cameraId)
 *   lease.session.muxer.getInit(lease.session.muxer.currentInitId); lease.session.muxer.on('part', (p) => …);
 *   lease.release();
 * frame-tap.ts does exactly that for decoded analytics frames.
 */
export { IngestService, ingestSettingsFromEnv, type IngestSettings, type IngestServiceOptions } from './service.js';
export { SessionManager, SessionLimitError, type CameraStateEvent, type Lease, type SessionManagerOptions } from './session-manager.js';
export { CameraSession, classifyFfmpegError, type CameraState, type StreamKind, type SessionStats, type CameraSessionOptions } from './camera-session.js';
export { LlhlsMuxer, type Part, type Segment, type LlhlsMuxerOptions } from './llhls-muxer.js';
export { renderPlaylist } from './llhls-playlist.js';
export { Fmp4Parser, parseMoov, parseMoof, type Fragment, type InitSegment, type TrackInfo } from './fmp4.js';
export { liveRoutes, type LiveRoutesOptions, type LiveCamera } from './live-routes.js';
export { signLiveToken, verifyLiveToken, type LiveGrant } from './signed-url.js';
export { validateRtspUrl, redactUrl, redactText, InvalidCameraUrlError, type RtspSource } from './rtsp-url.js';
export { buildIngestArgs, buildSnapshotArgs, PROTOCOL_WHITELIST } from './ffmpeg-args.js';
export { checkFfmpeg, assertFfmpegUsable, type FfmpegCheck } from '../media-tools/ffmpeg-check.js';
export { resolveFfmpeg, resolveFfprobe } from '../media-tools/ffmpeg-path.js';
export { SnapshotService, SnapshotUnavailableError } from './snapshot.js';
export { getSnapshotUri, SnapshotUriCache } from './onvif-snapshot.js';
export { silentLog, type Log } from './log.js';
