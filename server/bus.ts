import { EventEmitter } from 'node:events';
import type { CameraStateEvent } from '../ingest/session-manager.js';
import type { OnvifAlarm } from '../onvif/events.js';
import type { UserAccessPayload } from '../ingest/live-access.js';

/**
 * Every topic on the node's bus, with its payload. This is the one place a topic is declared: publish<K> and
 * subscribe<K> are typed from it, and the PostgreSQL bridge (cluster/bus-bridge.ts) delivers only topics named here.
 * Messages with a cameraId are filtered by the WebSocket push for restricted cameras (http/live-push.ts);
 * camera.changed and user.access never reach consoles (they are for subsystems).
 */
export interface BusTopics {
  /** An ingest session's state (ingest/session-manager.ts); the fleet HealthRecorder writes camera health from it. */
  'camera.state': CameraStateEvent;
  /** The camera-level status derived from its streams or a probe (fleet/health-recorder.ts). */
  'camera.status': { status: string; reason: string | null };
  /** A health probe's result (fleet/health-recorder.ts). */
  'camera.health': {
    cameraId: string; status: string; reason: string | null; reachable: boolean; clockDriftMs: number | null; method: string;
    checkedAt: string; statusWritten: boolean;
  };
  /** A camera's own alarm opened or closed (alarms/alarm-watcher.ts). */
  'camera.alarm': CameraAlarmPayload;
  /** Who holds a camera's PTZ controls (ptz/routes.ts). */
  'camera.ptz': { cameraId: string; controller: { userId: string; username: string; role: string; until: string } | null };
  /** Inventory rows changed: always the ids, and what kind of change (publishCameraChange below). */
  'camera.changed': CameraChange;
  /** A user's access may have narrowed (disabled, role changed: users/routes.ts): live media re-checks at once (ingest/live-access.ts). */
  'user.access': UserAccessPayload;
  /** A discovery scan's progress (discovery/scan-manager.ts). */
  'discovery.progress': { scanId: string; state: string; progress: Record<string, number>; found: number; message: string | null };
  /** Model warm-up progress, then the engine's state (analytics/service.ts). */
  'analytics.progress': { model: string; done: number; total: number } | { state: string; message: string | null };
  /** Rules of a camera (or all, with the classification) changed: nodes running the engine reload them. */
  'analytics.rules': { cameraId: string | null; eventTypes?: boolean };
  /** A rejection: the rule raises nothing in the same place within its cooldown, on every node. */
  'analytics.suppress': { ruleId: string; cameraId: string; box: Box | null };
  /** A new candidate event (one per stay) and its later updates (analytics/service.ts). */
  'event.candidate': CandidatePayload;
  'event.updated': CandidatePayload;
  /** A candidate confirmed (→ case) or rejected (review/routes.ts). */
  'event.reviewed': { id: string; status: 'confirmed'; caseNo: string | null } | { id: string; status: 'rejected'; reason: string };
  /** A case filed or moved one step (cases/). */
  'case.updated': { id: string; caseNo: string; status: string; action: string };
  /** A 110 incident arrived, or its status changed (desk110/). */
  'incident.created': {
    id: string; ticketNo: string; cameraId: string | null; categoryName: string; eventType: string | null; address: string | null; at: string;
    /** the 110 category code is not in the map yet: the desk classifies it (POST /api/110/incidents/:ticket/classify) */
    unclassified?: boolean;
  };
  /** eventType: set when a desk user classified an unclassified incident */
  'incident.updated': { id: string; ticketNo: string; status: string; at: string; caseNo: string | null; eventType?: string | null };
  /** A GB/T 28181 device went online or offline (gb28181/service.ts). */
  'gb.device': { deviceId: string; online: boolean; reason: string | null };
  /** A technician added, edited (password, enabled) or deleted a GB/T 28181 device (gb28181/routes.ts): SIP nodes forget its cached credentials. */
  'gb.device.changed': { deviceId: string };
  /** A GB/T 28181 catalog was imported, or catalog events (ON, OFF, DEL, ...) applied. */
  'gb.catalog': { deviceId: string; total?: number; removed?: number; events?: Array<{ channelId: string; event: string }> };
  /** What a camera records changed (recording/routes.ts): the recorder of the node pulling it re-reads the settings. */
  'recording.settings': { cameraId: string; mode: string };
  /** A node-level alert for the fleet view: a camera's recording failed (disk full, not writable, store full) or recovered (recording/recorder.ts). */
  'fleet.alert': { kind: 'recording_failed'; node: string; cameraId: string; reason: string | null; active: boolean; at: string };
}

