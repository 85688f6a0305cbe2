/**
 * npm run simulate -- --cameras N [--source FILE] [--control-port C] [--rtsp-port P] [--http-port H]
 *                     [--host ADDR] [--data-dir DIR] [--main WxH] [--sub WxH] [--gop SECONDS] [--labelled N]
 *                     [--ptz-every N]   (cameras with index % N === 0 are PTZ domes; default 4, 0 = none)
 *                     [--h265 N] [--h265-only N]   (the last N cameras send H.265 on the main stream / on both streams)
 * npm run simulate -- fault <id> <kind> [k=v ...] --control-port C     (kinds: offline stall drop auth-refuse
 *                     resolution width=W height=H, delay ms=M jitterMs=J)
 * npm run simulate -- restore <id> --control-port C
 * npm run simulate -- list --control-port C
 * npm run simulate -- ptz <id> --control-port C      (a dome's position, velocity, presets, move count)
 * npm run simulate -- alarm <id> [<motion|tamper> <on|off>] --control-port C
 *                     (raise/clear an ONVIF alarm; then, or without arguments, print the camera's alarms)
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseAlarm, parseFault } from './control-server.js';
import { startSimulator } from './index.js';

function size(v: string | undefined): { width: number; height: number } | undefined {
  if (!v) return undefined;
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new Error(`bad size ${v} (want WxH)`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function controlCall(base: string, method: string, path: string, body?: unknown): Promise<void> {
  const r = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  if (!r.ok) process.exitCode = 1;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      cameras: { type: 'string', default: '4' },
      source: { type: 'string' },
      'control-port': { type: 'string' },
      'rtsp-port': { type: 'string' },
      'http-port': { type: 'string' },
      'discovery-port': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string', default: process.env.DATA_DIR ?? join(process.cwd(), 'data') },
      main: { type: 'string' },
      sub: { type: 'string' },
      gop: { type: 'string' },
      labelled: { type: 'string' },
      'ptz-every': { type: 'string' },
      h265: { type: 'string' },
      'h265-only': { type: 'string' },
      prefix: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: simulate --cameras N [--source FILE] [--control-port C] [--rtsp-port P] [--http-port H] [--host ADDR]\n' +
        '                [--data-dir DIR] [--main WxH] [--sub WxH] [--gop SECONDS] [--labelled N] [--prefix NAME] [--ptz-every N] [--h265 N] [--h265-only N]\n' +
        '       simulate fault <id> <offline|stall|drop|auth-refuse|resolution|delay> [width=W height=H ms=M jitterMs=J afterMs=A] --control-port C\n' +
        '       simulate restore <id> --control-port C\n       simulate list --control-port C\n       simulate ptz <id> --control-port C\n' +
        '       simulate alarm <id> [<motion|tamper> <on|off>] --control-port C\n',
    );
    return;
  }
  const [cmd, ...rest] = positionals;
  if (cmd === 'fault' || cmd === 'restore' || cmd === 'list' || cmd === 'ptz' || cmd === 'alarm') {
    const port = int(values['control-port'], 'control-port');
    if (!port) throw new Error('--control-port is required');
    const base = `http://${values.host}:${port}`;
    if (cmd === 'list') return controlCall(base, 'GET', '/cameras');
    const id = rest[0];
    if (!id) throw new Error(`${cmd} needs a camera id`);
    if (cmd === 'ptz') return controlCall(base, 'GET', `/cameras/${encodeURIComponent(id)}/ptz`);
    if (cmd === 'alarm') {
      if (rest.length > 1) {
        if (rest[2] !== 'on' && rest[2] !== 'off') throw new Error('alarm wants <motion|tamper> <on|off>');
        const a = parseAlarm({ kind: rest[1], active: rest[2] === 'on' });
        const r = await fetch(`${base}/cameras/${encodeURIComponent(id)}/alarm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(a) });
        if (!r.ok) {
          process.stdout.write(await r.text());
          process.exitCode = 1;
          return;
        }
      }
      // Show the result (POST answers 204): the states, live subscriptions and pulls served.
      return controlCall(base, 'GET', `/cameras/${encodeURIComponent(id)}/alarms`);
    }
    if (cmd === 'restore') return controlCall(base, 'DELETE', `/cameras/${encodeURIComponent(id)}/faults`);
    const fault: Record<string, unknown> = { kind: rest[1] };
    for (const kv of rest.slice(2)) {
      const [k, v] = kv.split('=');
      if (!k || v === undefined) throw new Error(`bad parameter ${kv} (want key=value)`);
      fault[k] = Number(v);
    }
    return controlCall(base, 'POST', `/cameras/${encodeURIComponent(id)}/faults`, parseFault(fault));
  }
  if (cmd) throw new Error(`unknown command ${cmd}`);

  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const sim = await startSimulator({
    cameras: int(values.cameras, 'cameras') ?? 4,
    source: values.source,
    dataDir: values['data-dir']!,
    host: values.host,
    rtspPort: int(values['rtsp-port'], 'rtsp-port') ?? 8554,
    httpPort: int(values['http-port'], 'http-port') ?? 8080,
    controlPort: int(values['control-port'], 'control-port') ?? 8081,
    discoveryPort: int(values['discovery-port'], 'discovery-port'),
    mainSize: size(values.main),
    subSize: size(values.sub),
    keyframeIntervalS: values.gop ? Number(values.gop) : undefined,
    labelledCameras: int(values.labelled, 'labelled'),
    ptzEvery: int(values['ptz-every'], 'ptz-every'),
    h265Cameras: int(values.h265, 'h265'),
    h265OnlyCameras: int(values['h265-only'], 'h265-only'),
    namePrefix: values.prefix,
    logger,
    onProgress: (p) => process.stderr.write(`\r${p.stage} ${p.done}/${p.total}${p.done === p.total ? '\n' : ''}`),
  });
  // The camera list (with credentials) goes to stdout for the operator; the logs never carry passwords.
  process.stdout.write(`${JSON.stringify(sim.cameras(), null, 2)}\n`);
  process.stdout.write(`control API: ${sim.controlUrl}/cameras\n`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: sig }, 'stopping simulator');
    sim.stop().then(
      () => process.exit(0),
      (e: Error) => {
        logger.error({ err: e.message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: Error) => {
  process.stderr.write(`simulate: ${e.message}\n`);
  process.exit(1);
});
