/**
 * Which addresses the server may reach as "a camera" (ONVIF, RTSP, snapshots, discovery): CAMERA_NETWORKS.
 *
 * Camera URLs are typed in by technicians, imported from CSV and reported by devices, and the server then
 * connects to them (probe, alarm subscriptions, PTZ, snapshots, ffmpeg). Without a policy such a URL can aim
 * the server at itself, at the cloud metadata service or at anything its network reaches. Cameras live on
 * private networks, so the default is the private IPv4 ranges; a city lists its own camera networks.
 *
 * Every address form is normalised before the check: IPv4 written as one decimal number, hex or octal parts
 * (`2130706433`, `0x7f.1`, `0177.0.0.1`: what inet_aton and therefore ffmpeg accept), IPv4-mapped and -compatible
 * IPv6 (`::ffff:127.0.0.1`, `::ffff:7f00:1`), NAT64 (`64:ff9b::/96`), and IPv6 in any of its spellings.
 * Always refused, whatever CAMERA_NETWORKS says: link-local (169.254.0.0/16 — the metadata service
 * 169.254.169.254 among them — and fe80::/10), "this host" (0.0.0.0/8, ::), multicast and broadcast, and the
 * server's own listeners (a local address on a port this process listens on).
 * Explicit endpoints (address + port, e.g. the in-process demo fleet on loopback) are allowed on top.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface Cidr {
  /** 4 or 16 bytes */
  bytes: Uint8Array;
  prefix: number;
  text: string;
}

/** The default camera networks: the private IPv4 ranges (RFC 1918). IPv6 camera networks (fc00::/7) are listed explicitly. */
export const DEFAULT_CAMERA_NETWORKS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

const ALWAYS_REFUSED = ['0.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4', '::/128', 'fe80::/10', 'ff00::/8'].map(mustCidr);
const LOOPBACK = ['127.0.0.0/8', '::1/128'].map(mustCidr);

export class CameraNetworkRefused extends Error {
  readonly code = 'ECAMERANET';
  constructor(readonly host: string) {
    // the same words whatever the target would have done: nothing was sent to it
    super(`refused: ${host} is not a camera network address (CAMERA_NETWORKS); nothing was sent to it / 该地址不在允许的摄像机网段内，未发起连接`);
    this.name = 'CameraNetworkRefused';
  }
}

/** IPv4 as inet_aton reads it: 1-4 parts, each decimal, 0x-hex or 0-octal; the last part fills the remaining bytes. */
export function parseIPv4Loose(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = p.length === 1 ? 0 : parseInt(p.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(p)) n = Number(p);
    else return null;
    if (!Number.isFinite(n)) return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255)) return null;
  const lastBytes = 4 - nums.length;
  if (last >= 2 ** (8 * lastBytes)) return null;
  const out = new Uint8Array(4);
  nums.forEach((n, i) => { out[i] = n; });
  for (let i = 0; i < lastBytes; i++) out[3 - i] = Math.floor(last / 2 ** (8 * i)) % 256;
  return out;
}

function parseIPv6(s: string): Uint8Array | null {
  if (!isIPv6(s) || s.includes('%')) return null;
  let head = s;
  let tailV4: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = isIPv4(s.slice(lastColon + 1)) ? parseIPv4Loose(s.slice(lastColon + 1)) : null;
    if (!tailV4) return null;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const [l, r] = head.includes('::') ? head.split('::') : [head, undefined];
  const left = l ? l.split(':') : [];
  const right = r === undefined ? [] : r ? r.split(':') : [];
  const fill = r === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array(fill).fill('0'), ...right];
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const v = parseInt(g, 16); out[2 * i] = v >> 8; out[2 * i + 1] = v & 255; });
  if (tailV4) out.set(tailV4, 12);
  return out;
}

const startsWith = (b: Uint8Array, prefix: number[]): boolean => prefix.every((x, i) => b[i] === x);

/**
 * The address a host string stands for, in canonical bytes (4 for IPv4, including IPv4 carried in IPv6), or null
 * when it is a name (to be resolved, then checked). Brackets are accepted.
 */
