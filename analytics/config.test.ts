import { describe, expect, it } from 'vitest';
import { DEFAULT_ANALYTICS_CONFIG, parseAnalyticsConfig } from './config.js';

describe('analytics config', () => {
  it('fills defaults', () => {
    expect(parseAnalyticsConfig({})).toEqual(DEFAULT_ANALYTICS_CONFIG);
    expect(parseAnalyticsConfig({ sampling: { mode: 'keyframes' }, device: 'cuda' })).toMatchObject({ sampling: { mode: 'keyframes' }, device: 'cuda' });
  });

  it('refuses unknown keys and bad values with their paths', () => {
    expect(() => parseAnalyticsConfig({ fps: 2 })).toThrow(/analytics.fps: unknown key/);
    expect(() => parseAnalyticsConfig({ motionGate: { treshold: 3 } })).toThrow(/analytics.motionGate.treshold: unknown key/);
    expect(() => parseAnalyticsConfig({ timeZone: 'Mars/Olympus' })).toThrow(/unknown time zone/);
    expect(() => parseAnalyticsConfig({ sampling: { mode: 'fps', fps: 0 } })).toThrow(/sampling.fps/);
    expect(() => parseAnalyticsConfig({ graceSeconds: 10 })).toThrow(/maxSkipSeconds: must be below graceSeconds/);
  });
});
