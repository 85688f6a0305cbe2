/**
 * The GB/T 28181 subsystem of a node: the SIP server (gb28181/server.ts), what its events mean for the database
 * (device registrations and online state, catalogs, channel status, alarms) and for the consoles (bus), and live
 * media: a PipeSource per approved channel for the ingest session pipeline (INVITE → PS over RTP → demuxed access
 * units → clean PS into ffmpeg `-c copy` → the same fMP4 / LL-HLS sessions as RTSP cameras).
 *
 *   const gb = new GbService(ctx);  await gb.start();   // server/node.ts entry 'gb28181' (GB28181_ENABLED, default on); tests start it themselves
 */
import { PassThrough } from 'node:stream';
import { networkInterfaces } from 'node:os';
import type { AppContext } from '../context.js';
import { deriveKey } from '../secrets.js';
import { ConfigError, envNumber } from '../config.js';
import { GbServer, GbError, type Dialog, type GbAlarm, type Registration } from '../../gb28181/server.js';
import { RtpPsReceiver } from '../../gb28181/media-receiver.js';
import { buildOfferSdp, makeSsrc, parseSdp, type MediaTransport } from '../../gb28181/sdp.js';
import { muxPsFrame, type AccessUnit } from '../../gb28181/ps.js';
import type { CatalogItem } from '../../gb28181/catalog.js';
import { PipeOpenError, type PipeFeed, type PipeSource } from '../../ingest/pipe-source.js';
import { GbRepo } from './repo.js';
import { DeviceCredentialCache, type DeviceCredentials } from './credential-cache.js';
import { RegistrationBatch } from './registration-batch.js';
import { GbPlayback } from './playback.js';
import { resolveFfmpeg } from '../../media-tools/ffmpeg-path.js';
import { GbCascade, cascadeSettingsFromEnv, type CascadeSettings } from './cascade.js';
import type { SessionManager } from '../../ingest/session-manager.js';

export interface GbSettings {
  enabled: boolean;
  serverId: string;
  realm: string;
  sipHost: string;
  sipPort: number;
  /** the address devices use to reach us (SIP Via/Contact and the SDP c= line) */
  advertiseHost: string;
  /** the platform-wide password (devices without their own) */
  password?: string;
  /** register devices that are not in gb_devices yet (with the platform password) */
  acceptNew: boolean;
  keepaliveTimeoutMs: number;
  mediaTransport: MediaTransport;
  rtpPorts: [number, number];
  ratePerAddress: number;
  inviteTimeoutMs: number;
  /** StreetEye as a lower platform of this upper (GB28181_UPPER_*), or null */
  cascade: CascadeSettings | null;
}