export function normaliseAddress(host: string): Uint8Array | null {
  const h = host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const v4 = /^[0-9a-fx.]+$/i.test(h) && !/^\.|\.\.|^$/.test(h) ? parseIPv4Loose(h) : null;
  if (v4) return v4;
  const v6 = parseIPv6(h);
  if (!v6) return null;
  const zeros10 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  if (startsWith(v6, [...zeros10, 0xff, 0xff])) return v6.slice(12); // ::ffff:a.b.c.d (IPv4-mapped)
  if (startsWith(v6, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return v6.slice(12); // 64:ff9b::/96 (NAT64)
  if (startsWith(v6, [...zeros10, 0, 0]) && !(v6.slice(12).every((x) => x === 0) || (v6.slice(12, 15).every((x) => x === 0) && v6[15] === 1))) {
    return v6.slice(12); // ::a.b.c.d (IPv4-compatible, deprecated but still routed by some stacks)
  }
  return v6;
}

export function formatAddress(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:::+/, '::');
}

export function parseCidr(text: string): Cidr | null {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  const raw = m[1];
  const bytes = isIPv4(raw) ? parseIPv4Loose(raw) : parseIPv6(raw);
  if (!bytes) return null;
  const max = bytes.length * 8;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return null;
  return { bytes, prefix, text: `${raw}/${prefix}` };
}

function mustCidr(s: string): Cidr {
  const c = parseCidr(s);
  if (!c) throw new Error(`bad CIDR ${s}`);
  return c;
}

export function inCidr(addr: Uint8Array, c: Cidr): boolean {
  if (addr.length !== c.bytes.length) return false;
  let bits = c.prefix;
  for (let i = 0; i < addr.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i] & mask) !== (c.bytes[i] & mask)) return false;
  }
  return true;
}

/** CAMERA_NETWORKS: a comma- or space-separated CIDR list; throws naming the bad entry. */
export function parseCameraNetworks(raw: string | undefined): Cidr[] {
  if (raw === undefined || raw.trim() === '') return DEFAULT_CAMERA_NETWORKS.map(mustCidr);
  return raw.split(/[\s,]+/).filter(Boolean).map((s) => {
    const c = parseCidr(s);
    if (!c) throw new Error(`CAMERA_NETWORKS: "${s.slice(0, 60)}" is not an address range such as 10.0.0.0/8 or fd00::/8`);
    return c;
  });
}

export type AddressVerdict = { ok: true; address: string } | { ok: false; why: 'always_refused' | 'own_listener' | 'outside_networks' };

export class CameraNetworkPolicy {
  /** ports this process listens on (HTTP, HTTPS, …): never a camera, on any local address */
  readonly ownPorts = new Set<number>();
  private readonly endpoints = new Set<string>();

  constructor(readonly networks: Cidr[] = DEFAULT_CAMERA_NETWORKS.map(mustCidr)) {}

  /** Allows one address:port outside CAMERA_NETWORKS (the in-process demo fleet on loopback). */
  allowEndpoint(address: string, port: number): void {
    const b = normaliseAddress(address);
    if (!b) throw new Error(`not an address: ${address}`);
    this.endpoints.add(`${formatAddress(b)}|${port}`);
  }

  private isLocal(b: Uint8Array): boolean {
    if (LOOPBACK.some((c) => inCidr(b, c))) return true;
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) {
        const a = normaliseAddress(i.address);
        if (a && formatAddress(a) === formatAddress(b)) return true;
      }
    }
    return false;
  }

  /** The verdict on an address (any spelling) and port. Names are not addresses: resolve them first. */
  check(host: string, port: number): AddressVerdict {
    const b = normaliseAddress(host);
    if (!b) return { ok: false, why: 'outside_networks' };
    const address = formatAddress(b);
    if (ALWAYS_REFUSED.some((c) => inCidr(b, c)) || (b.length === 4 && b.every((x) => x === 255))) return { ok: false, why: 'always_refused' };
    if (this.ownPorts.has(port) && this.isLocal(b)) return { ok: false, why: 'own_listener' };
    if (this.endpoints.has(`${address}|${port}`)) return { ok: true, address };
    if (this.networks.some((c) => inCidr(b, c))) return { ok: true, address };
    return { ok: false, why: 'outside_networks' };
  }

  /** Throws CameraNetworkRefused unless the address may be reached; returns its canonical form. */
  assert(host: string, port: number): string {
    const v = this.check(host, port);
    if (!v.ok) throw new CameraNetworkRefused(host);
    return v.address;
  }
}

let current: CameraNetworkPolicy | undefined;

/** The process's policy: installed at start (main.ts), else built from CAMERA_NETWORKS in the environment. */
export function cameraNetworks(): CameraNetworkPolicy {
  current ??= new CameraNetworkPolicy(parseCameraNetworks(process.env.CAMERA_NETWORKS));
  return current;
}

export function installCameraNetworkPolicy(p: CameraNetworkPolicy): void {
  current = p;
}
