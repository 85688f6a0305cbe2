/** The camera's own snapshot URI via ONVIF GetSnapshotUri (the `onvif` package), cached per camera. */
import { createRequire } from 'node:module';
import { cameraAgent } from '../lib/camera-network/connect.js';
import { guardCam } from '../onvif/client.js';

interface OnvifCam {
  connect(cb: (err: Error | null) => void): void;
  getSnapshotUri(opts: Record<string, unknown>, cb: (err: Error | null, res?: { uri?: string }) => void): void;
}
type CamCtor = new (opts: Record<string, unknown>) => OnvifCam;

const require = createRequire(import.meta.url);
let Cam: CamCtor | undefined;

export interface OnvifTarget {
  /** the device service URL, e.g. http://10.0.0.5/onvif/device_service */
  onvifUrl: string;
  username?: string | null;
  password?: string | null;
}

export async function getSnapshotUri(t: OnvifTarget, timeoutMs = 5000): Promise<string> {
  const u = new URL(t.onvifUrl);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('ONVIF URL must be http(s)');
  Cam ??= (require('onvif') as { Cam: CamCtor }).Cam;
  const secure = u.protocol === 'https:';
  const cam = guardCam(new Cam({
    agent: cameraAgent(secure),
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80,
    path: u.pathname || '/onvif/device_service',
    useSecure: u.protocol === 'https:',
    username: t.username ?? undefined,
    password: t.password ?? undefined,
    timeout: timeoutMs,
    autoconnect: false,
    preserveAddress: true, // keep the address we were given, not the one the device advertises (NAT)
  }), secure);
  return await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ONVIF GetSnapshotUri timed out')), timeoutMs + 500);
    const done = (err: Error | null, uri?: string) => {
      clearTimeout(timer);
      if (err || !uri) reject(err ?? new Error('the camera has no snapshot URI'));
      else resolve(uri);
    };
    try {
      cam.connect((err) => {
        if (err) return done(err);
        try {
          cam.getSnapshotUri({}, (e2, res) => done(e2, res?.uri));
        } catch (e) {
          done(e as Error);
        }
      });
    } catch (e) {
      done(e as Error);
    }
  });
}

/** Cache of snapshot URIs (they rarely change); failures are cached briefly so a dead camera is not hammered. */
export class SnapshotUriCache {
  private cache = new Map<string, { at: number; uri?: string; error?: string }>();
  constructor(private readonly ttlMs = 10 * 60_000, private readonly failTtlMs = 30_000) {}

  async get(key: string, target: OnvifTarget): Promise<string> {
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && now - hit.at < (hit.uri ? this.ttlMs : this.failTtlMs)) {
      if (hit.uri) return hit.uri;
      throw new Error(hit.error);
    }
    try {
      const uri = await getSnapshotUri(target);
      this.cache.set(key, { at: now, uri });
      return uri;
    } catch (e) {
      this.cache.set(key, { at: now, error: (e as Error).message });
      throw e;
    }
  }

  forget(key: string): void {
    this.cache.delete(key);
  }
}
