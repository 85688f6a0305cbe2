import { describe, expect, it } from 'vitest';
import { DeviceCredentialCache, type DeviceCredentials } from './credential-cache.js';

describe('GB/T 28181 device credential cache', () => {
  function setup(ttlMs = 1000, maxEntries = 100) {
    let clock = 0;
    const rows = new Map<string, DeviceCredentials>([['34020000001320000001', { enabled: true, password: 'pw-1' }]]);
    const loads: string[] = [];
    const cache = new DeviceCredentialCache(async (id) => { loads.push(id); return rows.get(id); }, ttlMs, maxEntries, () => clock);
    return { cache, rows, loads, tick: (ms: number) => { clock += ms; } };
  }

  it('a challenge and its digest response make one lookup; a burst for one device shares it', async () => {
    const { cache, loads } = setup();
    const [a, b] = await Promise.all([cache.get('34020000001320000001'), cache.get('34020000001320000001')]);
    expect(await cache.get('34020000001320000001')).toEqual({ enabled: true, password: 'pw-1' });
    expect(a).toBe(b);
    expect(loads).toEqual(['34020000001320000001']);
  });

  it('asks again after the TTL, and at once after the device was edited (forget)', async () => {
    const { cache, rows, loads, tick } = setup(1000);
    await cache.get('34020000001320000001');
    rows.set('34020000001320000001', { enabled: false, password: 'pw-1' });
    expect((await cache.get('34020000001320000001'))?.enabled).toBe(true); // within the TTL, nobody said it changed
    cache.forget('34020000001320000001');
    expect((await cache.get('34020000001320000001'))?.enabled).toBe(false);
    tick(1000);
    await cache.get('34020000001320000001');
    expect(loads).toHaveLength(3);
  });

  it('remembers unknown devices, forgets failed lookups, and stays bounded under a flood of IDs', async () => {
    const { cache, loads } = setup(1000, 100);
    expect(await cache.get('34020000001329999999')).toBeUndefined();
    expect(await cache.get('34020000001329999999')).toBeUndefined();
    expect(loads).toHaveLength(1);
    for (let i = 0; i < 1000; i++) await cache.get(`3402000000132${String(i).padStart(7, '0')}`);
    expect(cache.size).toBeLessThanOrEqual(100);

    let fail = true;
    const flaky = new DeviceCredentialCache(async () => { if (fail) throw new Error('connection lost'); return { enabled: true, password: null }; });
    await expect(flaky.get('34020000001320000001')).rejects.toThrow('connection lost');
    fail = false;
    expect(await flaky.get('34020000001320000001')).toEqual({ enabled: true, password: null });
  });
});
