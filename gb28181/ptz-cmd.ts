/**
 * PTZCmd of a GB/T 28181 DeviceControl (2016 appendix A.3 / 2022 appendix A.3): 8 bytes written as 16 hex digits.
 *   A5 | version<<4 + check | address low | instruction | pan speed | tilt speed | zoom speed<<4 + address high | sum
 * Instruction bits: 0x20 zoom out, 0x10 zoom in, 0x08 up, 0x04 down, 0x02 left, 0x01 right; 0x00 = stop.
 * Presets: 0x81 set, 0x82 call, 0x83 delete, with the preset number (1–255) in byte 6.
 */
export interface PtzMove {
  /** -1 (left) … 1 (right) */
  pan: number;
  /** -1 (down) … 1 (up) */
  tilt: number;
  /** -1 (out) … 1 (in) */
  zoom: number;
}

function cmd(instruction: number, b5: number, b6: number, b7: number): string {
  const b = [0xa5, 0x0f, 0x01, instruction & 0xff, b5 & 0xff, b6 & 0xff, b7 & 0xff];
  b.push(b.reduce((a, x) => a + x, 0) % 256);
  return Buffer.from(b).toString('hex').toUpperCase();
}

export function ptzMoveCmd(v: PtzMove): string {
  const dead = 0.05;
  let ins = 0;
  if (v.pan > dead) ins |= 0x01;
  else if (v.pan < -dead) ins |= 0x02;
  if (v.tilt > dead) ins |= 0x08;
  else if (v.tilt < -dead) ins |= 0x04;
  if (v.zoom > dead) ins |= 0x10;
  else if (v.zoom < -dead) ins |= 0x20;
  const speed = (x: number, max: number) => Math.round(Math.min(1, Math.abs(x)) * max);
  return cmd(ins, speed(v.pan, 255), speed(v.tilt, 255), speed(v.zoom, 15) << 4);
}

export const ptzStopCmd = (): string => cmd(0, 0, 0, 0);

export function presetCmd(action: 'set' | 'call' | 'delete', n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new RangeError('GB preset numbers are 1 to 255');
  return cmd({ set: 0x81, call: 0x82, delete: 0x83 }[action], 0, n, 0);
}

/** Read a PTZCmd back (tests, the simulator). */
export function parsePtzCmd(hex: string): { instruction: number; b5: number; b6: number; b7: number } | undefined {
  if (!/^[0-9A-Fa-f]{16}$/.test(hex)) return undefined;
  const b = Buffer.from(hex, 'hex');
  if (b[0] !== 0xa5 || b.subarray(0, 7).reduce((a, x) => a + x, 0) % 256 !== b[7]) return undefined;
  return { instruction: b[3], b5: b[4], b6: b[5], b7: b[6] };
}
