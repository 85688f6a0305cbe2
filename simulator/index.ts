/**
 * StreetEye camera simulator: a fleet of RTSP/ONVIF cameras in one process, sharing one RTSP port,
 * one HTTP port (ONVIF + snapshots), one WS-Discovery responder and one frame scheduler.
 *
 * Picture labels: every camera up to `labelledCameras` (default 16) gets its own encode with its name
 * burnt in (one ~10-20 s encode each, cached on disk); cameras beyond share one encode labelled
 * "<prefix> fleet" and carry their name in the SDP session name, ONVIF device information and
 * WS-Discovery scopes. Encodes cost CPU once; serving costs memory per distinct encode (~15 MB), so a
 * 300-camera fleet costs 17 encodes, not 300.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import { SimCamera, type SimFault } from './camera.js';
import { startControlServer, type ControlServer } from './control-server.js';
import { EncodeQueue, safeLabel, type EncodedAssets, type EncodeSpec, type Size } from './encoder.js';
import { ALARM_KINDS, type AlarmKind, type AlarmSnapshot } from './events.js';
import { SimHttpServer } from './http-server.js';
import { loadStream, type LoadedStream } from './media.js';
import type { OnvifCameraView } from './onvif-service.js';
import { PtzState, type PtzSnapshot } from './ptz.js';
import { HttpAuth } from './rtsp-auth.js';
import { RtspServer } from './rtsp-server.js';
import { Scheduler } from './scheduler.js';
import { WsDiscoveryResponder } from './ws-discovery.js';

export type { SimFault } from './camera.js';
export type { PtzSnapshot, PtzVector } from './ptz.js';
export type { AlarmKind, AlarmSnapshot } from './events.js';
export { readClockStrip, minuteDelta } from './clock-strip.js';

export interface SimCameraInfo {
  id: string;
  name: string;
  rtspMain: string;
  rtspSub: string;
  onvifUrl: string;
  snapshotUrl: string;
  username: string;
  password: string;
  mainSize: { width: number; height: number };
  subSize: { width: number; height: number };
  /** A PTZ dome (ONVIF PTZ service; see ptzEvery). */
  ptz: boolean;
  /** What each stream sends (see h265Cameras / h265OnlyCameras). */
  mainCodec: 'h264' | 'h265';
  subCodec: 'h264' | 'h265';
}

export interface SimulatorOptions {
  cameras: number;
  /** Video file to loop; default synthetic pattern. */
  source?: string;
  /** Cache for encodes (and the secret the camera passwords derive from). */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 = ephemeral. */
  rtspPort?: number;
  /** ONVIF + snapshot; 0 = ephemeral. */
  httpPort?: number;
  /** undefined = no control server. */
  controlPort?: number;
  keyframeIntervalS?: number;
  namePrefix?: string;
  logger?: Logger;
  onProgress?: (p: { done: number; total: number; stage: string }) => void;
  /** Default 1280x720. */
  mainSize?: Size;
  /** Default 640x360. */
  subSize?: Size;
  /** Default 25; must divide into whole frames per minute. */
  fps?: number;
  /** Cameras with their own name burnt into the picture (default 16); the rest share one encode. */
  labelledCameras?: number;
  /** WS-Discovery unicast port (default 0 = ephemeral); multicast on 3702 when discoveryMulticast (default true). */
  discoveryPort?: number;
  discoveryMulticast?: boolean;
  /** Cameras whose index % ptzEvery === 0 are PTZ domes (cam001, cam005, ... with the default 4); 0 = none. */
  ptzEvery?: number;
  /** Synthetic picture (no source): `testsrc2` (default) or still `bars`. */
  pattern?: 'testsrc2' | 'bars';
  /** x264 constant quality instead of the average bitrate (see EncodeSpec.crf). */
  crf?: number;
  /**
   * Cameras that send H.265 on the main stream and H.264 on the sub stream, as most police cameras do: the last
   * h265Cameras of the fleet before the H.265-only ones (default 0).
   */
  h265Cameras?: number;
  /** Cameras that send H.265 on both streams: the last h265OnlyCameras of the fleet (default 0). */
  h265OnlyCameras?: number;
}

export interface Simulator {
  cameras(): SimCameraInfo[];
  fault(id: string, fault: SimFault): void;
  restore(id: string): void;
  /** A PTZ dome's state (null for a fixed camera); throws for an unknown id like fault(). */
  ptz(id: string): PtzSnapshot | null;
  /**
   * Raise or clear an alarm (ONVIF events: tns1:VideoSource/MotionAlarm, .../GlobalSceneChange/ImagingService).
   * A change queues a Changed message on every live subscription of the camera and answers its pending
   * PullMessages at once; the same state again does nothing. Throws for an unknown id (like fault()) or kind.
   */
  setAlarm(id: string, kind: AlarmKind, active: boolean): void;
  /** Alarm states, live pull-point subscriptions and PullMessages answered; throws for an unknown id. */
  alarms(id: string): AlarmSnapshot;
  controlUrl?: string;
  /** Where WS-Discovery probes are answered (unicast). */
  discoveryPort: number;
  /** Active RTSP sessions and scheduled streams, for benches and health. */
  stats(): { sessions: number; activeStreams: number; memoryBytes: number };
  stop(): Promise<void>;
}

