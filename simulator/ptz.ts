/**
 * State and motion model of one simulated PTZ dome (pan/tilt/zoom), independent of SOAP.
 *
 * Everything is computed lazily from timestamps: a ContinuousMove only records where the head was, the
 * commanded velocity and the window [since, until) it applies over; position(now) integrates that when
 * somebody asks. No timer per camera, so hundreds of domes cost nothing while idle (or moving), and the
 * move timeout "stops" the head simply because integration ends at `until`.
 *
 * Only the control plane moves: the pictures are pre-encoded loops, so the video never pans or zooms.
 */

export interface PtzVector {
  pan: number;
  tilt: number;
  zoom: number;
}
export type PtzAxis = keyof PtzVector;

export interface PtzPreset {
  token: string;
  name: string;
  position: PtzVector;
}

/** What `sim.ptz(id)` and the control API's GET /cameras/:id/ptz return. */
export interface PtzSnapshot {
  position: PtzVector;
  /** Effective velocity (-1..1 per axis): 0 once stopped, timed out, or pinned against a limit. */
  velocity: PtzVector;
  moving: boolean;
  presets: Array<{ token: string; name: string }>;
  /** Accepted ContinuousMove / AbsoluteMove / RelativeMove / GotoPreset commands. */
  moves: number;
}

type Range = readonly [number, number];
const AXES: readonly PtzAxis[] = ['pan', 'tilt', 'zoom'];

/** Position limits (the ONVIF generic position spaces). */
export const PTZ_LIMITS: Readonly<Record<PtzAxis, Range>> = { pan: [-1, 1], tilt: [-1, 1], zoom: [0, 1] };
export const VELOCITY_RANGE: Readonly<Record<PtzAxis, Range>> = { pan: [-1, 1], tilt: [-1, 1], zoom: [-1, 1] };
export const TRANSLATION_RANGE: Readonly<Record<PtzAxis, Range>> = { pan: [-1, 1], tilt: [-1, 1], zoom: [-1, 1] };
export const SPEED_RANGE: Readonly<Record<PtzAxis, Range>> = { pan: [0, 1], tilt: [0, 1], zoom: [0, 1] };
/** Units per second at velocity 1: a full pan or tilt sweep (-1..1) takes 4 s, zoom 0..1 takes 4 s too. */
export const PTZ_RATE: Readonly<Record<PtzAxis, number>> = { pan: 0.5, tilt: 0.5, zoom: 0.25 };
/** A ContinuousMove without Timeout stops after this (DefaultPTZTimeout PT5S): a lost Stop cannot spin the dome forever. */
export const DEFAULT_MOVE_TIMEOUT_MS = 5000;
export const MAX_MOVE_TIMEOUT_MS = 3_600_000;
export const MAX_PRESETS = 64;
export const MAX_PRESET_NAME = 64;

export const DEFAULT_PRESETS: readonly PtzPreset[] = [
  { token: '1', name: '全景 Overview', position: { pan: 0, tilt: 0, zoom: 0 } },
  { token: '2', name: '路口 Crossing', position: { pan: -0.5, tilt: 0.1, zoom: 0.3 } },
  { token: '3', name: '人行道 Sidewalk', position: { pan: 0.6, tilt: -0.2, zoom: 0.5 } },
];

/**
 * A rejected PTZ request. `code` is the ONVIF subcode (ter:InvalidVelocity, ter:NoToken, ...): a Sender
 * fault under ter:InvalidArgVal, or a Receiver fault under ter:Action when `receiver`.
 */
export class PtzError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly receiver = false,
  ) {
    super(message);
    this.name = 'PtzError';
  }
}

const zero = (): PtzVector => ({ pan: 0, tilt: 0, zoom: 0 });
const clamp = (v: number, [lo, hi]: Range) => Math.min(hi, Math.max(lo, v));

/** Throws PtzError(code) when a given component is not a finite number inside its range. */
export function checkRange(v: Partial<PtzVector>, ranges: Readonly<Record<PtzAxis, Range>>, code: string, what: string): void {
  for (const a of AXES) {
    const x = v[a];
    if (x === undefined) continue;
    const [lo, hi] = ranges[a];
    if (!Number.isFinite(x) || x < lo || x > hi) throw new PtzError(code, `${what} ${a} ${x} is outside ${lo}..${hi}`);
  }
}

export class PtzState {
  /** Position at `since`. */
  private origin: PtzVector = zero();
  /** Commanded velocity, applied over [since, until). */
  private velocity: PtzVector = zero();
  private since: number;
  private until: number;
  private readonly presetMap = new Map<string, PtzPreset>();
  private home: PtzVector = zero();
  /** Tokens are never reused, so a client holding a removed token gets NoToken rather than another preset. */
  private lastToken = 0;
  moves = 0;

  constructor(now = Date.now(), presets: readonly PtzPreset[] = DEFAULT_PRESETS) {
    this.since = this.until = now;
    for (const p of presets) {
      this.presetMap.set(p.token, { token: p.token, name: p.name, position: { ...p.position } });
      if (/^\d+$/.test(p.token)) this.lastToken = Math.max(this.lastToken, Number(p.token));
    }
  }

  position(now = Date.now()): PtzVector {
    const dt = (Math.min(now, this.until) - this.since) / 1000;
    if (dt <= 0) return { ...this.origin };
    // Velocity is constant over the window, so clamping the straight line is exact.
    const p = zero();
    for (const a of AXES) p[a] = clamp(this.origin[a] + this.velocity[a] * PTZ_RATE[a] * dt, PTZ_LIMITS[a]);
    return p;
  }

