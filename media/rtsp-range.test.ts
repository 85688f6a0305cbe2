import { describe, expect, it } from 'vitest';
import { formatRange, formatScale, parseNptRange, RtspClient } from './rtsp/client.js';

// PLAY's Range and Scale headers are built from numbers and dates only; nonsense is refused before anything is sent.
// (Played against a third-party server: media/gst-rtsp-server.test.ts.)
describe('RTSP Range and Scale', () => {
  it('formats npt and clock ranges and speeds', () => {
    expect(formatRange({ npt: 0 })).toBe('npt=0.000-');
    expect(formatRange({ npt: 2, end: 5.25 })).toBe('npt=2.000-5.250');
    expect(formatRange({ clock: new Date('2026-12-02T10:15:00.000Z'), end: new Date('2026-12-02T10:16:30Z') })).toBe('clock=20261202T101500Z-20261202T101630Z');
    expect(formatScale(2)).toBe('2.0');
    expect(formatScale(-0.5)).toBe('-0.5');
    expect(formatScale(1.25)).toBe('1.25');
  });

  it('refuses nonsense before connecting', () => {
    for (const bad of [{ npt: -1 }, { npt: 5, end: 2 }, { npt: Number.NaN }, { clock: new Date('x') }]) expect(() => formatRange(bad as never)).toThrow(RangeError);
    for (const bad of [0, 100, Number.POSITIVE_INFINITY]) expect(() => formatScale(bad)).toThrow(RangeError);
    expect(() => new RtspClient({ url: 'rtsp://127.0.0.1/x', scale: 0, onRtp: () => {}, onEnd: () => {} })).toThrow(RangeError);
  });

  it('reads the server\'s npt answer', () => {
    expect(parseNptRange('npt=2.000-5.000')).toEqual({ start: 2, end: 5 });
    expect(parseNptRange('npt=now-')).toEqual({ start: 0 });
    expect(parseNptRange('clock=20261202T101500Z-')).toBeUndefined();
    expect(parseNptRange(undefined)).toBeUndefined();
  });
});
