import { useSyncExternalStore } from 'react';
import type { CameraStatePayload } from './types';

/**
 * Latest known state per camera for the tree and the map, fed by camera.state pushes. One store per wall
 * page; each status dot subscribes on its own, so a push re-renders only the dots, not the wall.
 */
export class StatusStore {
  private readonly states = new Map<string, string>();
  private readonly reasons = new Map<string, string | null>();
  private readonly subs = new Set<() => void>();

  apply(p: CameraStatePayload): void {
    // idle = "nobody watches"; connecting says nothing about the camera yet: keep the last known state.
    if (p.state === 'idle' || p.state === 'connecting') return;
    if (this.states.get(p.cameraId) === p.state && this.reasons.get(p.cameraId) === p.reason) return;
    this.states.set(p.cameraId, p.state);
    this.reasons.set(p.cameraId, p.reason);
    for (const fn of this.subs) fn();
  }

  state(id: string): string | undefined { return this.states.get(id); }
  reason(id: string): string | null | undefined { return this.reasons.get(id); }

  subscribe = (fn: () => void): (() => void) => {
    this.subs.add(fn);
    return () => { this.subs.delete(fn); };
  };
}

export function useCameraStatus(store: StatusStore, id: string, fallback: string): string {
  return useSyncExternalStore(store.subscribe, () => store.state(id) ?? fallback);
}

/** Colour class of a status dot. */
export function dotClass(status: string): string {
  if (status === 'live' || status === 'online') return 'ok';
  if (status === 'connecting' || status === 'reconnecting' || status === 'degraded') return 'warn';
  if (status === 'error' || status === 'auth_failed') return 'err';
  return 'off';
}

const ONLINE = new Set(['live', 'online']);

/** How many of these cameras are online now (pushed state, else the inventory's). */
export function useOnlineCount(store: StatusStore, ids: readonly string[], statusOf: (id: string) => string | undefined): number {
  return useSyncExternalStore(store.subscribe, () => {
    let n = 0;
    for (const id of ids) if (ONLINE.has(store.state(id) ?? statusOf(id) ?? '')) n++;
    return n;
  });
}
