/** The PTZ motion model and PTZ SOAP parsing with explicit timestamps: no sockets, no clock. */
import { describe, expect, it } from 'vitest';
import { handleSoap, type OnvifCameraView } from './onvif-service.js';
import { PtzError, PtzState } from './ptz.js';
import { parseDurationMs, ptzBody } from './ptz-service.js';

const T0 = 1_000_000;

describe('PTZ motion model', () => {
  it('integrates velocity lazily: 0.5 pan/tilt units and 0.25 zoom units per second at full speed', () => {
    const p = new PtzState(T0);
    p.continuousMove({ pan: 1, tilt: -0.5, zoom: 1 }, 10_000, T0);
    const at = p.position(T0 + 1000);
    expect(at.pan).toBeCloseTo(0.5, 9);
    expect(at.tilt).toBeCloseTo(-0.25, 9);
    expect(at.zoom).toBeCloseTo(0.25, 9);
    expect(p.moving(T0 + 1000)).toBe(true);
    expect(p.moveStatus(T0 + 1000)).toEqual({ panTilt: 'MOVING', zoom: 'MOVING' });
    expect(p.moves).toBe(1);
  });

  it('clamps at the limits and reports an axis pinned against its limit as no longer moving', () => {
    const p = new PtzState(T0);
    p.continuousMove({ pan: -1, zoom: -1 }, 60_000, T0);
    const at = p.position(T0 + 10_000);
    expect(at).toEqual({ pan: -1, tilt: 0, zoom: 0 });
    expect(p.velocityAt(T0 + 10_000)).toEqual({ pan: 0, tilt: 0, zoom: 0 });
    expect(p.moving(T0 + 10_000)).toBe(false);
    // Reversing off the limit moves again, from the limit (not from the unclamped straight line).
    p.continuousMove({ pan: 1 }, 60_000, T0 + 10_000);
    expect(p.position(T0 + 11_000).pan).toBeCloseTo(-0.5, 9);
  });

  it('stops by itself at the timeout (default 5 s) and stays there', () => {
    const p = new PtzState(T0);
    p.continuousMove({ pan: 1 }, 300, T0);
    expect(p.position(T0 + 300).pan).toBeCloseTo(0.15, 9);
    expect(p.position(T0 + 5000).pan).toBeCloseTo(0.15, 9);
    expect(p.moving(T0 + 300)).toBe(false);
    const q = new PtzState(T0);
    q.continuousMove({ tilt: 0.1 }, undefined, T0);
    expect(q.moving(T0 + 4999)).toBe(true);
    expect(q.moving(T0 + 5000)).toBe(false);
    expect(q.position(T0 + 9000).tilt).toBeCloseTo(0.25, 9);
  });

  it('stops pan/tilt and zoom separately, keeping the position reached', () => {
    const p = new PtzState(T0);
    p.continuousMove({ pan: 1, zoom: 1 }, 10_000, T0);
    p.stop({ panTilt: true, zoom: false }, T0 + 1000);
    expect(p.position(T0 + 2000).pan).toBeCloseTo(0.5, 9);
    expect(p.position(T0 + 2000).zoom).toBeCloseTo(0.5, 9);
    expect(p.moveStatus(T0 + 2000)).toEqual({ panTilt: 'IDLE', zoom: 'MOVING' });
    p.stop(undefined, T0 + 2000);
    expect(p.position(T0 + 9000)).toEqual(p.position(T0 + 2000));
    expect(p.moving(T0 + 2000)).toBe(false);
  });

  it('rejects out-of-range commands without changing anything', () => {
    const p = new PtzState(T0);
    expect(() => p.continuousMove({ pan: 1.5 }, 1000, T0)).toThrow(PtzError);
    expect(() => p.continuousMove({ zoom: Number.NaN }, 1000, T0)).toThrow(/outside/);
    expect(() => p.continuousMove({ pan: 1 }, -1, T0)).toThrow(/timeout/);
    expect(() => p.absoluteMove({ zoom: -0.1 }, T0)).toThrow(expect.objectContaining({ code: 'InvalidPosition' }));
    expect(() => p.relativeMove({ tilt: 1.01 }, T0)).toThrow(expect.objectContaining({ code: 'InvalidTranslation' }));
    expect(() => p.gotoPreset('99', T0)).toThrow(expect.objectContaining({ code: 'NoToken' }));
    expect(p.moves).toBe(0);
    expect(p.position(T0 + 1000)).toEqual({ pan: 0, tilt: 0, zoom: 0 });
  });

  it('jumps for absolute, relative (clamped), preset and home moves; a new command replaces a continuous move', () => {
    const p = new PtzState(T0);
    p.continuousMove({ pan: 1 }, 10_000, T0);
    p.absoluteMove({ pan: 0.25, tilt: -0.5 }, T0 + 500); // zoom left out: kept
    expect(p.position(T0 + 3000)).toEqual({ pan: 0.25, tilt: -0.5, zoom: 0 });
    p.relativeMove({ pan: 1, zoom: 0.5 }, T0 + 3000);
    expect(p.position(T0 + 3000)).toEqual({ pan: 1, tilt: -0.5, zoom: 0.5 });
    p.gotoPreset('2', T0 + 3000);
    expect(p.position(T0 + 3000)).toEqual({ pan: -0.5, tilt: 0.1, zoom: 0.3 });
    p.setHome(T0 + 3000);
    p.absoluteMove({ pan: 0, tilt: 0, zoom: 0 }, T0 + 3000);
    p.gotoHome(T0 + 3000);
    expect(p.position(T0 + 3000)).toEqual({ pan: -0.5, tilt: 0.1, zoom: 0.3 });
    expect(p.moves).toBe(5); // continuous, absolute, relative, preset, absolute (home moves are not counted)
  });

  it('has three default presets; SetPreset adds, overwrites by token and refuses a duplicate name', () => {
    const p = new PtzState(T0);
    expect(p.snapshot(T0).presets).toEqual([
      { token: '1', name: '全景 Overview' },
      { token: '2', name: '路口 Crossing' },
      { token: '3', name: '人行道 Sidewalk' },
    ]);
    p.absoluteMove({ pan: 0.3, tilt: 0.2, zoom: 0.1 }, T0);
    const t = p.setPreset('Gate', undefined, T0);
    expect(t).toBe('4');
    expect(p.presets().find((x) => x.token === t)?.position).toEqual({ pan: 0.3, tilt: 0.2, zoom: 0.1 });
    expect(() => p.setPreset('Gate', undefined, T0)).toThrow(expect.objectContaining({ code: 'PresetExist' }));
    p.absoluteMove({ pan: -0.3 }, T0);
    expect(p.setPreset(undefined, '2', T0)).toBe('2');
    expect(p.presets().find((x) => x.token === '2')).toEqual({ token: '2', name: '路口 Crossing', position: { pan: -0.3, tilt: 0.2, zoom: 0.1 } });
    expect(() => p.setPreset('x', '42', T0)).toThrow(expect.objectContaining({ code: 'NoToken' }));
    p.removePreset('4');
    expect(() => p.removePreset('4')).toThrow(expect.objectContaining({ code: 'NoToken' }));
    expect(p.setPreset('Gate again', undefined, T0)).toBe('5'); // tokens are not reused
  });
});

