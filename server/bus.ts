import { EventEmitter } from 'node:events';

/** Messages pushed to consoles. cameraId, when present, lets the WebSocket hide restricted cameras. */
export interface BusMessage<T = unknown> {
  topic: string;
  cameraId?: string;
  payload: T;
}

/** In-process pub/sub between subsystems and the WebSocket push; a PostgreSQL LISTEN/NOTIFY bridge can feed it across nodes. */
export class Bus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish<T>(topic: string, payload: T, cameraId?: string): void {
    this.emitter.emit('message', { topic, payload, cameraId } satisfies BusMessage<T>);
  }

  /** A message that came from another node (see cluster/bus-bridge.ts): delivered here, not sent on. */
  deliver(msg: BusMessage & { origin: string }): void {
    this.emitter.emit('message', msg);
  }

  subscribe(fn: (msg: BusMessage) => void): () => void {
    this.emitter.on('message', fn);
    return () => this.emitter.off('message', fn);
  }
}