  velocityAt(now = Date.now()): PtzVector {
    const v = zero();
    if (now >= this.until) return v;
    const p = this.position(now);
    for (const a of AXES) {
      const x = this.velocity[a];
      const [lo, hi] = PTZ_LIMITS[a];
      v[a] = (x > 0 && p[a] < hi) || (x < 0 && p[a] > lo) ? x : 0;
    }
    return v;
  }

  /** ONVIF MoveStatus per axis group. */
  moveStatus(now = Date.now()): { panTilt: 'IDLE' | 'MOVING'; zoom: 'IDLE' | 'MOVING' } {
    const v = this.velocityAt(now);
    return { panTilt: v.pan !== 0 || v.tilt !== 0 ? 'MOVING' : 'IDLE', zoom: v.zoom !== 0 ? 'MOVING' : 'IDLE' };
  }

  moving(now = Date.now()): boolean {
    const s = this.moveStatus(now);
    return s.panTilt === 'MOVING' || s.zoom === 'MOVING';
  }

  /** Folds the motion so far into `origin`, so the next command starts from where the head is now. */
  private settle(now: number): void {
    this.origin = this.position(now);
    if (now >= this.until) this.velocity = zero();
    this.since = now;
  }

  /** Positional moves arrive at once (a real dome takes a moment; clients do not depend on that). */
  private jump(target: PtzVector, now: number): void {
    this.origin = { ...target };
    this.velocity = zero();
    this.since = this.until = now;
  }

  /** A new ContinuousMove replaces the previous motion; an axis left out does not move. */
  continuousMove(v: Partial<PtzVector>, timeoutMs = DEFAULT_MOVE_TIMEOUT_MS, now = Date.now()): void {
    checkRange(v, VELOCITY_RANGE, 'InvalidVelocity', 'velocity');
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_MOVE_TIMEOUT_MS) {
      throw new PtzError('TimeoutNotSupported', `timeout ${timeoutMs} ms is outside 0..${MAX_MOVE_TIMEOUT_MS} ms`);
    }
    this.settle(now);
    this.velocity = { pan: v.pan ?? 0, tilt: v.tilt ?? 0, zoom: v.zoom ?? 0 };
    this.until = now + timeoutMs;
    this.moves++;
  }

  stop(which: { panTilt: boolean; zoom: boolean } = { panTilt: true, zoom: true }, now = Date.now()): void {
    this.settle(now);
    if (which.panTilt) this.velocity = { ...this.velocity, pan: 0, tilt: 0 };
    if (which.zoom) this.velocity = { ...this.velocity, zoom: 0 };
  }

  /** Axes left out keep their current position. */
  absoluteMove(p: Partial<PtzVector>, now = Date.now()): void {
    checkRange(p, PTZ_LIMITS, 'InvalidPosition', 'position');
    const cur = this.position(now);
    this.jump({ pan: p.pan ?? cur.pan, tilt: p.tilt ?? cur.tilt, zoom: p.zoom ?? cur.zoom }, now);
    this.moves++;
  }

  /** The translation must be in range; the resulting position is clamped at the limits. */
  relativeMove(d: Partial<PtzVector>, now = Date.now()): void {
    checkRange(d, TRANSLATION_RANGE, 'InvalidTranslation', 'translation');
    const cur = this.position(now);
    const target = zero();
    for (const a of AXES) target[a] = clamp(cur[a] + (d[a] ?? 0), PTZ_LIMITS[a]);
    this.jump(target, now);
    this.moves++;
  }

  gotoPreset(token: string, now = Date.now()): void {
    const p = this.presetMap.get(token);
    if (!p) throw new PtzError('NoToken', `no preset with token ${JSON.stringify(token)}`);
    this.jump(p.position, now);
    this.moves++;
  }

  gotoHome(now = Date.now()): void {
    this.jump(this.home, now);
  }

  setHome(now = Date.now()): void {
    this.home = this.position(now);
  }

  /**
   * Stores the current position. With a token: overwrites that preset (renaming it when a name is given).
   * Without: a new preset under a new token; a name another preset already has is ter:PresetExist (ONVIF).
   */
  setPreset(name: string | undefined, token: string | undefined, now = Date.now()): string {
    if (token !== undefined && !this.presetMap.has(token)) throw new PtzError('NoToken', `no preset with token ${JSON.stringify(token)}`);
    if (name !== undefined) {
      name = name.trim();
      if (!name || [...name].length > MAX_PRESET_NAME) throw new PtzError('InvalidPresetName', `preset name must be 1..${MAX_PRESET_NAME} characters`);
      for (const p of this.presetMap.values()) if (p.name === name && p.token !== token) throw new PtzError('PresetExist', `a preset named ${JSON.stringify(name)} exists (token ${p.token})`);
    }
    if (token !== undefined) {
      const p = this.presetMap.get(token)!;
      p.position = this.position(now);
      if (name !== undefined) p.name = name;
      return token;
    }
    if (this.presetMap.size >= MAX_PRESETS) throw new PtzError('TooManyPresets', `at most ${MAX_PRESETS} presets`, true);
    const t = String(++this.lastToken);
    this.presetMap.set(t, { token: t, name: name ?? `Preset ${t}`, position: this.position(now) });
    return t;
  }

  removePreset(token: string): void {
    if (!this.presetMap.delete(token)) throw new PtzError('NoToken', `no preset with token ${JSON.stringify(token)}`);
  }

  presets(): PtzPreset[] {
    return [...this.presetMap.values()].map((p) => ({ token: p.token, name: p.name, position: { ...p.position } }));
  }

  snapshot(now = Date.now()): PtzSnapshot {
    const velocity = this.velocityAt(now);
    return {
      position: this.position(now),
      velocity,
      moving: AXES.some((a) => velocity[a] !== 0),
      presets: [...this.presetMap.values()].map((p) => ({ token: p.token, name: p.name })),
      moves: this.moves,
    };
  }
}
