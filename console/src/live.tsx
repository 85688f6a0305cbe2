import { createContext, use, useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { LiveMessage } from './types';

/**
 * The console's one live connection (GET /api/ws, same origin, session cookie). Pages subscribe to
 * topics through useLiveMessages; the header shows useLiveState. Reconnects with backoff and jitter.
 */
export type LiveState = 'connecting' | 'live' | 'offline' | 'error';

export interface LiveSnapshot {
  state: LiveState;
  /** When the next reconnect attempt happens (ms epoch), while offline/error. */
  retryAt: number | null;
  /** Failed attempts since the last open. */
  failures: number;
}

type Listener = (msg: LiveMessage) => void;
const BACKOFF_MS = [1000, 1000, 2000, 5000, 10_000, 30_000];

export class LiveClient {
  private ws: WebSocket | null = null;
  private timer: number | null = null;
  private snapshot: LiveSnapshot = { state: 'connecting', retryAt: null, failures: 0 };
  private readonly stateListeners = new Set<() => void>();
  private readonly listeners = new Set<Listener>();
  private stopped = true;
  private opened = false;
  private readonly url: string;

  constructor(url?: string) {
    this.url = url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.reconnectNow);
    document.addEventListener('visibilitychange', this.onVisible);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.reconnectNow);
    document.removeEventListener('visibilitychange', this.onVisible);
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
  }

  getSnapshot = (): LiveSnapshot => this.snapshot;

  subscribeState = (fn: () => void): (() => void) => {
    this.stateListeners.add(fn);
    return () => { this.stateListeners.delete(fn); };
  };

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }

  /** Messages to the server, if it ever accepts any; false when not connected. */
  send(data: unknown): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(data));
    return true;
  }

  private set(next: Partial<LiveSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...next };
    for (const fn of this.stateListeners) fn();
  }

  private readonly reconnectNow = (): void => {
    if (this.stopped || this.ws) return;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  };

  private readonly onVisible = (): void => {
    if (document.visibilityState === 'visible') this.reconnectNow();
  };

  private connect(): void {
    this.opened = false;
    this.set({ state: 'connecting', retryAt: null });
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.opened = true;
      this.set({ state: 'live', failures: 0, retryAt: null });
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg: LiveMessage;
      try { msg = JSON.parse(ev.data) as LiveMessage; } catch { return; }
      if (!msg || typeof msg.topic !== 'string') return;
      for (const fn of this.listeners) {
        try { fn(msg); } catch (err) { console.error('live listener failed', err); }
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.stopped) this.scheduleRetry();
    };
  }

  private scheduleRetry(): void {
    const failures = this.opened ? 0 : this.snapshot.failures + 1;
    const base = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    // Dropped after being live, or the network is down: offline. Never got through: error.
    const state: LiveState = this.opened || !navigator.onLine ? 'offline' : 'error';
    this.set({ state, failures, retryAt: Date.now() + delay });
    this.timer = window.setTimeout(() => { this.timer = null; if (!this.stopped) this.connect(); }, delay);
  }
}

const LiveContext = createContext<LiveClient | null>(null);

/** Opens the connection while mounted (put it under the logged-in layout). */
export function LiveProvider({ children }: { children: ReactNode }) {
  const [client] = useState(() => new LiveClient());
  useEffect(() => {
    client.start();
    return () => client.stop();
  }, [client]);
  return <LiveContext value={client}>{children}</LiveContext>;
}

export function useLiveClient(): LiveClient {
  const c = use(LiveContext);
  if (!c) throw new Error('useLiveClient outside LiveProvider');
  return c;
}

export function useLiveState(): LiveSnapshot {
  const c = useLiveClient();
  return useSyncExternalStore(c.subscribeState, c.getSnapshot);
}

export interface LiveFilter {
  /** One topic, several, or a prefix ending in '*' (e.g. 'camera.*'). Omit for all. */
  topic?: string | readonly string[];
  cameraId?: string;
}

function matches(filter: LiveFilter, msg: LiveMessage): boolean {
  if (filter.cameraId && msg.cameraId !== filter.cameraId) return false;
  const topics = filter.topic === undefined ? null : typeof filter.topic === 'string' ? [filter.topic] : filter.topic;
  if (!topics) return true;
  return topics.some((t) => (t.endsWith('*') ? msg.topic.startsWith(t.slice(0, -1)) : msg.topic === t));
}

/**
 * Calls handler for each live message that matches. The handler may change every render (it is
 * read through a ref); the subscription changes only when the filter does.
 */
export function useLiveMessages<P = unknown>(filter: LiveFilter, handler: (msg: LiveMessage<P>) => void): void {
  const client = useLiveClient();
  const ref = useRef(handler);
  useEffect(() => { ref.current = handler; });
  const topicKey = filter.topic === undefined ? '' : typeof filter.topic === 'string' ? filter.topic : filter.topic.join('\n');
  const cameraId = filter.cameraId;
  useEffect(() => {
    const f: LiveFilter = { topic: topicKey ? topicKey.split('\n') : undefined, cameraId };
    return client.subscribe((msg) => { if (matches(f, msg)) ref.current(msg as LiveMessage<P>); });
  }, [client, topicKey, cameraId]);
}