export type BusTopic = keyof BusTopics;

/** The names, for checks at run time (the bridge drops what another node's version sends and this one does not know). */
export const BUS_TOPICS: ReadonlySet<BusTopic> = new Set<BusTopic>([
  'camera.state', 'camera.status', 'camera.health', 'camera.alarm', 'camera.ptz', 'camera.changed', 'discovery.progress',
  'analytics.progress', 'analytics.rules', 'analytics.suppress', 'event.candidate', 'event.updated', 'event.reviewed',
  'case.updated', 'incident.created', 'incident.updated', 'gb.device', 'gb.device.changed', 'gb.catalog', 'recording.settings', 'fleet.alert', 'user.access',
] satisfies Array<BusTopic> as BusTopic[]);

interface Box { x1: number; y1: number; x2: number; y2: number }

export interface CameraAlarmPayload {
  cameraId: string;
  alarmId: number;
  kind: OnvifAlarm['kind'];
  topic: string;
  active: boolean;
  startedAt: string;
  endedAt: string | null;
  /** what the device said of it, where it says something (GB/T 28181 AlarmDescription) */
  description?: string;
  /** why the alarm is raised, where StreetEye raises it itself (recording failures: disk full, not writable) */
  reason?: string;
}

export interface CandidatePayload {
  kind: 'opened' | 'updated' | 'closed' | 'evidence';
  id: string;
  cameraId: string;
  ruleId?: string;
  eventType?: string;
  eventCode?: string | null;
  title?: string;
  label?: string;
  score?: number;
  count?: number;
  box?: Box;
  firstSeen?: number;
  lastSeen?: number;
  closedAt?: number | null;
  evidence?: unknown;
}

/**
 * What happened to cameras in the inventory. `created`/`updated` may have touched stream URLs or credentials (ingest
 * compares and reconnects), `sharing` changed only who sees them, `deleted` rows are gone.
 */
export interface CameraChange {
  kind: 'created' | 'updated' | 'sharing' | 'deleted';
  ids: string[];
  /** the cameras' sharing after the change, when it is the same for all of them and known */
  sharing?: 'shared' | 'restricted';
}

/** One message on the bus: its topic, its payload, and the camera it concerns (for the WebSocket's visibility filter). */
export type BusMessage<K extends BusTopic = BusTopic> = K extends BusTopic
  ? { topic: K; payload: BusTopics[K]; cameraId?: string; /** set on messages from another node (bus bridge) */ origin?: string }
  : never;

/** In-process pub/sub between subsystems and the WebSocket push; cluster/bus-bridge.ts carries it across nodes. */
export class Bus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish<K extends BusTopic>(topic: K, payload: BusTopics[K], cameraId?: string): void {
    this.emitter.emit('message', { topic, payload, cameraId } as BusMessage<K>);
  }

  /** A message that came from another node (see cluster/bus-bridge.ts): delivered here, not sent on. */
  deliver(msg: BusMessage & { origin: string }): void {
    this.emitter.emit('message', msg);
  }

  /** Every message (the WebSocket push, the bridge); narrow with `msg.topic === '…'`. */
  subscribe(fn: (msg: BusMessage) => void): () => void;
  /** The messages of one topic. */
  subscribe<K extends BusTopic>(topic: K, fn: (msg: BusMessage<K>) => void): () => void;
  subscribe<K extends BusTopic>(a: K | ((msg: BusMessage) => void), b?: (msg: BusMessage<K>) => void): () => void {
    const fn: (msg: BusMessage) => void = typeof a === 'function' ? a : (msg) => { if (msg.topic === a) b!(msg as BusMessage<K>); };
    this.emitter.on('message', fn);
    return () => this.emitter.off('message', fn);
  }
}

/**
 * NOTIFY payloads are limited to 8000 bytes: a change to thousands of cameras (a CSV import) goes out as several
 * messages of at most this many ids, so every node hears every id.
 */
export const CAMERA_CHANGE_CHUNK = 100;

/** Announces changed cameras: one message per camera carries its id as cameraId too; many go out in chunks. */
export function publishCameraChange(bus: Bus, change: CameraChange): void {
  if (!change.ids.length) return;
  if (change.ids.length === 1) {
    bus.publish('camera.changed', change, change.ids[0]);
    return;
  }
  for (let i = 0; i < change.ids.length; i += CAMERA_CHANGE_CHUNK) {
    bus.publish('camera.changed', { ...change, ids: change.ids.slice(i, i + CAMERA_CHANGE_CHUNK) });
  }
}
