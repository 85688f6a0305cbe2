/**
 * A defensive wrapper around the `onvif` package (agsh, 0.8.x; see ARCHITECTURE.md decision 3).
 *
 * The package is callback-based and has sharp edges: callbacks may fire twice (xml2js re-throws errors from
 * inside a parse callback and the package then calls back again with the error), some helpers throw
 * synchronously (`getStreamUri` without a profile token and no active source), `connect()` can throw
 * "Unrecognized configuration" from inside a callback (uncaught), and its default socket timeout is two
 * minutes. So nothing here uses `connect()`: every SOAP call is made on its own, settled once, bounded by a
 * timeout, and turned into an error a technician can read. Credentials live only in the Cam object for the
 * duration of one probe and are never logged.
 */
import { createRequire } from 'node:module';
import type { Cam as CamType, CamOptions } from 'onvif';
import { cameraAgent, isCameraNetworkRefusal } from '../lib/camera-network/connect.js';

const require = createRequire(import.meta.url);
/** The CommonJS package, typed by the declarations it ships (index.d.ts). */
export const onvifLib = require('onvif') as typeof import('onvif');

export interface OnvifTarget {
  /** device service URL, e.g. http://192.168.1.64/onvif/device_service */
  xaddr: string;
  username?: string | null;
  password?: string | null;
  /** per SOAP call (ms); default 4000 */
  callTimeoutMs?: number;
}

export interface OnvifProfile {
  token: string;
  name: string;
  width: number | null;
  height: number | null;
  encoding: string | null;
  streamUri: string | null;
}

export type OnvifErrorKind = 'unreachable' | 'timeout' | 'auth' | 'not_onvif' | 'protocol';

export interface OnvifDeviceReport {
  xaddr: string;
  host: string;
  port: number;
  /** something answered GetSystemDateAndTime with ONVIF SOAP */
  reachable: boolean;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  hardwareId: string | null;
  /** highest resolution first */
  profiles: OnvifProfile[];
  snapshotUri: string | null;
  hasPtz: boolean;
  /** device clock minus ours (ms; the device reports whole seconds, so ±1 s); null when unknown */
  clockDriftMs: number | null;
  deviceTime: string | null;
  /** round trip of GetSystemDateAndTime (ms) */
  rttMs: number | null;
  /** what went wrong, in words; null when everything answered */
  error: string | null;
  errorKind: OnvifErrorKind | null;
}

export interface OnvifClockReport {
  reachable: boolean;
  clockDriftMs: number | null;
  deviceTime: string | null;
  rttMs: number | null;
  error: string | null;
  errorKind: OnvifErrorKind | null;
}

export class OnvifCallError extends Error {
  constructor(readonly kind: OnvifErrorKind, message: string) {
    super(message);
    this.name = 'OnvifCallError';
  }
}

/** Parses and checks a device service URL (http/https with a host); throws with a readable message. */
export function parseXaddr(xaddr: string): { url: URL; host: string; port: number; secure: boolean } {
  let url: URL;
  try {
    url = new URL(xaddr);
  } catch {
    throw new OnvifCallError('protocol', `"${xaddr.slice(0, 100)}" is not a valid ONVIF address`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OnvifCallError('protocol', 'an ONVIF address must start with http:// or https://');
  if (!url.hostname) throw new OnvifCallError('protocol', 'an ONVIF address must name a host');
  const secure = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : secure ? 443 : 80;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { url, host, port, secure };
}

/** Turns whatever the package or the network threw into words (never includes credentials). */
export function describeOnvifError(err: unknown, where: string, timeoutMs: number): OnvifCallError {
  if (err instanceof OnvifCallError) return err;
  const e = err as NodeJS.ErrnoException & { message?: string };
  // refused before anything was sent: the same words whether or not something listens there
  if (isCameraNetworkRefusal(err)) return new OnvifCallError('unreachable', e.message ?? 'refused by CAMERA_NETWORKS');
  const code = e?.code;
  const msg = String(e?.message ?? err ?? '');
  if (code === 'ECONNREFUSED') return new OnvifCallError('unreachable', `unreachable: ${where} refused the connection (nothing listens there)`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN') return new OnvifCallError('unreachable', `unreachable: no route to ${where} (${code})`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new OnvifCallError('unreachable', `unreachable: the host name of ${where} does not resolve`);
  if (code === 'ECONNRESET' || code === 'EPIPE') return new OnvifCallError('unreachable', `unreachable: ${where} reset the connection`);
  if (code === 'ETIMEDOUT' || /network timeout/i.test(msg)) return new OnvifCallError('timeout', `unreachable: no answer from ${where} within ${Math.round(timeoutMs / 100) / 10} s`);
  if (/digest authentication failed|not ?authori[sz]ed|sender not authori[sz]ed|unauthori[sz]ed|authority failure|401/i.test(msg)) {
    return new OnvifCallError('auth', `authentication failed at ${where}: the camera refused the user name or password`);
  }
  if (/wrong onvif soap response|non-whitespace before first tag|unexpected close tag|invalid character|unclosed root tag/i.test(msg)) {
    return new OnvifCallError('not_onvif', `${where} answered, but not with ONVIF SOAP (not an ONVIF device service?)`);
  }
  if (/ONVIF SOAP Fault/i.test(msg)) return new OnvifCallError('protocol', `the camera answered with an error: ${msg.replace(/^ONVIF SOAP Fault:\s*/i, '').slice(0, 200)}`);
  return new OnvifCallError('protocol', `ONVIF request to ${where} failed: ${msg.slice(0, 200) || 'unknown error'}`);
}

/**
 * One SOAP call on a Cam: settles exactly once (first callback wins), never throws synchronously, and gives
 * up after timeoutMs.
 */
export function onvifCall<T>(cam: CamType, timeoutMs: number, where: string, invoke: (cb: (err: Error | null, data?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new OnvifCallError('timeout', `unreachable: no answer from ${where} within ${Math.round(timeoutMs / 100) / 10} s`));
    }, timeoutMs);
    const done = (err: Error | null, data?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(describeOnvifError(err, where, timeoutMs));
      else resolve(data as T);
    };
    try {
      invoke((err, data) => done(err ?? null, data));
    } catch (err) {
      done(err as Error);
    }
  });
}

