import { describe, expect, it } from 'vitest';
import { deriveCameraStatus, isOnline } from './status.js';

describe('camera status from its streams', () => {
  it('is live when any stream is live, else the most telling failure', () => {
    expect(deriveCameraStatus([{ state: 'live', reason: null }, { state: 'offline', reason: 'x' }], null)).toEqual({ status: 'live', reason: null });
    expect(deriveCameraStatus([{ state: 'reconnecting', reason: 'a' }, { state: 'auth_failed', reason: '401' }], 'live')).toEqual({ status: 'auth_failed', reason: '401' });
    expect(deriveCameraStatus([{ state: 'error', reason: 'bad url' }, { state: 'offline', reason: 'refused' }], null)).toEqual({ status: 'error', reason: 'bad url' });
  });
  it('keeps what is known while streams only connect or idle; idle after live is reachable', () => {
    expect(deriveCameraStatus([{ state: 'connecting', reason: null }], 'offline')).toBeNull();
    expect(deriveCameraStatus([{ state: 'idle', reason: null }], 'offline')).toBeNull();
    expect(deriveCameraStatus([{ state: 'idle', reason: null }, { state: 'idle', reason: null }], 'live')).toMatchObject({ status: 'reachable' });
    expect(deriveCameraStatus([], 'live')).toBeNull();
  });
  it('online means live or reachable', () => {
    expect(['live', 'reachable', 'offline', 'unknown', 'idle'].map(isOnline)).toEqual([true, true, false, false, false]);
  });
});
