/**
 * Connecting to cameras through the CAMERA_NETWORKS policy (policy.ts): the address checked is the address
 * connected to. Names are resolved here and every answer is checked; the socket is then opened to the checked
 * address itself (an agent's lookup, or the URL handed to ffmpeg rewritten to it), so a name that resolves
 * differently a moment later (DNS rebinding) cannot slip past.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, Socket, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { cameraNetworks, CameraNetworkRefused, normaliseAddress, type CameraNetworkPolicy } from './policy.js';

const bare = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

/** Resolves a camera host (name or any address spelling) to one address the policy allows, else throws CameraNetworkRefused. */
export async function resolveCameraAddress(host: string, port: number, policy: CameraNetworkPolicy = cameraNetworks()): Promise<string> {
  const h = bare(host);
  if (normaliseAddress(h)) return policy.assert(h, port);
  const all = await new Promise<LookupAddress[]>((ok, fail) => dnsLookup(h, { all: true }, (err, addrs) => (err ? fail(err) : ok(addrs))));
  for (const a of all) {
    const v = policy.check(a.address, port);
    if (v.ok) return v.address;
  }
  throw new CameraNetworkRefused(host);
}

/** A net/tls `lookup` that answers only with addresses the policy allows for this port. */
export function cameraLookup(port: number, policy: CameraNetworkPolicy = cameraNetworks()): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    resolveCameraAddress(hostname, port, policy).then(
      (address) => {
        const family = address.includes(':') ? 6 : 4;
        if (options?.all) callback(null, [{ address, family }]);
        else callback(null, address, family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  }) as LookupFunction;
}

/** net/tls connect options for a camera host: a literal address is checked now, a name at lookup. Throws CameraNetworkRefused. */
export function cameraConnectOptions(host: string, port: number, policy: CameraNetworkPolicy = cameraNetworks()): { host: string; port: number; lookup?: LookupFunction } {
  const h = bare(host);
  if (normaliseAddress(h)) return { host: policy.assert(h, port), port };
  return { host: h, port, lookup: cameraLookup(port, policy) };
}

function refusedSocket(err: Error): Duplex {
  const s = new Socket();
  process.nextTick(() => s.destroy(err));
  return s;
}

function guarded<T extends http.Agent>(agent: T, defaultPort: number, policy: () => CameraNetworkPolicy): T {
  const create = agent.createConnection.bind(agent) as (o: Record<string, unknown>, cb?: unknown) => Duplex;
  (agent as unknown as { createConnection: unknown }).createConnection = (options: Record<string, unknown>, cb?: unknown): Duplex => {
    const port = Number(options.port ?? defaultPort);
    try {
      const target = cameraConnectOptions(String(options.host ?? options.hostname ?? 'localhost'), port, policy());
      return create({ ...options, ...target }, cb);
    } catch (err) {
      return refusedSocket(err as Error);
    }
  };
  return agent;
}

const agents = {
  http: guarded(new http.Agent({ keepAlive: false }), 80, cameraNetworks),
  https: guarded(new https.Agent({ keepAlive: false }), 443, cameraNetworks),
};

/** The HTTP(S) agent for requests to cameras (ONVIF SOAP, snapshot URIs): connects only inside CAMERA_NETWORKS. */
export function cameraAgent(secure: boolean): http.Agent {
  return secure ? agents.https : agents.http;
}

/** The URL with its host replaced by the checked address (what ffmpeg is given: it then cannot resolve elsewhere). */
export async function pinCameraUrl(rawUrl: string, defaultPort: number, policy: CameraNetworkPolicy = cameraNetworks()): Promise<string> {
  const u = new URL(rawUrl);
  const port = u.port ? Number(u.port) : defaultPort;
  const address = await resolveCameraAddress(u.hostname, port, policy);
  u.hostname = address.includes(':') ? `[${address}]` : address;
  return u.toString();
}

export function isCameraNetworkRefusal(err: unknown): err is CameraNetworkRefused {
  return err instanceof CameraNetworkRefused || (err as { code?: string } | null)?.code === 'ECAMERANET';
}

export { isIP };
