/**
 * PTZ domes against the real `onvif` npm client: discovery of the PTZ service (GetServices and
 * GetCapabilities), profiles with a PTZ configuration, presets, continuous moves with and without a
 * timeout, absolute/relative/home moves, faults, auth, fixed cameras, and the control API's view.
 * Timing checks are direction-of-change only; exact values come from the simulator's own timestamps.
 */
import type { Cam } from 'onvif';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimCameraInfo, type Simulator } from './index.js';
import { call, onvifConnect, testCacheDir } from './test-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sim: Simulator;
let cams: SimCameraInfo[];
let dome: Cam;
let domeInfo: SimCameraInfo;
let fixedInfo: SimCameraInfo;

beforeAll(async () => {
  sim = await startSimulator({
    cameras: 3,
    ptzEvery: 2, // cam001 and cam003 are domes, cam002 is fixed
    dataDir: testCacheDir,
    mainSize: { width: 320, height: 180 },
    subSize: { width: 160, height: 90 },
    labelledCameras: 0, // one shared encode (the one simulator.test.ts's third camera uses)
    controlPort: 0,
    discoveryMulticast: false,
    logger: pino({ level: 'silent' }),
  });
  cams = sim.cameras();
  [domeInfo, fixedInfo] = cams;
  const c = await onvifConnect(domeInfo);
  expect(c.err).toBeUndefined();
  dome = c.cam;
});

afterAll(async () => {
  await sim?.stop();
});

interface Status {
  position: { x: number; y: number; zoom: number };
  moveStatus: { panTilt: string; zoom: string };
}
const status = (cam = dome) => call<Status>((cb) => cam.getStatus(cb as never));
const absolute = (x: number, y: number, zoom: number) => call((cb) => dome.absoluteMove({ x, y, zoom }, cb as never));
/** Preset name → token, as the client reports them (it turns numeric tokens into numbers). */
const presets = async () => {
  const byName = await call<Record<string, { $: { token: unknown } }>>((cb) => dome.getPresets(cb as never));
  return Object.fromEntries(Object.entries(byName).map(([name, p]) => [name, String(p.$.token)]));
};
const ptzUrl = (c: SimCameraInfo) => c.onvifUrl.replace(/device_service$/, 'ptz_service');
const expectAt = (s: Status, x: number, y: number, zoom: number) => {
  expect(s.position.x).toBeCloseTo(x, 5);
  expect(s.position.y).toBeCloseTo(y, 5);
  expect(s.position.zoom).toBeCloseTo(zoom, 5);
};