/**
 * Every SOAP request of this Cam goes through the CAMERA_NETWORKS agent, including those the package addresses
 * to URLs the device reported (pull-point subscription references), which otherwise bypass the Cam's agent.
 */
export function guardCam<T extends object>(cam: T, secure: boolean): T {
  const c = cam as unknown as { _requestPart2(options: { url?: Record<string, unknown> }, cb: unknown): unknown; timeout?: number };
  const original = c._requestPart2.bind(cam);
  c._requestPart2 = (options, cb) => {
    if (options.url) {
      const u = options.url as { hostname?: string; port?: string | number | null; path?: string; protocol?: string };
      const tls = u.protocol === 'https:' || secure;
      options = { ...options, url: { hostname: u.hostname, port: u.port ?? (tls ? 443 : 80), path: u.path, agent: cameraAgent(secure), timeout: c.timeout } };
    }
    return original(options, cb);
  };
  return cam;
}

export function makeCam(target: OnvifTarget, timeoutMs: number): { cam: CamType; host: string; port: number; where: string } {
  const { url, host, port, secure } = parseXaddr(target.xaddr);
  const opts: CamOptions = {
    hostname: host,
    port,
    path: (url.pathname || '/onvif/device_service') + url.search,
    username: target.username || undefined,
    password: target.password || undefined,
    timeout: timeoutMs,
    useSecure: secure,
    // cameras often install self-signed certificates; the device is addressed explicitly by a technician
    secureOpts: secure ? { rejectUnauthorized: false } : undefined,
    autoconnect: false,
    // behind NAT or port forwarding the service URLs a camera reports are not reachable as written
    preserveAddress: true,
  };
  const cam = guardCam(new onvifLib.Cam({ ...opts, agent: cameraAgent(secure) } as CamOptions), secure);
  // the package emits 'warning' and 'error' in places; an unhandled 'error' event would crash the process
  cam.on('error', () => {});
  cam.on('warning', () => {});
  return { cam, host, port, where: `${host}:${port}` };
}

async function readClock(cam: CamType, timeoutMs: number, where: string): Promise<Pick<OnvifClockReport, 'clockDriftMs' | 'deviceTime' | 'rttMs'>> {
  const t0 = Date.now();
  const date = await onvifCall<Date>(cam, timeoutMs, where, (cb) => cam.getSystemDateAndTime(cb));
  const t1 = Date.now();
  const valid = date instanceof Date && Number.isFinite(date.getTime());
  return {
    // the device's second counter vs. the middle of our request
    clockDriftMs: valid ? Math.round(date.getTime() - (t0 + t1) / 2) : null,
    deviceTime: valid ? date.toISOString() : null,
    rttMs: t1 - t0,
  };
}

/** GetSystemDateAndTime only (unauthenticated where the device allows it): reachability and clock drift. */
export async function onvifClock(target: OnvifTarget): Promise<OnvifClockReport> {
  const timeoutMs = target.callTimeoutMs ?? 4000;
  try {
    const { cam, where } = makeCam(target, timeoutMs);
    const clock = await readClock(cam, timeoutMs, where);
    return { reachable: true, ...clock, error: null, errorKind: null };
  } catch (err) {
    const e = describeOnvifError(err, target.xaddr, timeoutMs);
    return { reachable: false, clockDriftMs: null, deviceTime: null, rttMs: null, error: e.message, errorKind: e.kind };
  }
}

export const str = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : typeof v === 'object' ? null : String(v));
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null);

interface RawProfile {
  $?: { token?: string };
  token?: string;
  name?: unknown;
  videoEncoderConfiguration?: { encoding?: unknown; resolution?: { width?: unknown; height?: unknown } };
  PTZConfiguration?: unknown;
}

