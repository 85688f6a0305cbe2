/**
 * Connected PTZ handles per camera, kept for a few minutes: a held direction key sends a move every few hundred
 * milliseconds, and connecting costs two SOAP round trips. A camera edit (new address or credentials) or a failed
 * call drops the handle; the next command connects again.
 */
import type { Logger } from 'pino';
import { OnvifCallError } from '../../onvif/client.js';
import { NoPtzError, OnvifPtz } from '../../onvif/ptz.js';
import type { Bus } from '../bus.js';
import type { Db } from '../db/db.js';
import type { CameraRepo } from '../inventory/camera-repo.js';
import type { GbPtz } from '../gb28181/ptz.js';

/** What a PTZ command needs of a camera: an ONVIF dome, or a GB/T 28181 channel (DeviceControl). */
export type PtzHandle = Pick<OnvifPtz, 'move' | 'stop' | 'presets' | 'gotoPreset' | 'status'> | GbPtz;

const KEEP_MS = 5 * 60_000;

export class PtzService {
  private readonly handles = new Map<string, { at: number; ptz: Promise<PtzHandle> }>();
  private readonly log: Logger;
  private readonly unsubscribe: () => void;

  constructor(private readonly o: { db: Db; cameras: CameraRepo; bus: Bus; logger: Logger; callTimeoutMs?: number; gbPtz?: (cameraId: string) => Promise<GbPtz | undefined> }) {
    this.log = o.logger.child({ module: 'ptz' });
    // an edited or deleted camera's handle is dropped (its address or credentials may have changed)
    this.unsubscribe = o.bus.subscribe('camera.changed', (msg) => {
      for (const id of msg.payload.ids) this.handles.delete(id);
    });
  }

  /** The camera's PTZ, connected (or reused); NoPtzError for a fixed camera or one without an ONVIF address. */
  async ptz(cameraId: string): Promise<PtzHandle> {
    const hit = this.handles.get(cameraId);
    if (hit && Date.now() - hit.at < KEEP_MS) return hit.ptz;
    const ptz = (async () => {
      const cam = await this.o.cameras.getById(this.o.db, cameraId);
      if (cam && !cam.onvifUrl && this.o.gbPtz) {
        const gb = await this.o.gbPtz(cameraId);
        if (gb) return gb;
      }
      if (!cam?.onvifUrl) throw new NoPtzError('this camera has no ONVIF address, so no PTZ control');
      const creds = await this.o.cameras.credentials(this.o.db, cameraId);
      return OnvifPtz.connect({ xaddr: cam.onvifUrl, username: creds.username, password: creds.password, callTimeoutMs: this.o.callTimeoutMs ?? 4000 });
    })();
    this.handles.set(cameraId, { at: Date.now(), ptz });
    ptz.catch(() => this.handles.delete(cameraId));
    if (this.handles.size > 5000) this.handles.delete(this.handles.keys().next().value!);
    return ptz;
  }

  /** Runs a command; a failure of the camera (not of the request) drops the handle so the next one reconnects. */
  async run<T>(cameraId: string, fn: (ptz: PtzHandle) => Promise<T>): Promise<T> {
    const ptz = await this.ptz(cameraId);
    try {
      return await fn(ptz);
    } catch (err) {
      if (err instanceof OnvifCallError) {
        this.handles.delete(cameraId);
        this.log.warn({ camera: cameraId, err: err.message }, 'PTZ command failed');
      }
      throw err;
    }
  }

  stop(): void {
    this.unsubscribe();
    this.handles.clear();
  }
}