describe('a PTZ dome', () => {
  it('advertises the PTZ service, a PTZ configuration in both profiles, its node and configuration', async () => {
    expect(cams.map((c) => c.ptz)).toEqual([true, false, true]);
    // connect() went through GetServices: the ver20 PTZ namespace gave the client its PTZ address.
    expect(dome.uri?.ptz?.href).toBe(ptzUrl(domeInfo));
    const caps = await call<{ PTZ?: { XAddr: string } }>((cb) => dome.getCapabilities(cb as never));
    expect(caps.PTZ?.XAddr).toBe(ptzUrl(domeInfo));

    const profiles = (dome as unknown as { profiles: Array<{ $: { token: string }; PTZConfiguration?: { $: { token: string }; nodeToken: string; defaultPTZTimeout: string } }> }).profiles;
    expect(profiles.map((p) => p.$.token)).toEqual(['main_profile', 'sub_profile']);
    for (const p of profiles) {
      expect(p.PTZConfiguration?.$.token).toBe('ptz_cfg');
      expect(p.PTZConfiguration?.nodeToken).toBe('ptz_node');
      expect(p.PTZConfiguration?.defaultPTZTimeout).toBe('PT5S');
    }
    expect((dome as unknown as { activeSource: { ptz?: { token: string } } }).activeSource.ptz?.token).toBe('ptz_cfg');

    const nodes = await call<Record<string, { homeSupported: boolean; maximumNumberOfPresets: number }>>((cb) => dome.getNodes(cb as never));
    expect(Object.keys(nodes)).toEqual(['ptz_node']);
    expect(nodes.ptz_node.homeSupported).toBe(true);
    const configs = await call<Record<string, { token: string; nodeToken: string; defaultPTZTimeout: string; panTiltLimits: { XRange: { min: string; max: string } } }>>((cb) =>
      dome.getConfigurations(cb as never),
    );
    expect(configs.PTZ).toMatchObject({ token: 'ptz_cfg', nodeToken: 'ptz_node', defaultPTZTimeout: 'PT5S', panTiltLimits: { XRange: { min: '-1', max: '1' } } });
    const options = await call<{ spaces: { continuous: { x: { min: number; max: number } }; absolute: { zoom: { min: number; max: number } } } }>((cb) =>
      (dome as unknown as { getConfigurationOptions(t: string, cb: unknown): void }).getConfigurationOptions('ptz_cfg', cb),
    );
    expect(options.spaces.continuous.x).toMatchObject({ min: -1, max: 1 });
    expect(options.spaces.absolute.zoom).toMatchObject({ min: 0, max: 1 });
  });

  it('lists the three default presets', async () => {
    expect(await presets()).toEqual({ '全景 Overview': '1', '路口 Crossing': '2', '人行道 Sidewalk': '3' });
  });

  it('pans under ContinuousMove, and Stop holds the position', async () => {
    await absolute(0, 0, 0);
    await call((cb) => dome.continuousMove({ x: 1, y: 0, zoom: 0 }, cb as never));
    await sleep(400);
    const moving = await status();
    expect(moving.position.x).toBeGreaterThan(0);
    expect(moving.position.y).toBeCloseTo(0, 6);
    expect(moving.moveStatus).toEqual({ panTilt: 'MOVING', zoom: 'IDLE' });
    const during = sim.ptz(domeInfo.id)!;
    expect(during.moving).toBe(true);
    expect(during.velocity).toEqual({ pan: 1, tilt: 0, zoom: 0 });
    expect(during.position.pan).toBeGreaterThanOrEqual(moving.position.x - 1e-6); // asked a little later

    await call((cb) => dome.stop({ panTilt: true, zoom: true }, cb as never));
    const stopped = await status();
    expect(stopped.position.x).toBeGreaterThanOrEqual(moving.position.x);
    expect(stopped.moveStatus).toEqual({ panTilt: 'IDLE', zoom: 'IDLE' });
    await sleep(300);
    const later = await status();
    expect(later.position).toEqual(stopped.position);
    const after = sim.ptz(domeInfo.id)!;
    expect(after.moving).toBe(false);
    expect(after.position.pan).toBeCloseTo(later.position.x, 5);
  });

  it('stops by itself when a ContinuousMove times out', async () => {
    await absolute(0, 0, 0);
    await call((cb) => dome.continuousMove({ x: -1, y: 0, zoom: 1, timeout: 300 }, cb as never)); // Timeout PT0.3S
    for (let i = 0; i < 50 && sim.ptz(domeInfo.id)!.moving; i++) await sleep(100);
    const s = await status();
    expect(s.moveStatus).toEqual({ panTilt: 'IDLE', zoom: 'IDLE' });
    // 0.3 s at full speed, whatever the wall clock did: 0.5/s pan, 0.25/s zoom.
    expectAt(s, -0.15, 0, 0.075);
    await sleep(200);
    expect((await status()).position).toEqual(s.position);
  });

  it('goes to a preset', async () => {
    await call((cb) => dome.gotoPreset({ preset: '2' }, cb as never));
    expectAt(await status(), -0.5, 0.1, 0.3);
    await call((cb) => dome.gotoPreset({ preset: '3' }, cb as never));
    expectAt(await status(), 0.6, -0.2, 0.5);
  });

  it('stores a new preset with SetPreset, goes back to it, and removes it', async () => {
    await absolute(0.2, 0.3, 0.4);
    const reply = await call<Array<{ setPresetResponse: Array<{ presetToken: string[] }> }>>((cb) => dome.setPreset({ presetName: '校门 Gate' }, cb as never));
    const token = reply[0].setPresetResponse[0].presetToken[0];
    expect(token).toBe('4');
    expect(await presets()).toEqual({ '全景 Overview': '1', '路口 Crossing': '2', '人行道 Sidewalk': '3', '校门 Gate': '4' });
    await call((cb) => dome.gotoPreset({ preset: '1' }, cb as never));
    expectAt(await status(), 0, 0, 0);
    await call((cb) => dome.gotoPreset({ preset: token }, cb as never));
    expectAt(await status(), 0.2, 0.3, 0.4);
    // A duplicate name is refused; overwriting by token keeps the token.
    await expect(call((cb) => dome.setPreset({ presetName: '校门 Gate' }, cb as never))).rejects.toThrow(/PresetExist/);
    await call((cb) => dome.removePreset({ presetToken: token }, cb as never));
    expect(Object.values(await presets())).toEqual(['1', '2', '3']);
    await expect(call((cb) => dome.gotoPreset({ preset: token }, cb as never))).rejects.toThrow(/NoToken/);
  });

  it('moves absolutely, relatively (clamped) and home', async () => {
    await absolute(0.25, -0.5, 0.75);
    expectAt(await status(), 0.25, -0.5, 0.75);
    await call((cb) => dome.relativeMove({ x: 0.5, y: -0.75, zoom: -0.25 }, cb as never));
    expectAt(await status(), 0.75, -1, 0.5);
    await call((cb) => dome.setHomePosition({}, cb as never));
    await absolute(0, 0, 0);
    await call((cb) => dome.gotoHomePosition({}, cb as never));
    expectAt(await status(), 0.75, -1, 0.5);
  });

  it('rejects out-of-range values with a fault and does not move', async () => {
    const before = sim.ptz(domeInfo.id)!;
    await expect(call((cb) => dome.continuousMove({ x: 2, y: 0, zoom: 0 }, cb as never))).rejects.toThrow(/InvalidArgVal.*InvalidVelocity/);
    await expect(call((cb) => dome.absoluteMove({ x: 0, y: 0, zoom: 1.5 }, cb as never))).rejects.toThrow(/InvalidArgVal.*InvalidPosition/);
    await expect(call((cb) => dome.relativeMove({ x: -3 }, cb as never))).rejects.toThrow(/InvalidArgVal/);
    await expect(call((cb) => dome.gotoPreset({ preset: 'nope' }, cb as never))).rejects.toThrow(/NoToken/);
    const after = sim.ptz(domeInfo.id)!;
    expect(after.moves).toBe(before.moves);
    expect(after.position).toEqual(before.position);
  });

  it('refuses wrong credentials on the PTZ service', async () => {
    expect((await onvifConnect(domeInfo, 'wrong')).err?.message).toMatch(/not Authorized/i);
    const { err, cam } = await onvifConnect(domeInfo);
    expect(err).toBeUndefined();
    cam.password = 'wrong';
    const moves = sim.ptz(domeInfo.id)!.moves;
    await expect(call((cb) => cam.continuousMove({ x: 1, y: 0, zoom: 0 }, cb as never))).rejects.toThrow(/not Authorized/i);
    await expect(status(cam)).rejects.toThrow(/not Authorized/i);
    expect(sim.ptz(domeInfo.id)!.moves).toBe(moves);
  });
});

