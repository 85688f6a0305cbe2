import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GbServer } from './server.js';
import { thirdPartyPeer } from '../test/third-party-peers.js';

// A SIP peer we did not write: sipp (Debian's sip-tester; .ci/run installs it) registers with digest auth and
// keeps alive, floods REGISTERs from unknown devices, and sends malformed SIP. The server answers, drops and
// counts, and stays up and bounded.

const hasSipp = thirdPartyPeer('sipp', spawnSync('sipp', ['-v']).status !== null, 'apt-get install sip-tester');
const SERVER_ID = '34020000002000000001';
const REALM = '3402000000';
const dir = join(import.meta.dirname, 'sipp');

function sipp(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { if (out.length < 20_000) out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { if (out.length < 20_000) out += d.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out }); });
  });
}

function injection(rows: string[][]): string {
  const d = mkdtempSync(join(tmpdir(), 'gb-sipp-'));
  const f = join(d, 'devices.csv');
  writeFileSync(f, `SEQUENTIAL\n${rows.map((r) => r.join(';')).join('\n')}\n`);
  return f;
}

describe.skipIf(!hasSipp)('GB/T 28181 SIP server against sipp', () => {
  let server: GbServer;
  const known = new Map<string, string>();

  beforeAll(async () => {
    server = new GbServer({
      serverId: SERVER_ID, realm: REALM, host: '127.0.0.1', port: 0, advertiseHost: '127.0.0.1',
      log: { debug() {}, info() {}, warn() {} },
      authorize: async (id) => (known.has(id) ? { password: known.get(id)! } : null),
      queryTimeoutMs: 500,
    });
    await server.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const base = (csv: string, extra: string[]) => [
    `127.0.0.1:${server.port}`, '-i', '127.0.0.1', '-p', String(20_000 + Math.floor(Math.random() * 20_000)), '-inf', csv, '-nostdin', '-timeout', '40s', '-timeout_error', ...extra,
  ];

  it('registers with digest auth (sipp computes it) and takes a keepalive flood: 50 concurrent dialogs × 2 keepalives', async () => {
    const id = '34020000001320000001';
    known.set(id, 'sipp-secret-1');
    const rows = Array.from({ length: 50 }, () => [id, '', SERVER_ID, REALM]);
    const r = await sipp(base(injection(rows), ['-sf', join(dir, 'register-keepalive.xml'), '-au', id, '-ap', 'sipp-secret-1', '-m', '50', '-l', '50', '-r', '200']));
    expect(r.code, r.out.slice(-2000)).toBe(0);
    expect(server.registrations.size).toBe(1);
    expect(server.counters.register_ok).toBe(50);
    expect(server.counters.keepalive).toBe(100);
    expect(server.isOnline(id)).toBe(true);
  });

  it('refuses a REGISTER flood from unknown devices and wrong passwords (403), holding no state for them', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => [`3402000000132${String(9_000_000 + i)}`, 'guess', SERVER_ID, REALM]);
    // a known device among them, whose digest (made with -ap guess) is wrong
    rows.push(['34020000001320000001', '', SERVER_ID, REALM]);
    const before = server.registrations.size;
    const heap0 = process.memoryUsage().heapUsed;
    const r = await sipp(base(injection(rows), ['-sf', join(dir, 'register-keepalive.xml'), '-au', 'x', '-ap', 'guess', '-m', String(rows.length), '-l', '200', '-r', '400']));
    // every call fails for sipp (403 where it wanted 401/200): that is the point
    expect(r.code).not.toBe(0);
    expect(server.counters.register_unknown_device).toBeGreaterThanOrEqual(500);
    expect(server.counters.register_bad_password).toBeGreaterThanOrEqual(1);
    expect(server.registrations.size).toBe(before);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(50 * 1024 * 1024);
  });

  it('drops malformed SIP with a counter and still answers the next well-formed request', async () => {
    const dropped = () => (server.counters.dropped_malformed ?? 0) + (server.counters.dropped_oversize ?? 0);
    const before = dropped();
    const rows = [['34020000001320000001', 'x', SERVER_ID, REALM]];
    const r = await sipp(base(injection(rows), ['-sf', join(dir, 'malformed.xml'), '-m', '5', '-l', '1']));
    expect(r.code, r.out.slice(-2000)).toBe(0);
    expect(dropped() - before).toBe(15);
    expect(server.counters.dropped_oversize).toBeGreaterThanOrEqual(5); // the lying Content-Length
  });
});