function firstIpv4(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/** GB28181_* environment variables. */
export function gbSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): GbSettings {
  const serverId = env.GB28181_SERVER_ID?.trim() || '34020000002000000001';
  if (!/^\d{20}$/.test(serverId)) throw new ConfigError(`GB28181_SERVER_ID must be 20 digits, got "${serverId}"`);
  const realm = env.GB28181_REALM?.trim() || serverId.slice(0, 10);
  if (!/^\d{10,20}$/.test(realm)) throw new ConfigError('GB28181_REALM must be 10 to 20 digits');
  const password = env.GB28181_PASSWORD || undefined;
  if (password !== undefined && (password.length < 6 || password.length > 64)) throw new ConfigError('GB28181_PASSWORD must be 6 to 64 characters');
  const transport = (env.GB28181_MEDIA_TRANSPORT || 'udp') as MediaTransport;
  if (!['udp', 'tcp-passive', 'tcp-active'].includes(transport)) throw new ConfigError('GB28181_MEDIA_TRANSPORT must be udp, tcp-passive or tcp-active');
  const ports = (env.GB28181_RTP_PORTS || '30000-30499').trim();
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(ports);
  const range: [number, number] = ports === '0' ? [0, 0] : m ? [Number(m[1]), Number(m[2])] : [-1, -1];
  if (range[0] < 0 || range[1] > 65535 || range[0] > range[1]) throw new ConfigError('GB28181_RTP_PORTS must be a range like 30000-30499 (or 0 for ephemeral ports)');
  return {
    enabled: !['0', 'false', 'no', 'off'].includes((env.GB28181_ENABLED ?? '').toLowerCase()),
    serverId,
    realm,
    sipHost: env.GB28181_SIP_HOST || '0.0.0.0',
    sipPort: envNumber(env, 'GB28181_SIP_PORT', 5060, 0, 65535),
    advertiseHost: env.GB28181_ADVERTISE_HOST || firstIpv4(),
    password,
    acceptNew: ['1', 'true', 'yes', 'on'].includes((env.GB28181_ACCEPT_NEW ?? '').toLowerCase()),
    keepaliveTimeoutMs: envNumber(env, 'GB28181_KEEPALIVE_TIMEOUT_S', 180, 1, 3600) * 1000,
    mediaTransport: transport,
    rtpPorts: range,
    ratePerAddress: envNumber(env, 'GB28181_RATE_PER_ADDRESS', 0, 0, 1_000_000),
    inviteTimeoutMs: envNumber(env, 'GB28181_INVITE_TIMEOUT_S', 8, 1, 60) * 1000,
    cascade: cascadeSettingsFromEnv(env, serverId),
  };
}

/** GB alarm method/type (2016 A.2.5.3, appendix D) → camera_alarms.kind. */
export function alarmKind(a: Pick<GbAlarm, 'method' | 'type'>): 'motion' | 'tamper' | 'video_loss' | 'other' {
  if (a.method === 2 && a.type === 1) return 'video_loss';
  if (a.method === 2 && a.type === 2) return 'tamper';
  if (a.method === 5 && (a.type === 2 || a.type === 6)) return 'motion';
  if (a.method === 5 && a.type === 11) return 'tamper';
  return 'other';
}

/** devices whose DeviceInfo/Catalog/SUBSCRIBE follow-up may start per second (after a registration) */
const FOLLOW_UPS_PER_S = 100;

interface Shared {
  key: string;
  deviceId: string;
  channelId: string;
  dialog?: Dialog;
  receiver?: RtpPsReceiver;
  feeds: Set<{ out: PassThrough; needKey: boolean }>;
  opening?: Promise<void>;
  closed: boolean;
}

export class GbService {
  readonly settings: GbSettings;
  readonly server: GbServer;
  readonly repo: GbRepo;
  /** playback of the devices' own recordings (RecordInfo, s=Playback, MANSRTSP) */
  readonly playback: GbPlayback;
  private readonly log: AppContext['logger'];
  private readonly shared = new Map<string, Shared>();
  private readonly keepaliveSeen = new Map<string, Date>();
  private flushTimer?: NodeJS.Timeout;
  private ssrcCounter = Math.floor(Math.random() * 9000);
  private started = false;
  /** catalog imports in flight per device (one at a time) */
  private readonly importing = new Map<string, Promise<unknown>>();
  private readonly credentials: DeviceCredentialCache;
  private readonly registrationRows: RegistrationBatch;
  private offChanged?: () => void;
  /** the node's sessions (server/node.ts sets them): what the cascade sends to the upper platform */
  sessions?: SessionManager;
  /** StreetEye as a lower platform, when GB28181_UPPER_* configure it and the node pulls cameras */
  cascade?: GbCascade;