describe('a fixed camera', () => {
  it('advertises no PTZ and answers PTZ operations with ActionNotSupported', async () => {
    const { err, cam } = await onvifConnect(fixedInfo);
    expect(err).toBeUndefined();
    expect(cam.uri?.ptz).toBeUndefined();
    const caps = await call<{ PTZ?: unknown }>((cb) => cam.getCapabilities(cb as never));
    expect(caps.PTZ).toBeUndefined();
    const profiles = (cam as unknown as { profiles: Array<{ PTZConfiguration?: unknown }> }).profiles;
    expect(profiles).toHaveLength(2);
    expect(profiles.every((p) => p.PTZConfiguration === undefined)).toBe(true);
    // Asked anyway (at the PTZ path a dome would have, and at the device service): not supported.
    cam.uri!.ptz = { ...cam.uri!.device!, path: new URL(ptzUrl(fixedInfo)).pathname }; // the client only reads .path
    await expect(call((cb) => cam.continuousMove({ x: 1, y: 0, zoom: 0 }, cb as never))).rejects.toThrow(/not supported/);
    cam.uri!.ptz = cam.uri!.device;
    await expect(status(cam)).rejects.toThrow(/not supported/);
    expect(sim.ptz(fixedInfo.id)).toBeNull();
    expect(() => sim.ptz('cam999')).toThrow(/unknown camera/);
  });
});

describe('control API', () => {
  it('lists ptz per camera and serves a dome state at GET /cameras/:id/ptz', async () => {
    const list = (await (await fetch(`${sim.controlUrl}/cameras`)).json()) as SimCameraInfo[];
    expect(list.map((c) => [c.id, c.ptz])).toEqual([
      ['cam001', true],
      ['cam002', false],
      ['cam003', true],
    ]);
    const r = await fetch(`${sim.controlUrl}/cameras/cam003/ptz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      position: { pan: 0, tilt: 0, zoom: 0 },
      velocity: { pan: 0, tilt: 0, zoom: 0 },
      moving: false,
      presets: [
        { token: '1', name: '全景 Overview' },
        { token: '2', name: '路口 Crossing' },
        { token: '3', name: '人行道 Sidewalk' },
      ],
      moves: 0,
    });
    const mine = (await (await fetch(`${sim.controlUrl}/cameras/${domeInfo.id}/ptz`)).json()) as { moves: number };
    expect(mine.moves).toBe(sim.ptz(domeInfo.id)!.moves);
    expect(mine.moves).toBeGreaterThan(5);
    expect((await fetch(`${sim.controlUrl}/cameras/cam002/ptz`)).status).toBe(404);
    expect((await fetch(`${sim.controlUrl}/cameras/cam999/ptz`)).status).toBe(404);
    expect((await fetch(`${sim.controlUrl}/cameras/cam001/ptz`, { method: 'POST' })).status).toBe(405);
  });
});
