/** The ingest subsystem of a node: session manager + snapshots + settings, with start/stop. */
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { assertFfmpegUsable, type FfmpegCheck } from '../media-tools/ffmpeg-check.js';
import type { Log } from './log.js';
import type { MediaEngine, RtspSource } from './rtsp-url.js';
import type { RtpTransport } from '../media/rtsp/client.js';
import type { PipeSource } from './pipe-source.js';
import { SessionManager, type CameraStateEvent } from './session-manager.js';
import { SnapshotService } from './snapshot.js';
import { Transcoder } from './transcode-rendition.js';
import type { StreamKind } from './camera-session.js';
import { envNumber as num } from '../lib/env.js';

export interface IngestSettings {
  maxSessions: number;
  idleGraceMs: number;
  viewerTtlMs: number;
  watchdogMs: number;
  connectTimeoutMs: number;
  /** lifetime of a signed live URL */
  liveUrlTtlS: number;
  /** how long a first playlist request waits for a starting camera */
  startWaitMs: number;
  windowSegments: number;
  maxBytesPerStream: number;
  /** LL-HLS part target, seconds */
  partTargetS: number;
  /** engine for cameras whose source names none (a camera's own setting wins) */
  engine: MediaEngine;
  /** native engine: RTP over tcp (interleaved), udp, or auto (udp, then tcp when no packet arrives) */
  rtpTransport: RtpTransport;
  /** H.264 transcodes (for browsers without H.265) this node runs at once; 0 switches them off */
  transcodeMaxSessions: number;
}

/** INGEST_* environment variables (all optional). */
export function ingestSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): IngestSettings {
  return {
    maxSessions: num(env, 'INGEST_MAX_SESSIONS', 200, 1, 10_000),
    idleGraceMs: num(env, 'INGEST_IDLE_GRACE_S', 30, 0, 3600) * 1000,
    viewerTtlMs: num(env, 'INGEST_VIEWER_TTL_S', 15, 2, 600) * 1000,
    watchdogMs: num(env, 'INGEST_WATCHDOG_S', 10, 1, 600) * 1000,
    connectTimeoutMs: num(env, 'INGEST_CONNECT_TIMEOUT_S', 15, 1, 600) * 1000,
    liveUrlTtlS: num(env, 'LIVE_URL_TTL_S', 3600, 10, 7 * 86400),
    startWaitMs: num(env, 'INGEST_START_WAIT_S', 10, 1, 120) * 1000,
    windowSegments: num(env, 'LLHLS_WINDOW_SEGMENTS', 12, 3, 120),
    maxBytesPerStream: num(env, 'LLHLS_MAX_MB_PER_STREAM', 24, 1, 1024) * 1024 * 1024,
    partTargetS: num(env, 'LLHLS_PART_MS', 200, 100, 2000) / 1000,
    engine: env.INGEST_ENGINE === 'ffmpeg' ? 'ffmpeg' : 'native',
    rtpTransport: env.INGEST_RTP_TRANSPORT === 'udp' || env.INGEST_RTP_TRANSPORT === 'auto' ? env.INGEST_RTP_TRANSPORT : 'tcp',
    transcodeMaxSessions: num(env, 'TRANSCODE_MAX_SESSIONS', 4, 0, 256),
  };
}

export interface IngestServiceOptions {
  logger: Log;
  settings?: Partial<IngestSettings>;
  ffmpegPath?: string;
  resolveSource: (cameraId: string, stream: StreamKind) => Promise<RtspSource | PipeSource>;
  /** camera state changes and periodic stats (publish to consoles, write camera health) */
  onState?: (ev: CameraStateEvent) => void;
  /** cluster fencing: may this node pull the camera now? (default: yes) */
  admit?: (cameraId: string) => boolean;
}

export class IngestService {
  readonly settings: IngestSettings;
  readonly manager: SessionManager;
  readonly snapshots: SnapshotService;
  /** H.264 renditions of streams a browser cannot play (H.265), within the node's transcode budget */
  readonly transcoder: Transcoder;
  readonly ffmpegPath: string;
  private readonly log: Log;
  ffmpeg?: FfmpegCheck;

  constructor(o: IngestServiceOptions) {
    this.settings = { ...ingestSettingsFromEnv({}), ...o.settings };
    this.ffmpegPath = o.ffmpegPath ?? resolveFfmpeg();
    this.log = o.logger.child({ module: 'ingest' });
    const s = this.settings;
    this.manager = new SessionManager({
      ffmpegPath: this.ffmpegPath,
      logger: o.logger,
      resolveSource: o.resolveSource,
      maxSessions: s.maxSessions,
      admit: o.admit,
      idleGraceMs: s.idleGraceMs,
      viewerTtlMs: s.viewerTtlMs,
      session: {
        watchdogMs: s.watchdogMs,
        connectTimeoutMs: s.connectTimeoutMs,
        engine: s.engine,
        rtpTransport: s.rtpTransport,
        muxer: { windowSegments: s.windowSegments, maxBytes: s.maxBytesPerStream, partTargetS: s.partTargetS },
      },
    });
    if (o.onState) this.manager.on('state', o.onState);
    this.snapshots = new SnapshotService({ ffmpegPath: this.ffmpegPath, logger: o.logger });
    // a transcode outlives its last request by a viewer's TTL, like a viewer of the session itself
    this.transcoder = new Transcoder({ ffmpegPath: this.ffmpegPath, logger: o.logger, maxSessions: s.transcodeMaxSessions, idleMs: s.viewerTtlMs });
  }

  /** Check ffmpeg (muxers, demuxers, codecs, protocols); throws when it cannot do the job. */
  async start(): Promise<void> {
    this.ffmpeg = await assertFfmpegUsable(this.ffmpegPath);
    this.log.info({ ffmpeg: this.ffmpeg.path, version: this.ffmpeg.version, warnings: this.ffmpeg.warnings }, 'ingest ready');
  }

  async stop(): Promise<void> {
    this.transcoder.stop();
    await this.manager.stop();
  }
}
