/**
 * The composition root: every subsystem of a StreetEye node, in the order it starts, for the node's role
 * (STREETEYE_ROLE: all, api, ingest, analytics; see cluster/README.md for what each role does).
 *
 *   const node = createNode(ctx);        // constructs everything (no I/O, nothing listens)
 *   await node.start();                  // starts the entries below in order; logs "started" under each name
 *   const { app } = await buildApp(node.context);     // routes over the node's parts (once per HTTP listener)
 *   await node.stop();                   // stops them in reverse order (main.ts: on SIGTERM / SIGINT)
 *
 * A subsystem is `{ name, start(), stop() }` (interface Subsystem). Adding one (a recorder, a SIP server) is one
 * entry in `plan` inside createNode:
 *
 *   const recorder = new Recorder({ db: ctx.db, ingest: ingest.service, bus: ctx.bus, logger: ctx.logger });
 *   ...
 *   runsOn(INGESTING) && { name: 'recorder', start: () => recorder.start(), stop: () => recorder.stop() },
 *
 * and, if routes need it, one field in NodeParts (buildApp hands NodeContext = AppContext & NodeParts to plugins).
 * Put the entry after what it uses (it is stopped before them). Role decisions live here and nowhere else:
 * a subsystem's own code never asks which role the node has.
 */
import type { Logger } from 'pino';
import type { AppContext } from './context.js';
import { CameraRepo } from './inventory/camera-repo.js';
import { deriveKey } from './secrets.js';
import { Cluster } from './cluster/cluster.js';
import { createIngest } from './live/ingest-wiring.js';
import type { IngestService } from '../ingest/service.js';
import { AnalyticsService } from './analytics/service.js';
import { FleetHealth, fleetSettingsFromEnv, type FleetSettings } from './fleet/service.js';
import { AlarmWatcher } from './alarms/alarm-watcher.js';
import { OutboxWorker } from './outbox/worker.js';
import { CALLBACK_KEY_PURPOSE } from './outbox/outbox.js';
import { PtzService } from './ptz/ptz-service.js';
import { ScanManager } from './discovery/scan-manager.js';
import { startDemoFleet } from './demo-fleet.js';
import { GbService, type GbSettings } from './gb28181/service.js';
import { GbPtz } from './gb28181/ptz.js';
import { Recorder, recordingConfigFromEnv, type RecordingConfig } from './recording/recorder.js';
import { CaseTransitionFeed } from './cases/transition-feed.js';
import { desk110CaseSync } from './desk110/case-sync.js';
import type { Config } from './config.js';

/** One part of a node with a lifecycle. start() may be async; a throw stops the node's start (and what had started). */
export interface Subsystem {
  readonly name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** What route plugins get besides the AppContext: the node's subsystems (one of each per node, shared by both listeners). */
export interface NodeParts {
  cameras: CameraRepo;
  ingest: IngestService;
  analytics: AnalyticsService;
  fleet: FleetHealth;
  alarms: AlarmWatcher;
  ptz: PtzService;
  scans: ScanManager;
  outbox: OutboxWorker;
  /** GB/T 28181 access: the SIP server, the devices and their channels (started on pulling nodes when enabled) */
  gb: GbService;
  /** recording settings of this node (store id and directory; routes serve the files of this store) */
  recording: RecordingConfig;
  /** the node's recorder, where this node pulls cameras and records them (RECORDINGS not 0); undefined elsewhere */
  recorder?: Recorder;
  /** case steps, followed after commit (the 110 desk); case routes await it after each step */
  transitions: CaseTransitionFeed;
}

export type NodeContext = AppContext & NodeParts;

/** The names of the entries below (what `skip` takes). */
export type SubsystemName = 'cluster' | 'case-transitions' | 'fleet' | 'fleet.recorder' | 'ingest' | 'analytics' | 'alarms' | 'ptz' | 'discovery' | 'outbox' | 'gb28181' | 'recorder' | 'demo-fleet';

export interface NodeOptions {
  /**
   * Entries not to start (tests and benches: they start what they exercise themselves). A skipped cluster is not
   * created either: without ctx.cluster the node behaves as the single node of role all.
   */
  skip?: SubsystemName[];
  fleet?: Partial<FleetSettings>;
  alarms?: ConstructorParameters<typeof AlarmWatcher>[1];
  gb?: Partial<GbSettings>;
}

type Role = Config['role'];
/** roles whose node pulls cameras (ingest sessions owned here; alarms and health probes follow the pull) */
const PULLING: Role[] = ['all', 'ingest', 'analytics'];
/** roles that run the analytics engine on their pulled cameras */
const ANALYSING: Role[] = ['all', 'analytics'];
/** roles that run health probes */
const PROBING: Role[] = ['all', 'ingest'];
/** roles that run the GB/T 28181 SIP server (its INVITEd streams feed this node's sessions) */
const SIP: Role[] = ['all', 'ingest'];
/** roles that deliver the outbox (city hand-offs, 110 callbacks) */
const DELIVERING: Role[] = ['all', 'api'];

export class StreetEyeNode {
  private started: Subsystem[] = [];