  constructor(private readonly ctx: AppContext, settings?: Partial<GbSettings>) {
    this.settings = { ...gbSettingsFromEnv(), ...settings };
    this.repo = new GbRepo(deriveKey(ctx.secretKey, 'gb28181-passwords'));
    this.credentials = new DeviceCredentialCache((deviceId) => this.repo.credentials(ctx.db, deviceId));
    this.registrationRows = new RegistrationBatch((rows) => this.repo.registeredMany(ctx.db, rows, { insertNew: this.settings.acceptNew }));
    this.log = ctx.logger.child({ module: 'gb28181' });
    const s = this.settings;
    this.server = new GbServer({
      serverId: s.serverId,
      realm: s.realm,
      host: s.sipHost,
      port: s.sipPort,
      advertiseHost: s.advertiseHost,
      log: this.log,
      keepaliveTimeoutMs: s.keepaliveTimeoutMs,
      ratePerAddress: s.ratePerAddress,
      authorize: async (deviceId) => {
        const password = this.passwordFor(await this.credentials.get(deviceId));
        return password ? { password } : null;
      },
    });
    this.playback = new GbPlayback({
      server: this.server, ffmpegPath: resolveFfmpeg(), log: this.log, serverId: s.serverId, advertiseHost: s.advertiseHost,
      bindHost: s.sipHost, mediaTransport: s.mediaTransport, rtpPorts: s.rtpPorts, inviteTimeoutMs: s.inviteTimeoutMs,
    });
    this.server.on('registered', (reg: Registration) => void this.onRegistered(reg).catch((err) => this.log.warn({ err, device: reg.deviceId }, 'GB28181 registration bookkeeping failed')));
    this.server.on('refreshed', (reg: Registration) => void this.registrationRows.add(this.regRow(reg)).catch(() => {}));
    this.server.on('online', (reg: Registration) => void this.deviceState(reg.deviceId, true, null));
    this.server.on('offline', (reg: Registration, reason: string) => void this.deviceState(reg.deviceId, false, reason));
    this.server.on('keepalive', (reg: Registration) => this.keepaliveSeen.set(reg.deviceId, new Date()));
    this.server.on('catalogEvents', (deviceId: string, items: CatalogItem[]) => void this.onCatalogEvents(deviceId, items).catch((err) => this.log.warn({ err, device: deviceId }, 'GB28181 catalog events not applied')));
    this.server.on('alarm', (deviceId: string, a: GbAlarm) => void this.onAlarm(deviceId, a).catch((err) => this.log.warn({ err, device: deviceId }, 'GB28181 alarm not recorded')));
    this.server.on('bye', (d: Dialog) => this.onDeviceBye(d));
  }

  get counters(): Record<string, number> {
    return this.server.counters;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.server.start();
    this.playback.start();
    if (this.settings.cascade && this.sessions) {
      const cascade = new GbCascade(this.ctx, this.settings.cascade, { manager: this.sessions, advertiseHost: this.settings.advertiseHost, bindHost: this.settings.sipHost });
      // a cascade that cannot bind its SIP port is logged; the receiving platform goes on
      await cascade.start().then(() => { this.cascade = cascade; }, (err) => this.log.error({ err }, 'GB28181 cascade to the upper platform not started'));
    }
    // a technician's edit or delete of a device (any node) takes effect at its next REGISTER, not a TTL later
    this.offChanged = this.ctx.bus.subscribe('gb.device.changed', (m) => void this.onDeviceChanged(m.payload.deviceId));
    // devices registered before a restart must register again: nobody is online until they do
    await this.ctx.db.query("UPDATE gb_devices SET online = false, status_reason = 'StreetEye restarted; waiting for the device to register' WHERE online");
    this.flushTimer = setInterval(() => void this.flushKeepalives(), 5000);
    this.flushTimer.unref();
    this.log.info({ port: this.server.port, serverId: this.settings.serverId, realm: this.settings.realm }, 'GB28181 SIP server listening (UDP and TCP)');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearInterval(this.flushTimer);
    clearInterval(this.followUpTimer);
    this.followUpTimer = undefined;
    this.followUpQueue.length = 0; // waiting follow-ups are dropped with the server (their promises are never settled)
    this.offChanged?.();
    await this.registrationRows.flush();
    await this.playback.stop();
    await this.cascade?.stop();
    this.cascade = undefined;
    for (const s of [...this.shared.values()]) await this.closeShared(s);
    await this.server.stop();
    await this.flushKeepalives();
  }

