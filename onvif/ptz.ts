/**
 * PTZ (pan/tilt/zoom) of one ONVIF camera through the `onvif` package's PTZ service calls, with the same care as
 * client.ts: every call settles once, is bounded by a timeout, and fails in words.
 *
 * Connecting costs two round trips (GetCapabilities for the PTZ service address, GetProfiles for a profile with a
 * PTZ configuration), so a connected OnvifPtz is meant to be kept for a while and reused for every move.
 * The package writes tokens into its SOAP bodies unescaped: preset tokens are checked against the camera's own list
 * and a strict pattern before they reach it.
 */
import type { Cam as CamType } from 'onvif';
import { makeCam, onvifCall, OnvifCallError, str, type OnvifTarget } from './client.js';

export interface PtzVector {
  /** -1 … 1 */
  pan: number;
  /** -1 … 1 */
  tilt: number;
  /** moves: -1 … 1; positions: 0 … 1 */
  zoom: number;
}

export interface PtzPreset {
  token: string;
  name: string;
}

export interface PtzStatus {
  position: PtzVector | null;
  moving: boolean;
}

/** The camera answers ONVIF but has no PTZ (a fixed camera): not an error of the camera. */
export class NoPtzError extends Error {
  constructor(message = 'this camera has no PTZ (pan/tilt/zoom)') {
    super(message);
    this.name = 'NoPtzError';
  }
}

/** A preset token the camera does not have (a client error, not the camera's). */
export class UnknownPresetError extends Error {
  constructor(token: string) {
    super(`the camera has no preset "${token.slice(0, 64)}"`);
    this.name = 'UnknownPresetError';
  }
}

export const PRESET_TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;

interface RawProfile {
  $?: { token?: string };
  token?: string;
  PTZConfiguration?: unknown;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export class OnvifPtz {
  private constructor(private readonly cam: CamType, private readonly profileToken: string, private readonly where: string, private readonly timeoutMs: number) {}

  /** Finds the PTZ service and a profile with a PTZ configuration; NoPtzError when the camera has none. */
  static async connect(target: OnvifTarget): Promise<OnvifPtz> {
    const timeoutMs = target.callTimeoutMs ?? 4000;
    const { cam, where } = makeCam(target, timeoutMs);
    // the package stamps WS-Security with the device's clock, learnt from this call (else a 1970 date: refused)
    await onvifCall(cam, timeoutMs, where, (cb) => cam.getSystemDateAndTime(cb));
    try {
      await onvifCall(cam, timeoutMs, where, (cb) => cam.getCapabilities(cb));
    } catch (err) {
      if ((err as OnvifCallError).kind !== 'protocol') throw err;
      // devices that only implement GetServices
      await onvifCall(cam, timeoutMs, where, (cb) => cam.getServices(true, cb));
    }
    if (!cam.uri?.ptz) throw new NoPtzError();
    const raw = await onvifCall<RawProfile[] | RawProfile>(cam, timeoutMs, where, (cb) => cam.getProfiles(cb));
    const profiles = Array.isArray(raw) ? raw : raw ? [raw] : [];
    const withPtz = profiles.find((p) => p?.PTZConfiguration);
    const token = str(withPtz?.$?.token ?? withPtz?.token);
    if (!token) throw new NoPtzError('the camera has a PTZ service but no media profile with a PTZ configuration');
    return new OnvifPtz(cam, token, where, timeoutMs);
  }

  /** Continuous move at the given velocities; the camera stops by itself after timeoutMs (a dead man's switch). */
  async move(v: PtzVector, timeoutMs: number): Promise<void> {
    const x = clamp(v.pan, -1, 1);
    const y = clamp(v.tilt, -1, 1);
    const zoom = clamp(v.zoom, -1, 1);
    await this.call((cb) => this.cam.continuousMove({ profileToken: this.profileToken, x, y, zoom, timeout: Math.max(100, Math.round(timeoutMs)) }, cb));
  }

  async stop(): Promise<void> {
    await this.call((cb) => this.cam.stop({ profileToken: this.profileToken, panTilt: true, zoom: true }, cb));
  }

  async presets(): Promise<PtzPreset[]> {
    const byName = await this.call<Record<string, { $?: { token?: string }; name?: unknown }>>((cb) => this.cam.getPresets({ profileToken: this.profileToken }, cb));
    const out: PtzPreset[] = [];
    for (const [name, p] of Object.entries(byName ?? {})) {
      const token = str(p?.$?.token);
      if (token && PRESET_TOKEN.test(token)) out.push({ token, name: str(p?.name) ?? name });
    }
    return out.sort((a, b) => a.token.localeCompare(b.token, 'en', { numeric: true }));
  }

  /** Goes to one of the camera's presets (checked against its list: the token ends up in XML as it is). */
  async gotoPreset(token: string): Promise<void> {
    if (!PRESET_TOKEN.test(token) || !(await this.presets()).some((p) => p.token === token)) {
      throw new UnknownPresetError(token);
    }
    await this.call((cb) => this.cam.gotoPreset({ profileToken: this.profileToken, preset: token }, cb));
  }

  async status(): Promise<PtzStatus> {
    const s = await this.call<{ position?: { x?: unknown; y?: unknown; zoom?: unknown }; moveStatus?: unknown }>((cb) => this.cam.getStatus({ profileToken: this.profileToken }, cb));
    const n = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
    const pan = n(s?.position?.x);
    const tilt = n(s?.position?.y);
    const zoom = n(s?.position?.zoom);
    const move = JSON.stringify(s?.moveStatus ?? '');
    return { position: pan === null || tilt === null ? null : { pan, tilt, zoom: zoom ?? 0 }, moving: /MOVING/i.test(move) };
  }

  private call<T = unknown>(invoke: (cb: (err: Error | null, data?: T) => void) => void): Promise<T> {
    return onvifCall<T>(this.cam, this.timeoutMs, this.where, invoke);
  }
}