  constructor(readonly context: NodeContext, readonly subsystems: readonly Subsystem[], private readonly logger: Logger) {}

  /** Starts every subsystem in order; if one fails, the ones already started are stopped (reverse) and the error thrown. */
  async start(): Promise<void> {
    for (const s of this.subsystems) {
      const log = this.logger.child({ module: s.name });
      try {
        await s.start();
      } catch (err) {
        log.error({ err }, 'failed to start');
        await this.stop();
        throw err;
      }
      this.started.push(s);
      log.info('started');
    }
  }

  /** Stops what was started, in reverse order; a failing stop is logged and the others still stop. */
  async stop(): Promise<void> {
    const started = this.started;
    this.started = [];
    for (const s of started.reverse()) {
      const log = this.logger.child({ module: s.name });
      try {
        await s.stop();
        log.info('stopped');
      } catch (err) {
        log.error({ err }, 'failed to stop');
      }
    }
  }
}

/** Constructs the node for ctx.config.role. Nothing starts until node.start(). */
export function createNode(ctx: AppContext, o: NodeOptions = {}): StreetEyeNode {
  const { config } = ctx;
  const runsOn = (roles: Role[]) => roles.includes(config.role);
  const skip = new Set(o.skip ?? []);
  const logger = ctx.logger as unknown as Logger;

  // Node row + heartbeat, camera leases (ingest/analytics roles) and the LISTEN/NOTIFY bridge (PostgreSQL): first,
  // because ingest asks ctx.cluster which cameras are this node's; stopped last, so leases go only once sessions are down.
  const cluster = skip.has('cluster') ? undefined : new Cluster({ config, db: ctx.db, bus: ctx.bus, logger });
  ctx.cluster = cluster;

  const cameras = new CameraRepo(deriveKey(ctx.secretKey, 'camera-credentials'));
  // the 110 desk follows the cases' steps (the cases do not know it): each 110 case step updates its incident
  const transitions = new CaseTransitionFeed(ctx);
  transitions.follow(desk110CaseSync);
  // GB/T 28181 channels are cameras without RTSP URLs: ingest asks the SIP server for their pushed streams
  const gb = new GbService(ctx, o.gb);
  // every role builds ingest: API nodes answer live requests with the owner's URL (cluster), the others pull
  const ingest = createIngest(ctx, cameras, gb);
  // StreetEye as a lower platform sends the upper the sessions this node pulls
  gb.sessions = ingest.service.manager;
  const fleet = new FleetHealth(ctx, { ...fleetSettingsFromEnv(), ...o.fleet });
  // the engine runs where cameras are pulled for analysis; elsewhere the service validates rules and serves status
  const analytics = new AnalyticsService(ctx, runsOn(ANALYSING) ? ingest.service : null);
  const alarms = new AlarmWatcher({ ...ctx, cameras }, o.alarms);
  // GB channels take PTZ through DeviceControl behind the same lock and audit as ONVIF domes
  const gbPtz = async (cameraId: string) => {
    const r = (await ctx.db.query<{ deviceId: string; channelId: string; ptzType: number | null }>(
      'SELECT device_id AS "deviceId", channel_id AS "channelId", ptz_type AS "ptzType" FROM gb_channels WHERE camera_id = $1', [cameraId])).rows[0];
    return r ? GbPtz.forChannel(gb.server, r) : undefined;
  };
  const ptz = new PtzService({ db: ctx.db, cameras, bus: ctx.bus, logger, gbPtz });
  const scans = new ScanManager({ bus: ctx.bus, logger: ctx.logger });
  const outbox = new OutboxWorker({
    db: ctx.db,
    logger: ctx.logger,
    city: config.cityWebhookUrl && config.cityWebhookSecret ? { url: config.cityWebhookUrl, secret: config.cityWebhookSecret } : undefined,
    callbackKey: deriveKey(ctx.secretKey, CALLBACK_KEY_PURPOSE),
  });

  const recording = recordingConfigFromEnv(process.env, config.dataDir);
  const recorder = new Recorder(ctx, ingest.service, recording);
  let recorderStarted: Promise<void> = Promise.resolve();

  let demo: Promise<{ stop(): Promise<void> } | undefined> = Promise.resolve(undefined);
  let forgetDemoResponder = () => {};
  const plan: Array<(Subsystem & { name: SubsystemName }) | false | undefined> = [
    cluster && { name: 'cluster', start: () => cluster.start(), stop: () => cluster.stop() },
    // on every node (every node serves the case routes): catches up at start, then wakes on case.updated (bridged too)
    { name: 'case-transitions', start: () => transitions.start(), stop: () => transitions.stop() },
    // health: every node records the sessions it runs (camera.state); probes run where cameras are pulled. Before
    // ingest, so that the first session states are heard.
    runsOn(PROBING)
      ? { name: 'fleet', start: () => fleet.start(), stop: () => fleet.stop() }
      : { name: 'fleet.recorder', start: () => fleet.recorder.start(), stop: () => fleet.recorder.stop() },
    ingest,
    {
      name: 'analytics',
      // the model warm-up continues in the background; a failure leaves the node up with analytics in state error
      start: () => analytics.start().catch((err) => {
        analytics.state = 'error';
        analytics.message = (err as Error).message;
        logger.child({ module: 'analytics' }).error({ err }, 'analytics failed to start');
      }),
      stop: () => analytics.stop(),
    },
    // the cameras' own alarms are heard where the cameras are pulled (one subscription per camera, like the pull)
    config.cameraAlarms && runsOn(PULLING) && { name: 'alarms', start: () => alarms.start(), stop: () => alarms.stop() },
    { name: 'ptz', start: () => {}, stop: () => ptz.stop() },
    { name: 'discovery', start: () => {}, stop: () => scans.stop() },
    runsOn(DELIVERING) && { name: 'outbox', start: () => outbox.start(), stop: () => outbox.stop() },
    // after ingest (its INVITEd streams feed sessions), stopped before it: BYE to every device first
    gb.settings.enabled && runsOn(SIP) && { name: 'gb28181', start: () => gb.start(), stop: () => gb.stop() },
    // records from the sessions ingest runs here (a lease per recorded camera): after ingest, stopped before it.
    // Starts in the background (the store's reconcile scans files); a failure leaves live video going.
    recording.enabled && runsOn(PULLING) && {
      name: 'recorder',
      start: () => {
        recorderStarted = recorder.start().catch((err) => logger.child({ module: 'recorder' }).error({ err }, 'recorder failed to start; live video goes on'));
      },
      stop: async () => { await recorderStarted; await recorder.stop(); },
    },
    // npm start's simulated fleet: in the background (the first start encodes pictures), the console is usable meanwhile
    config.simCameras > 0 && config.role === 'all' && {
      name: 'demo-fleet',
      start: () => {
        demo = startDemoFleet(ctx, cameras, logger).then((sim) => {
          // probe the new cameras now rather than at the checker's next pass, so the wall shows them online at once
          if (sim && !skip.has('fleet')) void fleet.checker.checkNow();
          // a default (multicast) scan finds the demo cameras even where multicast does not reach loopback
          if (sim) forgetDemoResponder = scans.registerResponder({ host: new URL(sim.cameras()[0]?.onvifUrl ?? 'http://127.0.0.1').hostname, port: sim.discoveryPort, label: '演示摄像机 demo fleet' });
          return sim;
        }, (err) => {
          logger.child({ module: 'demo-fleet' }).error({ err }, 'simulated camera fleet failed to start');
          return undefined;
        });
      },
      stop: async () => { forgetDemoResponder(); await (await demo)?.stop(); },
    },
  ];
  const subsystems = plan.filter((s): s is Subsystem & { name: SubsystemName } => Boolean(s) && !skip.has((s as Subsystem & { name: SubsystemName }).name));
  const activeRecorder = subsystems.some((s) => s.name === 'recorder') ? recorder : undefined;
  return new StreetEyeNode({ ...ctx, cameras, ingest: ingest.service, analytics, fleet, alarms, ptz, scans, outbox, gb, recording, recorder: activeRecorder, transitions }, subsystems, logger);
}