  /** The password a device registers with, or null when it may not register (disabled; unknown and new devices not accepted). */
  private passwordFor(c: DeviceCredentials | undefined): string | null {
    if (c && !c.enabled) return null;
    if (c) return c.password ?? this.settings.password ?? null;
    return this.settings.acceptNew ? this.settings.password ?? null : null;
  }

  /** Edited or deleted by a technician: forget its credentials; a device no longer accepted is dropped now, not at its next REGISTER. */
  private async onDeviceChanged(deviceId: string): Promise<void> {
    this.credentials.forget(deviceId);
    if (!this.server.registrations.has(deviceId)) return;
    try {
      const c = await this.credentials.get(deviceId);
      if (!this.passwordFor(c)) this.server.unregister(deviceId, c ? 'disabled by a technician' : 'deleted by a technician');
    } catch (err) {
      this.log.warn({ err, device: deviceId }, 'GB28181 device change not applied');
    }
  }

  private async flushKeepalives(): Promise<void> {
    if (!this.keepaliveSeen.size) return;
    const seen = new Map(this.keepaliveSeen);
    this.keepaliveSeen.clear();
    await this.repo.keepalives(this.ctx.db, seen).catch((err) => this.log.warn({ err }, 'GB28181 keepalive times not written'));
  }

  private regRow(reg: Registration) {
    return { deviceId: reg.deviceId, transport: reg.peer.transport, address: reg.peer.address, port: reg.peer.port, edition: reg.edition, expiresAt: new Date(reg.expiresAt) };
  }

  private async onRegistered(reg: Registration): Promise<void> {
    // stored in the next batch (online, address, expiry); then the consoles hear of it and its cameras follow
    const cameras = await this.registrationRows.add(this.regRow(reg));
    this.ctx.bus.publish('gb.device', { deviceId: reg.deviceId, online: true, reason: null });
    for (const cameraId of cameras) await this.cameraStatus(cameraId, 'reachable', null);
    // what the device is, then its catalog, then its changes — started at most FOLLOW_UPS_PER_S a second, so that a wave
    // of devices coming back after a power cut (10,000 at once) spreads its queries instead of flooding the event loop
    // (and missing keepalives); a device that answers nothing holds no slot, so the next ones are not held up
    await this.followUpSlot();
    await this.followUp(reg);
  }

  private followUpTokens = FOLLOW_UPS_PER_S;
  private followUpAt = Date.now();
  private readonly followUpQueue: Array<() => void> = [];
  private followUpTimer?: NodeJS.Timeout;
  private refillFollowUps(): void {
    const now = Date.now();
    this.followUpTokens = Math.min(FOLLOW_UPS_PER_S, this.followUpTokens + ((now - this.followUpAt) / 1000) * FOLLOW_UPS_PER_S);
    this.followUpAt = now;
  }
  private followUpSlot(): Promise<void> {
    this.refillFollowUps();
    if (!this.followUpQueue.length && this.followUpTokens >= 1) {
      this.followUpTokens--;
      return Promise.resolve();
    }
    const queued = new Promise<void>((r) => this.followUpQueue.push(r));
    this.followUpTimer ??= setInterval(() => {
      this.refillFollowUps();
      while (this.followUpTokens >= 1 && this.followUpQueue.length) {
        this.followUpTokens--;
        this.followUpQueue.shift()!();
      }
      if (!this.followUpQueue.length) {
        clearInterval(this.followUpTimer);
        this.followUpTimer = undefined;
      }
    }, 50);
    this.followUpTimer.unref();
    return queued;
  }

