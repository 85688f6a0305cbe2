/**
 * Load generator for bench/gb.ts, in its own process so that the server's CPU figure is the server's alone:
 * N GB/T 28181 devices (1,000 per UDP socket) REGISTER with digest auth, then send a Keepalive every K seconds
 * each, spread evenly. Requests from the server (queries, SUBSCRIBE) get a 200 OK and no answer, like a terse device.
 *   tsx bench/gb-load.ts <host> <port> <serverId> <realm> <devices> <password> <keepaliveS> <durationS>
 * Prints one JSON line per phase on stdout.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { SipHeaders, makeResponse, parseMessage, topBranch, type SipRequest } from '../gb28181/sip/message.js';
import { serialize } from '../gb28181/sip/message.js';
import { authorizationFor } from '../gb28181/sip/digest.js';
import { buildManscdp } from '../gb28181/manscdp.js';

const [host, portS, serverId, realm, countS, password, keepaliveS, durationS] = process.argv.slice(2);
const port = Number(portS);
const count = Number(countS);
const ids = Array.from({ length: count }, (_, i) => `${realm.slice(0, 10)}132${String(i + 1).padStart(7, '0')}`);
const sockets: Socket[] = [];
const pending = new Map<string, (status: number, www?: string) => void>();
let sent = 0;
let ok = 0;

function request(s: Socket, method: string, id: string, extra: Array<[string, string]>, body?: Buffer, cseq = 1): SipRequest {
  const h = new SipHeaders();
  h.add('Via', `SIP/2.0/UDP 127.0.0.1:${s.address().port};rport;branch=z9hG4bK${randomBytes(6).toString('hex')}`);
  h.add('From', `<sip:${id}@${realm}>;tag=${randomBytes(4).toString('hex')}`);
  h.add('To', method === 'REGISTER' ? `<sip:${id}@${realm}>` : `<sip:${serverId}@${realm}>`);
  h.add('Call-ID', `${id}-${randomBytes(4).toString('hex')}`);
  h.add('CSeq', `${cseq} ${method}`);
  h.add('Max-Forwards', '70');
  for (const [k, v] of extra) h.add(k, v);
  if (body) h.add('Content-Type', 'Application/MANSCDP+xml');
  return { kind: 'request', method, uri: `sip:${serverId}@${realm}`, headers: h, body: body ?? Buffer.alloc(0) };
}

function send(s: Socket, req: SipRequest): Promise<{ status: number; www?: string }> {
  const b = topBranch(req)!;
  return new Promise((resolve) => {
    const t = setTimeout(() => { pending.delete(b); resolve({ status: 0 }); }, 10_000);
    pending.set(b, (status, www) => { clearTimeout(t); resolve({ status, www }); });
    s.send(serialize(req), port, host);
  });
}

async function main(): Promise<void> {
  for (let i = 0; i < Math.ceil(count / 1000); i++) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    try { s.setRecvBufferSize(4 * 1024 * 1024); } catch { /* capped */ }
    s.on('message', (buf) => {
      let m;
      try { m = parseMessage(buf); } catch { return; }
      if (m.kind === 'response') {
        if (m.status < 200) return;
        const b = topBranch(m);
        const f = b ? pending.get(b) : undefined;
        if (f) { pending.delete(b!); f(m.status, m.headers.get('www-authenticate')); }
      } else if (m.method !== 'ACK') s.send(serialize(makeResponse(m, 200, 'OK', { toTag: 'x' })), port, host);
    });
    sockets.push(s);
  }
  const t0 = Date.now();
  let registered = 0;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const s = sockets[Math.floor(i / 1000)];
      const contact: Array<[string, string]> = [['Contact', `<sip:${ids[i]}@127.0.0.1:${s.address().port}>`], ['Expires', '3600']];
      const first = await send(s, request(s, 'REGISTER', ids[i], contact));
      if (first.status !== 401 || !first.www) continue;
      const auth = authorizationFor(first.www, { username: ids[i], password, method: 'REGISTER', uri: `sip:${serverId}@${realm}` });
      const second = await send(s, request(s, 'REGISTER', ids[i], [...contact, ['Authorization', auth]], undefined, 2));
      if (second.status === 200) registered++;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  process.stdout.write(JSON.stringify({ phase: 'registered', registered, ms: Date.now() - t0 }) + '\n');
  // keepalives: each device every keepaliveS, spread evenly over the interval
  const every = Number(keepaliveS) * 1000;
  const end = Date.now() + Number(durationS) * 1000;
  const perTick = count / (every / 100);
  let carry = 0;
  let cursor = 0;
  let sn = 1;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (Date.now() >= end) { clearInterval(timer); resolve(); return; }
      carry += perTick;
      while (carry >= 1) {
        carry--;
        const i = cursor++ % count;
        const s = sockets[Math.floor(i / 1000)];
        const body = buildManscdp('Notify', { CmdType: 'Keepalive', SN: sn++, DeviceID: ids[i], Status: 'OK' });
        sent++;
        void send(s, request(s, 'MESSAGE', ids[i], [], body)).then((r) => { if (r.status === 200) ok++; });
      }
    }, 100);
  });
  await new Promise((r) => setTimeout(r, 1500));
  process.stdout.write(JSON.stringify({ phase: 'keepalive', sent, ok }) + '\n');
  for (const s of sockets) s.close();
}

main().catch((err) => { process.stderr.write(String(err?.stack ?? err)); process.exit(1); });