describe('PTZ SOAP', () => {
  const body = (inner: string) =>
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><Security><UsernameToken><Username>admin</Username></UsernameToken></Security></s:Header>` +
    `<s:Body>${inner}</s:Body></s:Envelope>`;

  it('parses xs:duration timeouts', () => {
    expect(parseDurationMs('PT5S')).toBe(5000);
    expect(parseDurationMs('PT0.5S')).toBe(500);
    expect(parseDurationMs('PT1M30S')).toBe(90_000);
    expect(parseDurationMs('P0DT0H0M2S')).toBe(2000);
    for (const bad of ['', 'P', 'PT', '5S', 'PT-1S', 'P1Y']) expect(parseDurationMs(bad)).toBeUndefined();
  });

  it('reads the velocity vector and timeout of a ContinuousMove as the onvif client writes it', () => {
    const p = new PtzState(T0);
    ptzBody(
      'ContinuousMove',
      body(
        '<ContinuousMove xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>main_profile</ProfileToken><Velocity>' +
          '<PanTilt x="0.5" y="-1" xmlns="http://www.onvif.org/ver10/schema"/><Zoom x="0" xmlns="http://www.onvif.org/ver10/schema"/></Velocity><Timeout>PT2S</Timeout></ContinuousMove>',
      ),
      p,
      T0,
    );
    expect(p.position(T0 + 10_000)).toEqual({ pan: 0.5, tilt: -1, zoom: 0 });
    const status = ptzBody('GetStatus', body('<GetStatus><ProfileToken>sub_profile</ProfileToken></GetStatus>'), p, T0 + 1000);
    expect(status).toContain('<tt:PanTilt x="0.25" y="-0.5"');
    expect(status).toContain('<tt:MoveStatus><tt:PanTilt>MOVING</tt:PanTilt><tt:Zoom>IDLE</tt:Zoom></tt:MoveStatus>');
  });

  it('answers faults: InvalidArgVal for out-of-range values, NoToken, NoProfile; ActionNotSupported on a fixed camera', () => {
    const view = { creds: { username: 'admin', password: 'pw' }, authRefuse: false, ptz: { state: new PtzState(T0), url: 'http://x/ptz' } } as unknown as OnvifCameraView;
    const pw = `<s:Header><Security><UsernameToken><Username>admin</Username><Password>pw</Password></UsernameToken></Security></s:Header>`;
    const req = (inner: string) => `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">${pw}<s:Body>${inner}</s:Body></s:Envelope>`;
    const bad = handleSoap(req('<ContinuousMove><ProfileToken>main_profile</ProfileToken><Velocity><PanTilt x="2" y="0"/></Velocity></ContinuousMove>'), view);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/<s:Value>s:Sender<\/s:Value><s:Subcode><s:Value>ter:InvalidArgVal<\/s:Value><s:Subcode><s:Value>ter:InvalidVelocity</);
    expect(handleSoap(req('<GotoPreset><ProfileToken>main_profile</ProfileToken><PresetToken>9</PresetToken></GotoPreset>'), view).body).toContain('ter:NoToken');
    expect(handleSoap(req('<GetStatus><ProfileToken>nope</ProfileToken></GetStatus>'), view).body).toContain('ter:NoProfile');
    expect(handleSoap(req('<Stop><ProfileToken>main_profile</ProfileToken></Stop>'), view).status).toBe(200);
    const fixed = handleSoap(req('<GetStatus><ProfileToken>main_profile</ProfileToken></GetStatus>'), { ...view, ptz: undefined });
    expect(fixed.body).toContain('ter:ActionNotSupported');
    expect(handleSoap(req('<GetStatus><ProfileToken>main_profile</ProfileToken></GetStatus>').replace('<Password>pw<', '<Password>no<'), view).body).toContain('ter:NotAuthorized');
  });
});