  private async followUp(reg: Registration): Promise<void> {
    if (this.server.registrations.get(reg.deviceId) !== reg) return; // gone (or registered again) while it waited
    try {
      await this.repo.setInfo(this.ctx.db, reg.deviceId, await this.server.deviceInfo(reg.deviceId));
    } catch (err) {
      this.log.info({ device: reg.deviceId, err: (err as Error).message }, 'GB28181 DeviceInfo not answered');
    }
    await this.refreshCatalog(reg.deviceId).catch(() => {});
    await this.server.subscribeCatalog(reg.deviceId).catch((err) => this.log.info({ device: reg.deviceId, err: (err as Error).message }, 'GB28181 catalog subscription refused'));
  }

  /** Online/offline of a device: its row, its approved cameras' status, and a push to the consoles. */
  private async deviceState(deviceId: string, online: boolean, reason: string | null): Promise<void> {
    try {
      await this.repo.setOnline(this.ctx.db, deviceId, online, reason);
      this.ctx.bus.publish('gb.device', { deviceId, online, reason });
      const status = online ? 'reachable' : 'offline';
      const why = online ? null : `GB/T 28181 device ${deviceId}: ${reason ?? 'offline'}`;
      for (const cameraId of await this.repo.camerasOfDevice(this.ctx.db, deviceId)) await this.cameraStatus(cameraId, status, why);
      if (!online) for (const s of [...this.shared.values()]) if (s.deviceId === deviceId) await this.closeShared(s, 'the device went offline');
    } catch (err) {
      this.log.warn({ err, device: deviceId }, 'GB28181 device state not written');
    }
  }

  private async cameraStatus(cameraId: string, status: string, reason: string | null): Promise<void> {
    await this.ctx.db.query(
      `UPDATE cameras SET status_changed_at = CASE WHEN status IS DISTINCT FROM $2 THEN now() ELSE status_changed_at END, status = $2, status_reason = $3 WHERE id = $1`,
      [cameraId, status, reason]);
    this.ctx.bus.publish('camera.status', { status, reason }, cameraId);
  }

  /** Query the whole catalog and store it in one transaction; an incomplete answer changes nothing. */
  async refreshCatalog(deviceId: string): Promise<{ total: number; removed: number }> {
    const running = this.importing.get(deviceId) as Promise<{ total: number; removed: number }> | undefined;
    if (running) return running;
    const job = (async () => {
      const t0 = Date.now();
      let items: CatalogItem[];
      try {
        items = await this.server.catalog(deviceId);
      } catch (err) {
        await this.repo.catalogFailed(this.ctx.db, deviceId, (err as Error).message).catch(() => {});
        this.log.warn({ device: deviceId, err: (err as Error).message }, 'GB28181 catalog not imported');
        throw err;
      }
      const r = await this.repo.importCatalog(this.ctx.db, deviceId, items);
      this.log.info({ device: deviceId, items: r.total, removed: r.removed, ms: Date.now() - t0 }, 'GB28181 catalog imported');
      this.ctx.bus.publish('gb.catalog', { deviceId, total: r.total, removed: r.removed });
      return r;
    })();
    this.importing.set(deviceId, job);
    job.catch(() => {}).finally(() => this.importing.delete(deviceId));
    return job;
  }

  private async onCatalogEvents(deviceId: string, items: CatalogItem[]): Promise<void> {
    const applied = await this.repo.applyEvents(this.ctx.db, deviceId, items);
    for (const a of applied) {
      if (!a.cameraId) continue;
      if (a.event === 'ON') await this.cameraStatus(a.cameraId, 'reachable', null);
      else if (a.event === 'OFF' || a.event === 'VLOST' || a.event === 'DEFECT' || a.event === 'DEL') {
        const why = { OFF: 'the GB channel is off', VLOST: 'the GB channel lost its video', DEFECT: 'the GB channel reports a fault', DEL: 'the GB channel left the catalog' }[a.event];
        await this.cameraStatus(a.cameraId, 'offline', why);
      }
    }
    this.ctx.bus.publish('gb.catalog', { deviceId, events: applied.map((a) => ({ channelId: a.channelId, event: a.event })) });
  }

