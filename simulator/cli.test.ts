/** The CLI as an operator uses it: start a fleet, list it, read PTZ, raise an alarm, fault and restore a camera, stop on SIGTERM. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { SimCameraInfo } from './index.js';
import { repoRoot, run, testCacheDir } from './test-helpers.js';

const cli = join(repoRoot, 'simulator', 'cli.ts');
const tsxArgs = ['--import', 'tsx', cli];
let child: ReturnType<typeof spawn> | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

it('runs a fleet, lists it, raises an alarm, applies and clears a fault, and stops cleanly on SIGTERM', async () => {
  child = spawn(
    process.execPath,
    [...tsxArgs, '--cameras', '1', '--rtsp-port', '0', '--http-port', '0', '--control-port', '0', '--discovery-port', '0', '--main', '320x180', '--sub', '160x90', '--data-dir', testCacheDir],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.resume();
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  for (let i = 0; i < 600 && !/control API: /.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  const port = /control API: http:\/\/127\.0\.0\.1:(\d+)\/cameras/.exec(out)?.[1];
  expect(port, out).toBeDefined();

  const listed = await run(process.execPath, [...tsxArgs, 'list', '--control-port', port!], 30_000);
  const cams = JSON.parse(listed.stdout.toString()) as SimCameraInfo[];
  expect(cams.map((c) => c.id)).toEqual(['cam001']);
  expect(cams[0].rtspMain).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/cam\/cam001\/main$/);
  expect(cams[0].ptz).toBe(true); // default --ptz-every 4: camera index 0 is a dome

  const ptz = await run(process.execPath, [...tsxArgs, 'ptz', 'cam001', '--control-port', port!], 30_000);
  expect(ptz.code).toBe(0);
  expect(JSON.parse(ptz.stdout.toString())).toMatchObject({ position: { pan: 0, tilt: 0, zoom: 0 }, moving: false, moves: 0 });

  const alarm = await run(process.execPath, [...tsxArgs, 'alarm', 'cam001', 'motion', 'on', '--control-port', port!], 30_000);
  expect(alarm.code).toBe(0);
  expect(JSON.parse(alarm.stdout.toString())).toEqual({ motion: true, tamper: false, subscriptions: 0, pulls: 0 });
  const badAlarm = await run(process.execPath, [...tsxArgs, 'alarm', 'cam001', 'smoke', 'on', '--control-port', port!], 30_000);
  expect(badAlarm.code).not.toBe(0);

  const faulted = await run(process.execPath, [...tsxArgs, 'fault', 'cam001', 'delay', 'ms=250', 'jitterMs=50', '--control-port', port!], 30_000);
  expect(faulted.code).toBe(0);
  expect(JSON.parse(faulted.stdout.toString())).toEqual({ id: 'cam001', fault: { kind: 'delay', ms: 250, jitterMs: 50 } });
  const bad = await run(process.execPath, [...tsxArgs, 'fault', 'cam001', 'melt', '--control-port', port!], 30_000);
  expect(bad.code).not.toBe(0);
  const restored = await run(process.execPath, [...tsxArgs, 'restore', 'cam001', '--control-port', port!], 30_000);
  expect(JSON.parse(restored.stdout.toString())).toEqual({ id: 'cam001', restored: true });

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});