/**
 * Full probe of one device: clock (drift), device information, capabilities, profiles with their RTSP stream
 * URIs, snapshot URI, PTZ. Never throws: failures come back as `error` (in words) with what was learnt so far.
 */
export async function probeOnvif(target: OnvifTarget): Promise<OnvifDeviceReport> {
  const timeoutMs = target.callTimeoutMs ?? 4000;
  const report: OnvifDeviceReport = {
    xaddr: target.xaddr, host: '', port: 0, reachable: false, manufacturer: null, model: null, firmware: null, serial: null,
    hardwareId: null, profiles: [], snapshotUri: null, hasPtz: false, clockDriftMs: null, deviceTime: null, rttMs: null, error: null, errorKind: null,
  };
  let stage = 'connect';
  try {
    const { cam, host, port, where } = makeCam(target, timeoutMs);
    report.host = host;
    report.port = port;

    stage = 'GetSystemDateAndTime';
    Object.assign(report, await readClock(cam, timeoutMs, where));
    report.reachable = true;

    stage = 'GetDeviceInformation';
    const info = await onvifCall<Record<string, unknown>>(cam, timeoutMs, where, (cb) => cam.getDeviceInformation(cb));
    report.manufacturer = str(info?.manufacturer);
    report.model = str(info?.model);
    report.firmware = str(info?.firmwareVersion);
    report.serial = str(info?.serialNumber);
    report.hardwareId = str(info?.hardwareId);

    stage = 'GetCapabilities';
    try {
      const caps = await onvifCall<Record<string, { XAddr?: string } | undefined>>(cam, timeoutMs, where, (cb) => cam.getCapabilities(cb));
      report.hasPtz = Boolean(caps?.PTZ?.XAddr);
    } catch (err) {
      // devices that only implement GetServices (the package's own fallback order, reversed)
      if ((err as OnvifCallError).kind === 'auth' || (err as OnvifCallError).kind === 'unreachable') throw err;
      stage = 'GetServices';
      await onvifCall(cam, timeoutMs, where, (cb) => cam.getServices(true, cb));
      report.hasPtz = Boolean(cam.uri?.ptz || cam.uri?.PTZ);
    }
    if (!cam.uri?.media && !cam.uri?.media2) {
      report.error = 'the device has no media service (not a camera or encoder?)';
      report.errorKind = 'protocol';
      return report;
    }

    stage = 'GetProfiles';
    const raw = await onvifCall<RawProfile[]>(cam, timeoutMs, where, (cb) => cam.getProfiles(cb));
    const profiles: OnvifProfile[] = [];
    for (const p of (Array.isArray(raw) ? raw : raw ? [raw] : []).slice(0, 16)) {
      const token = str(p?.$?.token ?? p?.token);
      if (!token) continue;
      const vec = p.videoEncoderConfiguration;
      if (p.PTZConfiguration) report.hasPtz = true;
      profiles.push({
        token, name: str(p.name) ?? token, width: num(vec?.resolution?.width), height: num(vec?.resolution?.height),
        encoding: str(vec?.encoding), streamUri: null,
      });
    }
    // highest resolution first: main = first, sub = last
    profiles.sort((a, b) => (b.width ?? 0) * (b.height ?? 0) - (a.width ?? 0) * (a.height ?? 0));
    report.profiles = profiles;

    stage = 'GetStreamUri';
    const uriErrors: OnvifCallError[] = [];
    await Promise.all(profiles.map(async (p) => {
      try {
        const r = await onvifCall<{ uri?: unknown }>(cam, timeoutMs, where, (cb) => cam.getStreamUri({ protocol: 'RTSP', stream: 'RTP-Unicast', profileToken: p.token }, cb));
        p.streamUri = str(r?.uri);
      } catch (err) {
        uriErrors.push(describeOnvifError(err, where, timeoutMs));
      }
    }));
    if (profiles.length && profiles.every((p) => !p.streamUri)) {
      report.error = `no stream URI: ${uriErrors[0]?.message ?? 'the camera returned none'}`;
      report.errorKind = uriErrors[0]?.kind ?? 'protocol';
    }
    if (!profiles.length) {
      report.error = 'the camera reports no media profiles';
      report.errorKind = 'protocol';
    }

    stage = 'GetSnapshotUri';
    if (profiles.length) {
      try {
        const r = await onvifCall<{ uri?: unknown }>(cam, timeoutMs, where, (cb) => cam.getSnapshotUri({ profileToken: profiles[0].token }, cb));
        report.snapshotUri = str(r?.uri);
      } catch {
        // optional (Profile S makes it optional); not an error of the probe
      }
    }
    return report;
  } catch (err) {
    const e = describeOnvifError(err, report.host ? `${report.host}:${report.port}` : target.xaddr, timeoutMs);
    report.error = stage === 'GetSystemDateAndTime' || stage === 'connect' ? e.message : `${e.message} (during ${stage})`;
    report.errorKind = e.kind;
    // a device that refuses our credentials or answers with a SOAP fault is there all the same
    if (e.kind === 'auth' || e.kind === 'protocol') report.reachable = true;
    return report;
  }
}
