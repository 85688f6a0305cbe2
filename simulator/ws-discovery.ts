/**
 * WS-Discovery responder (ONVIF Core 7.3): answers Probe messages with one ProbeMatches datagram per
 * camera (XAddrs = its device service). Unicast probes to our UDP port always work; joining the
 * 239.255.255.250:3702 multicast group is attempted only on request and a failure is only logged.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { xmlEscape } from './onvif-service.js';

export const WS_DISCOVERY_ADDRESS = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

export interface DiscoverableDevice {
  uuid: string;
  name: string;
  xaddr: string;
}

function probeMatch(relatesTo: string, d: DiscoverableDevice): string {
  const scopes = ['onvif://www.onvif.org/Profile/Streaming', 'onvif://www.onvif.org/type/video_encoder', `onvif://www.onvif.org/name/${encodeURIComponent(d.name)}`, 'onvif://www.onvif.org/hardware/SimCam-2'].join(' ');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">' +
    '<s:Header><a:MessageID>urn:uuid:' + randomUUID() + '</a:MessageID>' +
    `<a:RelatesTo>${xmlEscape(relatesTo)}</a:RelatesTo>` +
    '<a:To s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>' +
    '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header>' +
    '<s:Body><d:ProbeMatches><d:ProbeMatch>' +
    `<a:EndpointReference><a:Address>urn:uuid:${d.uuid}</a:Address></a:EndpointReference>` +
    '<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>' +
    `<d:Scopes>${xmlEscape(scopes)}</d:Scopes>` +
    `<d:XAddrs>${xmlEscape(d.xaddr)}</d:XAddrs>` +
    '<d:MetadataVersion>1</d:MetadataVersion>' +
    '</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>'
  );
}

export class WsDiscoveryResponder {
  private unicast?: Socket;
  private multicast?: Socket;
  private readonly log: Logger;
  port = 0;

  constructor(
    private readonly devices: () => DiscoverableDevice[],
    log: Logger,
  ) {
    this.log = log.child({ module: 'sim-discovery' });
  }

  async start(host: string, port: number, multicast: boolean): Promise<void> {
    this.unicast = await this.bind(port, host);
    this.port = this.unicast.address().port;
    if (multicast) {
      try {
        const s = await this.bind(WS_DISCOVERY_PORT, undefined, true);
        s.addMembership(WS_DISCOVERY_ADDRESS);
        this.multicast = s;
      } catch (e) {
        this.log.info({ err: (e as Error).message }, 'WS-Discovery multicast unavailable; unicast probes only');
        this.multicast?.close();
        this.multicast = undefined;
      }
    }
  }

  private bind(port: number, host?: string, reuse = false): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = createSocket({ type: 'udp4', reuseAddr: reuse });
      s.once('error', (e) => {
        try {
          s.close();
        } catch {
          /* already closed */
        }
        reject(e);
      });
      s.on('message', (msg, rinfo) => this.onMessage(s, msg, rinfo));
      s.bind(port, host, () => {
        s.removeAllListeners('error');
        s.on('error', (e) => this.log.debug({ err: e.message }, 'discovery socket error'));
        resolve(s);
      });
    });
  }

  private onMessage(sock: Socket, msg: Buffer, rinfo: RemoteInfo): void {
    const xml = msg.toString('utf8');
    if (!/<(?:\w+:)?Probe[\s>]/.test(xml)) return;
    const types = /<(?:\w+:)?Types[^>]*>([^<]*)</.exec(xml)?.[1] ?? '';
    // An empty Types matches everything; otherwise only probes for video transmitters or devices.
    if (types.trim() && !/NetworkVideoTransmitter|Device/.test(types)) return;
    const relatesTo = /<(?:\w+:)?MessageID[^>]*>([^<]*)</.exec(xml)?.[1] ?? '';
    for (const d of this.devices()) {
      sock.send(probeMatch(relatesTo, d), rinfo.port, rinfo.address);
    }
  }

  stop(): void {
    this.unicast?.close();
    this.multicast?.close();
  }
}
