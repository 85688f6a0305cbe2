/**
 * Probing one inventory camera: a full ONVIF probe (device information, profiles, stream URIs, clock drift)
 * on demand, or a light one (GetSystemDateAndTime only) for the periodic health check. Cameras without an
 * ONVIF address get an RTSP OPTIONS round trip instead.
 */
import type { Camera, } from '../inventory/camera-model.js';
import type { CameraCredentials } from '../inventory/camera-repo.js';
import { onvifClock, probeOnvif, type OnvifProfile } from '../../onvif/client.js';
import { rtspPing } from './rtsp-ping.js';
import type { ProbeOutcome } from './health-recorder.js';

export interface CameraProbeResult {
  cameraId: string;
  at: string;
  method: 'onvif' | 'rtsp' | 'none';
  reachable: boolean;
  authFailed: boolean;
  /** what went wrong, in words; null when the camera answered everything */
  error: string | null;
  clockDriftMs: number | null;
  deviceTime: string | null;
  rttMs: number | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  hardwareId: string | null;
  hasPtz: boolean;
  profiles: OnvifProfile[];
  snapshotUri: string | null;
}

export async function probeCamera(
  cam: Pick<Camera, 'id' | 'onvifUrl' | 'rtspMain' | 'rtspSub'>,
  creds: CameraCredentials,
  opts: { full: boolean; timeoutMs?: number },
): Promise<CameraProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 4000;
  const base: CameraProbeResult = {
    cameraId: cam.id, at: new Date().toISOString(), method: 'none', reachable: false, authFailed: false, error: null,
    clockDriftMs: null, deviceTime: null, rttMs: null, manufacturer: null, model: null, firmware: null, serial: null,
    hardwareId: null, hasPtz: false, profiles: [], snapshotUri: null,
  };
  if (cam.onvifUrl) {
    const target = { xaddr: cam.onvifUrl, username: creds.username, password: creds.password, callTimeoutMs: timeoutMs };
    if (opts.full) {
      const r = await probeOnvif(target);
      return {
        ...base, method: 'onvif', reachable: r.reachable, authFailed: r.errorKind === 'auth', error: r.error,
        clockDriftMs: r.clockDriftMs, deviceTime: r.deviceTime, rttMs: r.rttMs, manufacturer: r.manufacturer, model: r.model,
        firmware: r.firmware, serial: r.serial, hardwareId: r.hardwareId, hasPtz: r.hasPtz, profiles: r.profiles, snapshotUri: r.snapshotUri,
      };
    }
    const c = await onvifClock(target);
    return { ...base, method: 'onvif', reachable: c.reachable || c.errorKind === 'auth', authFailed: c.errorKind === 'auth', error: c.error, clockDriftMs: c.clockDriftMs, deviceTime: c.deviceTime, rttMs: c.rttMs };
  }
  const url = cam.rtspMain ?? cam.rtspSub;
  if (url) {
    const r = await rtspPing(url, timeoutMs);
    return { ...base, method: 'rtsp', reachable: r.reachable, error: r.error, rttMs: r.rttMs };
  }
  return { ...base, error: 'the camera has neither an ONVIF address nor a stream URL to check' };
}

/** What the recorder keeps of a probe. */
export function toOutcome(r: CameraProbeResult, full: boolean): ProbeOutcome {
  return {
    method: r.method,
    reachable: r.reachable,
    authFailed: r.authFailed,
    error: r.error,
    clockDriftMs: r.clockDriftMs,
    rttMs: r.rttMs,
    device: full && r.method === 'onvif' && r.reachable && !r.authFailed
      ? {
        manufacturer: r.manufacturer, model: r.model, firmware: r.firmware, serial: r.serial, hardwareId: r.hardwareId, hasPtz: r.hasPtz,
        profiles: r.profiles.map((p) => ({ token: p.token, name: p.name, width: p.width, height: p.height, encoding: p.encoding })),
      }
      : null,
  };
}
