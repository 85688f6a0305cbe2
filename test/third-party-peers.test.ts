import { afterEach, describe, expect, it, vi } from 'vitest';
import { thirdPartyPeer } from './third-party-peers.js';

describe('third-party peers', () => {
  const saved = process.env.STREETEYE_REQUIRE_PEERS;
  afterEach(() => {
    if (saved === undefined) delete process.env.STREETEYE_REQUIRE_PEERS;
    else process.env.STREETEYE_REQUIRE_PEERS = saved;
    vi.restoreAllMocks();
  });

  it('a present peer runs its tests', () => {
    process.env.STREETEYE_REQUIRE_PEERS = '1';
    expect(thirdPartyPeer('sipp', true, 'apt-get install sip-tester')).toBe(true);
  });

  it('a missing peer is skipped loudly on a developer machine, with how to get it', () => {
    delete process.env.STREETEYE_REQUIRE_PEERS;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(thirdPartyPeer('sipp', false, 'apt-get install sip-tester')).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('apt-get install sip-tester'));
  });

  it('a missing peer fails the run where CI requires peers', () => {
    process.env.STREETEYE_REQUIRE_PEERS = '1';
    expect(() => thirdPartyPeer('sipp', false, 'apt-get install sip-tester')).toThrow(/sip-tester.*must run/);
  });
});