  private async onAlarm(deviceId: string, a: GbAlarm): Promise<void> {
    const cameraId = (await this.repo.cameraOfChannel(this.ctx.db, deviceId, a.channelId)) ?? (await this.repo.cameraOfChannel(this.ctx.db, deviceId, deviceId));
    if (!cameraId) {
      this.server.count('alarm_unknown_channel');
      this.log.info({ device: deviceId, channel: a.channelId }, 'GB28181 alarm for a channel not in the inventory: not recorded');
      return;
    }
    const kind = alarmKind(a);
    const topic = `gb28181/alarm/method=${a.method ?? '?'}/type=${a.type ?? '?'}`;
    const parsed = a.time ? new Date(a.time.length === 19 ? `${a.time}+08:00` : a.time) : new Date();
    const at = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
    const row = (await this.ctx.db.query<{ id: number; started_at: Date }>(
      `INSERT INTO camera_alarms (camera_id, kind, topic, started_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (camera_id, kind) WHERE ended_at IS NULL DO NOTHING RETURNING id, started_at`, [cameraId, kind, topic, at])).rows[0];
    if (!row) return;
    this.log.info({ camera: cameraId, kind, device: deviceId }, 'GB28181 alarm raised');
    this.ctx.bus.publish('camera.alarm', { cameraId, alarmId: Number(row.id), kind, topic, active: true, startedAt: new Date(row.started_at).toISOString(), endedAt: null, description: a.description ?? undefined }, cameraId);
  }

  // ───────────────────────────── live media ─────────────────────────────

  /** The ingest source of an approved channel's camera (one INVITE per channel however many sessions read it). */
  pipeSource(deviceId: string, channelId: string): PipeSource {
    return { kind: 'pipe', format: 'mpeg', label: `gb28181:${channelId}`, open: () => this.openFeed(deviceId, channelId) };
  }

  private async openFeed(deviceId: string, channelId: string): Promise<PipeFeed> {
    const key = `${deviceId}/${channelId}`;
    let s = this.shared.get(key);
    if (!s || s.closed) {
      s = { key, deviceId, channelId, feeds: new Set(), closed: false };
      this.shared.set(key, s);
      const sh = s;
      s.opening = this.invite(sh).catch((err) => {
        this.shared.delete(key);
        sh.closed = true;
        throw err;
      });
    }
    await s.opening;
    const feed = { out: new PassThrough({ highWaterMark: 1 << 20 }), needKey: true };
    s.feeds.add(feed);
    const shared = s;
    let closed = false;
    return {
      readable: feed.out,
      close: async () => {
        if (closed) return;
        closed = true;
        shared.feeds.delete(feed);
        feed.out.end();
        if (!shared.feeds.size) await this.closeShared(shared);
      },
    };
  }

