/**
 * WS-Discovery (ONVIF Core §7): a unicast Probe to one host (range scans across routed police networks, where
 * multicast does not travel) and the multicast Probe through the `onvif` package's Discovery.
 */
import { createSocket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { onvifLib } from './client.js';

export interface DiscoveredEndpoint {
  /** endpoint reference (urn:uuid:...) */
  endpoint: string | null;
  /** device service URLs the device announced */
  xaddrs: string[];
  scopes: string[];
  /** the address the answer came from */
  from: string;
}

export const WS_DISCOVERY_PORT = 3702;
const MULTICAST_ADDRESS = '239.255.255.250';

export function probeMessage(messageId: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    '<s:Header><a:MessageID>' + messageId + '</a:MessageID>' +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
    '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>';
}

const decodeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** Every ProbeMatch in a ProbeMatches message (one message may carry several, e.g. an NVR or a simulator). */
export function parseProbeMatches(xml: string, from: string): DiscoveredEndpoint[] {
  const out: DiscoveredEndpoint[] = [];
  const matches = xml.match(/<(?:[\w-]+:)?ProbeMatch[\s>][\s\S]*?<\/(?:[\w-]+:)?ProbeMatch>/g) ?? [];
  for (const m of matches) {
    const tag = (name: string) => new RegExp(`<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w-]+:)?${name}>`).exec(m)?.[1]?.trim() ?? '';
    const xaddrs = decodeXml(tag('XAddrs')).split(/\s+/).filter((x) => /^https?:\/\//i.test(x));
    const scopes = decodeXml(tag('Scopes')).split(/\s+/).filter(Boolean);
    const endpoint = decodeXml(tag('Address')) || null;
    if (xaddrs.length) out.push({ endpoint, xaddrs, scopes, from });
  }
  return out;
}

/**
 * Sends a WS-Discovery Probe to host:port over UDP and collects ProbeMatches for timeoutMs. A closed port on a
 * reachable host answers with ICMP port-unreachable, which ends the wait early (the socket is connected).
 */
export function unicastProbe(host: string, port = WS_DISCOVERY_PORT, timeoutMs = 1500, signal?: AbortSignal): Promise<DiscoveredEndpoint[]> {
  return new Promise((resolve) => {
    const found = new Map<string, DiscoveredEndpoint>();
    const messageId = `urn:uuid:${randomUUID()}`;
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let finished = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(grace);
      signal?.removeEventListener('abort', finish);
      try { socket.close(); } catch { /* already closed */ }
      resolve([...found.values()]);
    };
    const timer = setTimeout(finish, timeoutMs);
    signal?.addEventListener('abort', finish, { once: true });
    socket.on('error', finish);
    socket.on('message', (msg, rinfo) => {
      const xml = msg.toString('utf8');
      // answers to someone else's probe are not ours
      if (/RelatesTo/.test(xml) && !xml.includes(messageId)) return;
      for (const ep of parseProbeMatches(xml, rinfo.address)) found.set(ep.endpoint ?? ep.xaddrs.join(' '), ep);
      // a device (or an NVR answering for several) sends its matches at once: a short grace, then done
      if (found.size && !grace) grace = setTimeout(finish, Math.min(300, timeoutMs));
    });
    try {
      socket.connect(port, host, () => {
        if (finished) return;
        const buf = Buffer.from(probeMessage(messageId), 'utf8');
        socket.send(buf, (err) => { if (err) finish(); });
      });
    } catch {
      finish();
    }
  });
}

export interface MulticastResult {
  devices: DiscoveredEndpoint[];
  /** why multicast did not work, in words (null when the probe went out) */
  error: string | null;
}

let multicastChain: Promise<unknown> = Promise.resolve();
let errorListenerInstalled = false;

/**
 * The multicast Probe (239.255.255.250:3702) via the onvif package's Discovery singleton. Probes run one at a
 * time (the singleton's events are global). Where multicast is impossible (no route, container networking,
 * blocked by policy) the answer says so instead of hanging.
 */
export function multicastProbe(timeoutMs = 3000): Promise<MulticastResult> {
  const run = () => new Promise<MulticastResult>((resolve) => {
    const Discovery = onvifLib.Discovery;
    if (!errorListenerInstalled) {
      // Discovery emits 'error' for every malformed answer; without a listener that would crash the process
      Discovery.on('error', () => {});
      errorListenerInstalled = true;
    }
    let settled = false;
    let sendError: string | null = null;
    const settle = (r: MulticastResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      resolve(r);
    };
    const guard = setTimeout(() => settle({ devices: [], error: sendError ?? `the multicast probe did not finish within ${Math.round(timeoutMs / 1000) + 2} s` }), timeoutMs + 2000);
    try {
      Discovery.probe({ timeout: timeoutMs, resolve: false }, (err, devices) => {
        const errs = Array.isArray(err) ? err : err ? [err] : [];
        const fatal = errs.find((e) => typeof (e as NodeJS.ErrnoException)?.code === 'string');
        if (fatal && devices === undefined) {
          // socket error: called back at once, and again at the timeout; the first answer decides
          sendError = describeMulticastError(fatal as NodeJS.ErrnoException);
          settle({ devices: [], error: sendError });
          return;
        }
        const out: DiscoveredEndpoint[] = [];
        for (const d of devices ?? []) {
          const m = (d as { probeMatches?: { probeMatch?: unknown } }).probeMatches?.probeMatch;
          for (const pm of Array.isArray(m) ? m : m ? [m] : []) {
            const p = pm as { XAddrs?: unknown; scopes?: unknown; endpointReference?: { address?: unknown } };
            const xaddrs = String(p.XAddrs ?? '').split(/\s+/).filter((x) => /^https?:\/\//i.test(x));
            if (!xaddrs.length) continue;
            const host = (() => { try { return new URL(xaddrs[0]).hostname; } catch { return ''; } })();
            out.push({ endpoint: typeof p.endpointReference?.address === 'string' ? p.endpointReference.address : null, xaddrs, scopes: String(p.scopes ?? '').split(/\s+/).filter(Boolean), from: host });
          }
        }
        settle({ devices: out, error: null });
      });
    } catch (err) {
      settle({ devices: [], error: describeMulticastError(err as NodeJS.ErrnoException) });
    }
  });
  const next = multicastChain.then(run, run);
  multicastChain = next.catch(() => {});
  return next;
}

function describeMulticastError(err: NodeJS.ErrnoException): string {
  const code = err?.code ?? '';
  const base = `multicast WS-Discovery is not possible on this network (${code || err?.message || 'socket error'})`;
  return `${base}: scan an address range instead`;
}

export { MULTICAST_ADDRESS };