function passwordSecret(dataDir: string): Buffer {
  const path = join(dataDir, 'sim-secret');
  if (existsSync(path)) return readFileSync(path);
  return Buffer.alloc(0);
}

/** Stable per-camera passwords (derived from a secret kept in dataDir) so a restart keeps inventory credentials valid. */
async function loadSecret(dataDir: string): Promise<Buffer> {
  await mkdir(dataDir, { recursive: true });
  const existing = passwordSecret(dataDir);
  if (existing.length >= 32) return existing;
  const secret = randomBytes(32);
  await writeFile(join(dataDir, 'sim-secret'), secret, { mode: 0o600 });
  return secret;
}

export function validateFleetOptions(opts: SimulatorOptions): void {
  if (!Number.isInteger(opts.cameras) || opts.cameras < 0 || opts.cameras > 2000) throw new Error('cameras must be an integer 0..2000');
  const fps = opts.fps ?? 25;
  if (!Number.isInteger(fps) || fps < 1 || fps > 60) throw new Error('fps must be an integer 1..60');
  const gop = opts.keyframeIntervalS ?? 1;
  if (!(gop > 0 && gop <= 60)) throw new Error('keyframeIntervalS must be in (0, 60]');
  const ptzEvery = opts.ptzEvery ?? 4;
  if (!Number.isInteger(ptzEvery) || ptzEvery < 0) throw new Error('ptzEvery must be a non-negative integer');
  const h265 = (opts.h265Cameras ?? 0) + (opts.h265OnlyCameras ?? 0);
  for (const [k, v] of [['h265Cameras', opts.h265Cameras ?? 0], ['h265OnlyCameras', opts.h265OnlyCameras ?? 0]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${k} must be a non-negative integer`);
  }
  if (h265 > opts.cameras) throw new Error('h265Cameras + h265OnlyCameras must not exceed cameras');
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  validateFleetOptions(opts);
  const log = (opts.logger ?? pino({ level: 'info' })).child({ module: 'sim' });
  const host = opts.host ?? '127.0.0.1';
  const fps = opts.fps ?? 25;
  const gopFrames = Math.max(1, Math.round((opts.keyframeIntervalS ?? 1) * fps));
  const mainSize = opts.mainSize ?? { width: 1280, height: 720 };
  const subSize = opts.subSize ?? { width: 640, height: 360 };
  const prefix = safeLabel(opts.namePrefix ?? 'SIM');
  const labelled = opts.labelledCameras ?? 16;
  const ptzEvery = opts.ptzEvery ?? 4;
  const source = opts.source ? resolve(opts.source) : undefined;
  if (source && !existsSync(source)) throw new Error(`source not found: ${source}`);
  const dataDir = resolve(opts.dataDir);
  const secret = await loadSecret(dataDir);
  const ffmpeg = resolveFfmpeg();
  const queue = new EncodeQueue(ffmpeg, dataDir, log);

  const idents = Array.from({ length: opts.cameras }, (_, i) => {
    const n = String(i + 1).padStart(3, '0');
    const id = `cam${n}`;
    return {
      id,
      name: `${prefix}-${n}`,
      username: 'admin',
      password: createHmac('sha256', secret).update(`${prefix}/${id}`).digest('base64url').slice(0, 16),
      index: i,
    };
  });
  const labelOf = (i: number) => (i < labelled ? idents[i].name : `${prefix} fleet`);
  const look = source ? {} : { ...(opts.pattern ? { pattern: opts.pattern } : {}), ...(opts.crf !== undefined ? { crf: opts.crf } : {}) };
  // the fleet's last cameras send H.265: first the main-stream-only ones, then those H.265 on both streams
  const h265Only = opts.h265OnlyCameras ?? 0;
  const h265Main = opts.h265Cameras ?? 0;
  const codecsOf = (i: number): { mainCodec?: 'h265'; subCodec?: 'h265' } =>
    i >= opts.cameras - h265Only ? { mainCodec: 'h265', subCodec: 'h265' } : i >= opts.cameras - h265Only - h265Main ? { mainCodec: 'h265' } : {};
  const specOf = (i: number): EncodeSpec => ({ source, label: labelOf(i), fps, gopFrames, main: mainSize, sub: subSize, snapshots: true, ...look, ...codecsOf(i) });

  // Encode every distinct picture (label and codecs; bounded queue, cached on disk), reporting progress.
  const variant = (i: number) => JSON.stringify([labelOf(i), codecsOf(i)]);
  const variants = new Map(idents.map((_, i) => [variant(i), specOf(i)] as const));
  let done = 0;
  const total = variants.size;
  opts.onProgress?.({ done, total, stage: 'encode' });
  const t0 = Date.now();
  const encoded = new Map<string, EncodedAssets>();
  await Promise.all(
    [...variants].map(async ([key, spec]) => {
      encoded.set(key, await queue.encode(spec));
      opts.onProgress?.({ done: ++done, total, stage: 'encode' });
    }),
  );
  log.info({ encodes: total, ms: Date.now() - t0 }, 'simulator media ready');

  const loaded = new Map<string, Promise<LoadedStream>>();
  const load = (path: string, size: Size) => {
    let p = loaded.get(path);
    if (!p) {
      p = loadStream(path, size, fps);
      loaded.set(path, p);
    }
    return p;
  };
  const snapshotsByDir = new Map<string, Promise<Buffer[]>>();
  const loadSnapshots = (a: EncodedAssets) => {
    let p = snapshotsByDir.get(a.dir);
    if (!p) {
      p = Promise.all(a.snapshots.map((f) => readFile(f)));
      snapshotsByDir.set(a.dir, p);
    }
    return p;
  };

  const scheduler = new Scheduler();
  const cams = new Map<string, SimCamera>();
  for (const [i, ident] of idents.entries()) {
    const a = encoded.get(variant(i))!;
    const cam = new SimCamera(ident, await load(a.main!, mainSize), await load(a.sub!, subSize), scheduler);
    cam.snapshots = await loadSnapshots(a);
    // State only, no timer: an idle (or moving) dome costs nothing until somebody asks where it is.
    if (ptzEvery > 0 && i % ptzEvery === 0) cam.ptz = new PtzState();
    cams.set(ident.id, cam);
  }

  const auth = new HttpAuth();
  const rtsp = new RtspServer({ camera: (id) => cams.get(id) }, auth, log);
  const rtspPort = await rtsp.start(host, opts.rtspPort ?? 0);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const http = new SimHttpServer(
    {
      camera: (id) => cams.get(id),
      onvifView: (cam) => onvifView(cam),
    },
    auth,
    log,
  );
  let httpPort: number;
  try {
    httpPort = await http.start(host, opts.httpPort ?? 0);
  } catch (e) {
    await rtsp.stop();
    throw e;
  }

  const info = (cam: SimCamera): SimCameraInfo => ({
    id: cam.id,
    name: cam.ident.name,
    rtspMain: `rtsp://${urlHost}:${rtspPort}/cam/${cam.id}/main`,
    rtspSub: `rtsp://${urlHost}:${rtspPort}/cam/${cam.id}/sub`,
    onvifUrl: `http://${urlHost}:${httpPort}/onvif/${cam.id}/device_service`,
    snapshotUrl: `http://${urlHost}:${httpPort}/snapshot/${cam.id}.jpg`,
    username: cam.ident.username,
    password: cam.ident.password,
    mainSize: { width: cam.streams.main.media.width, height: cam.streams.main.media.height },
    subSize: { width: cam.streams.sub.media.width, height: cam.streams.sub.media.height },
    ptz: cam.ptz !== undefined,
    mainCodec: cam.streams.main.media.codec,
    subCodec: cam.streams.sub.media.codec,
  });
  const onvifView = (cam: SimCamera): OnvifCameraView => {
    const i = info(cam);
    return {
      id: cam.id,
      name: cam.ident.name,
      index: cam.ident.index,
      creds: cam.ident,
      deviceUrl: i.onvifUrl,
      mediaUrl: `http://${urlHost}:${httpPort}/onvif/${cam.id}/media_service`,
      rtsp: { main: i.rtspMain, sub: i.rtspSub },
      snapshotUrl: i.snapshotUrl,
      main: i.mainSize,
      sub: i.subSize,
      fps,
      gopFrames,
      authRefuse: cam.faults.authRefuse,
      ptz: cam.ptz ? { state: cam.ptz, url: `http://${urlHost}:${httpPort}/onvif/${cam.id}/ptz_service` } : undefined,
      events: { state: cam.events, url: `http://${urlHost}:${httpPort}/onvif/${cam.id}/event_service`, pullPointBase: `http://${urlHost}:${httpPort}/onvif/${cam.id}/pullpoint` },
    };
  };

  const discovery = new WsDiscoveryResponder(
    () =>
      [...cams.values()]
        .filter((c) => !c.faults.offline)
        .map((c) => ({ uuid: uuidFor(secret, c.id), name: c.ident.name, xaddr: info(c).onvifUrl })),
    log,
  );
  try {
    await discovery.start(host, opts.discoveryPort ?? 0, opts.discoveryMulticast ?? true);
  } catch (e) {
    await rtsp.stop();
    await http.stop();
    throw e;
  }

  const camera = (id: string) => {
    const c = cams.get(id);
    if (!c) throw new Error(`unknown camera ${id}`);
    return c;
  };

  const fault = (id: string, f: SimFault): void => {
    const cam = camera(id);
    const flog = log.child({ camera: id });
    switch (f.kind) {
      case 'offline':
        cam.faults.offline = true;
        rtsp.killCamera(id, true);
        cam.events.endPolls('reset'); // pending PullMessages die with the camera's other connections
        break;
      case 'stall':
        cam.faults.stall = true;
        cam.events.endPolls('hang'); // and are never answered, like every other request to a stalled camera
        break;
      case 'drop':
        cam.faults.dropAfterMs = Math.max(0, f.afterMs ?? 3000);
        break;
      case 'auth-refuse':
        cam.faults.authRefuse = true;
        break;
      case 'delay':
        if (!(f.ms >= 0) || !((f.jitterMs ?? 0) >= 0)) throw new Error('delay ms and jitterMs must be >= 0');
        cam.faults.delayMs = f.ms;
        cam.faults.jitterMs = f.jitterMs ?? 0;
        break;
      case 'resolution': {
        const { width, height } = f;
        if (!Number.isInteger(width) || !Number.isInteger(height) || width < 64 || height < 36 || width > 3840 || height > 2160 || width % 2 || height % 2)
          throw new Error('resolution must be even integers within 64x36..3840x2160');
        cam.faults.resolution = { width, height };
        // Re-encoding takes seconds: the camera switches at the new stream's first keyframe once ready (same codec).
        void queue
          .encode({ ...specOf(cam.ident.index), main: { width, height }, sub: undefined, snapshots: false })
          .then((a) => load(a.main!, { width, height }))
          .then((media) => {
            const r = cam.faults.resolution;
            if (r && r.width === width && r.height === height) cam.streams.main.setMedia(media);
            flog.info({ width, height }, 'main stream resolution changed');
          })
          .catch((e: Error) => flog.error({ err: e.message }, 'resolution change failed'));
        break;
      }
      default:
        throw new Error(`unknown fault ${(f as { kind: string }).kind}`);
    }
    flog.info({ fault: f.kind }, 'fault applied');
  };

  const restore = (id: string): void => {
    const cam = camera(id);
    Object.assign(cam.faults, { offline: false, stall: false, authRefuse: false, dropAfterMs: undefined, delayMs: 0, jitterMs: 0, resolution: undefined });
    cam.streams.main.setMedia(cam.baseMain);
    log.info({ camera: id }, 'faults cleared');
  };

  const sim: Simulator = {
    cameras: () => [...cams.values()].map(info),
    fault,
    restore,
    ptz: (id) => camera(id).ptz?.snapshot() ?? null,
    setAlarm: (id, kind, active) => {
      const cam = camera(id);
      if (!ALARM_KINDS.includes(kind)) throw new Error(`alarm kind must be one of ${ALARM_KINDS.join(', ')}`);
      if (typeof active !== 'boolean') throw new Error('alarm active must be a boolean');
      if (cam.events.set(kind, active)) log.info({ camera: id, alarm: kind, active }, 'alarm changed');
    },
    alarms: (id) => camera(id).events.snapshot(),
    discoveryPort: discovery.port,
    stats: () => ({
      sessions: rtsp.sessionCount(),
      activeStreams: scheduler.activeCount,
      memoryBytes: [...new Set([...cams.values()].flatMap((c) => [c.streams.main.media, c.streams.sub.media]))].reduce((n, m) => n + m.bytes, 0),
    }),
    stop: async () => {
      // First: every pending PullMessages is answered now (a 60 s long poll must not hold up a shutdown).
      for (const cam of cams.values()) cam.events.shutdown();
      scheduler.stop();
      await control?.stop();
      discovery.stop();
      await rtsp.stop();
      await http.stop();
      log.info('simulator stopped');
    },
  };
  let control: ControlServer | undefined;
  if (opts.controlPort !== undefined) {
    try {
      control = await startControlServer(sim, host, opts.controlPort, log);
    } catch (e) {
      // A taken control port must not leave the RTSP/HTTP/discovery sockets open behind the error.
      await sim.stop();
      throw e;
    }
    sim.controlUrl = control.url;
  }
  log.info({ cameras: cams.size, rtspPort, httpPort, discoveryPort: discovery.port, control: sim.controlUrl }, 'simulator started');
  return sim;
}

function uuidFor(secret: Buffer, id: string): string {
  const h = createHmac('sha256', secret).update(`uuid/${id}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