  private async invite(s: Shared): Promise<void> {
    const st = this.settings;
    if (!this.server.isOnline(s.deviceId)) throw new PipeOpenError(`GB/T 28181 device ${s.deviceId} is not registered or offline`, 'network');
    const ssrc = makeSsrc(st.serverId, ++this.ssrcCounter);
    const receiver = await RtpPsReceiver.open({
      transport: st.mediaTransport,
      bindHost: st.sipHost,
      ports: st.rtpPorts,
      ssrc: Number(ssrc),
      log: this.log,
      onDrop: (reason) => this.server.count(`rtp_dropped_${reason}`),
      onUnit: (au) => this.fanOut(s, au),
    });
    s.receiver = receiver;
    // TCP active: we connect, so our own port means nothing (9, discard, by convention)
    let dialog: Dialog;
    try {
      dialog = await this.server.invite(s.deviceId, s.channelId, buildOfferSdp({ channelId: s.channelId, ip: st.advertiseHost, port: receiver.port || 9, transport: st.mediaTransport, ssrc }), ssrc, st.inviteTimeoutMs);
    } catch (err) {
      receiver.close();
      throw new PipeOpenError(`GB/T 28181 INVITE for ${s.channelId} failed: ${(err as Error).message}`, err instanceof GbError && err.code === 'refused' ? 'transient' : 'network');
    }
    s.dialog = dialog;
    const answer = parseSdp(dialog.sdp);
    if (answer.ssrc && Number(answer.ssrc) !== Number(ssrc)) {
      this.server.count('invite_ssrc_mismatch');
      this.log.warn({ device: s.deviceId, channel: s.channelId, offered: ssrc, answered: answer.ssrc.slice(0, 16) }, 'GB28181 INVITE answer refused: its SSRC does not match the offer');
      await this.server.bye(dialog);
      receiver.close();
      throw new PipeOpenError(`the device answered with SSRC ${answer.ssrc.slice(0, 16)}, not the ${ssrc} StreetEye offered`, 'transient');
    }
    const deviceAddress = this.server.registrations.get(s.deviceId)?.peer.address;
    receiver.expectFrom(answer.ip && answer.ip !== '0.0.0.0' ? answer.ip : deviceAddress ?? '');
    if (st.mediaTransport === 'tcp-active') {
      if (!answer.ip || !answer.port) {
        await this.server.bye(dialog);
        receiver.close();
        throw new PipeOpenError('the device answered TCP active without an address to connect to', 'transient');
      }
      await receiver.connectTo(answer.ip, answer.port).catch(async (err) => {
        await this.server.bye(dialog);
        receiver.close();
        throw new PipeOpenError(`cannot connect to the device's media port: ${(err as Error).message}`, 'network');
      });
    }
    this.log.info({ device: s.deviceId, channel: s.channelId, transport: st.mediaTransport, port: receiver.port }, 'GB28181 stream INVITEd');
  }

  private fanOut(s: Shared, au: AccessUnit): void {
    let pack: Buffer | undefined;
    for (const f of s.feeds) {
      if (f.needKey && !au.key) continue;
      // a consumer that does not keep up loses frames up to the next keyframe, never memory
      if (f.out.writableLength > 8 * 1024 * 1024) {
        f.needKey = true;
        this.server.count('feed_overrun');
        continue;
      }
      f.needKey = false;
      pack ??= muxPsFrame(au);
      f.out.write(pack);
    }
  }

  private onDeviceBye(d: Dialog): void {
    for (const s of this.shared.values()) {
      if (s.dialog?.callId !== d.callId) continue;
      this.log.info({ device: s.deviceId, channel: s.channelId }, 'GB28181 device ended the stream (BYE)');
      s.dialog = undefined;
      void this.closeShared(s, 'the device ended the stream');
    }
  }

  private async closeShared(s: Shared, reason?: string): Promise<void> {
    if (s.closed) return;
    s.closed = true;
    if (this.shared.get(s.key) === s) this.shared.delete(s.key);
    s.receiver?.close();
    for (const f of s.feeds) f.out.end();
    s.feeds.clear();
    if (s.dialog) await this.server.bye(s.dialog).catch(() => {});
    if (reason) this.log.info({ device: s.deviceId, channel: s.channelId, reason }, 'GB28181 stream closed');
  }

  /** Streams running now (diagnostics, tests). */
  streams(): Array<{ deviceId: string; channelId: string; viewers: number; packets: number; droppedSsrc: number; droppedAddress: number }> {
    return [...this.shared.values()].map((s) => ({
      deviceId: s.deviceId, channelId: s.channelId, viewers: s.feeds.size, packets: s.receiver?.stats.packets ?? 0,
      droppedSsrc: s.receiver?.stats.droppedSsrc ?? 0, droppedAddress: s.receiver?.stats.droppedAddress ?? 0,
    }));
  }
}

