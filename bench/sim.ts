/**
 * npm run bench:sim [-- --counts 10,100,300 --streams both|main|sub --seconds 15 --ffmpeg-readers 2]
 *
 * CPU% and RSS of the camera simulator serving N cameras to real readers. Three processes, so the
 * numbers do not mix: the simulator (child, measured), a reader process (child, measured separately)
 * that runs a real RTSP client per stream (DESCRIBE with Digest auth, SETUP interleaved TCP, PLAY,
 * demux RTP, check timestamps), plus a few ffmpeg readers (`-c copy -f null`) as reference clients.
 * CPU is read from /proc/<pid>/stat (user+system) over a steady window after warm-up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveFfmpeg } from '../media-tools/ffmpeg-path.js';
import type { SimCameraInfo } from '../simulator/index.js';
import { RtspReader } from '../simulator/rtsp-test-client.js';

const CLK_TCK = 100;

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function roleServer(cameras: number): Promise<void> {
  const { startSimulator } = await import('../simulator/index.js');
  const pino = (await import('pino')).default;
  const sim = await startSimulator({
    cameras,
    dataDir: process.env.SIM_BENCH_DATA ?? join(tmpdir(), 'streeteye-sim-bench-cache'),
    discoveryMulticast: false,
    logger: pino({ level: 'warn' }),
    onProgress: (p) => process.stderr.write(`\r  encode ${p.done}/${p.total}   `),
  });
  process.send!({ cameras: sim.cameras(), memoryBytes: sim.stats().memoryBytes });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'stats') process.send!({ stats: sim.stats() });
    if (m.cmd === 'stop') void sim.stop().then(() => process.exit(0));
  });
}

async function roleReader(): Promise<void> {
  const readers: RtspReader[] = [];
  process.on('message', async (m: { cmd: string; urls?: Array<{ url: string; user: string; pass: string }> }) => {
    if (m.cmd === 'start') {
      const failed: string[] = [];
      // Connect in batches: a real fleet does not all dial at the same millisecond either.
      for (let i = 0; i < m.urls!.length; i += 25) {
        await Promise.all(
          m.urls!.slice(i, i + 25).map(async (u) => {
            const r = new RtspReader(u.url, u.user, u.pass);
            try {
              await r.start();
              readers.push(r);
            } catch (e) {
              failed.push(`${u.url}: ${(e as Error).message}`);
            }
          }),
        );
      }
      process.send!({ started: readers.length, failed });
    }
    if (m.cmd === 'report') {
      process.send!({
        report: {
          bytes: readers.reduce((n, r) => n + r.bytes, 0),
          frames: readers.reduce((n, r) => n + r.frames, 0),
          regressions: readers.reduce((n, r) => n + r.regressions, 0),
        },
      });
    }
    if (m.cmd === 'stop') {
      for (const r of readers) r.stop();
      process.exit(0);
    }
  });
}

function forkRole(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextMessage<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', onMsg);
        resolve(m as T);
      }
    };
    child.on('message', onMsg);
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function benchOne(n: number, streams: string, seconds: number, ffmpegReaders: number) {
  const server = forkRole(['--role', 'server', '--cameras', String(n)]);
  const { cameras, memoryBytes } = await nextMessage<{ cameras: SimCameraInfo[]; memoryBytes: number }>(server, 'cameras');
  process.stderr.write('\n');
  const idleRss = rssMb(server.pid!);
  const reader = forkRole(['--role', 'reader']);
  const urls = cameras.flatMap((c) =>
    (streams === 'both' ? ['main', 'sub'] : [streams]).map((s) => ({ url: s === 'main' ? c.rtspMain : c.rtspSub, user: c.username, pass: c.password })),
  );
  reader.send({ cmd: 'start', urls });
  const started = await nextMessage<{ started: number; failed: string[] }>(reader, 'started');
  if (started.failed.length) console.error(`  ${started.failed.length} readers failed, e.g. ${started.failed[0]}`);
  const ffmpegs = cameras.slice(0, ffmpegReaders).map((c) => {
    const u = new URL(c.rtspMain);
    u.username = c.username;
    u.password = c.password;
    return spawn(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-rtsp_transport', 'tcp', '-i', u.toString(), '-c', 'copy', '-f', 'null', '-'], { stdio: 'ignore' });
  });
  await sleep(3000); // warm-up: every reader past its first keyframe
  reader.send({ cmd: 'report' });
  const r0 = (await nextMessage<{ report: { bytes: number; frames: number; regressions: number } }>(reader, 'report')).report;
  const s0 = cpuTicks(server.pid!);
  const c0 = cpuTicks(reader.pid!);
  const f0 = ffmpegs.reduce((n, f) => n + cpuTicks(f.pid!), 0);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const wall = (Date.now() - t0) / 1000;
  const s1 = cpuTicks(server.pid!);
  const c1 = cpuTicks(reader.pid!);
  const f1 = ffmpegs.reduce((n, f) => n + cpuTicks(f.pid!), 0);
  reader.send({ cmd: 'report' });
  const r1 = (await nextMessage<{ report: { bytes: number; frames: number; regressions: number } }>(reader, 'report')).report;
  const result = {
    cameras: n,
    sessions: started.started + ffmpegs.length,
    simCpuPct: (((s1 - s0) / CLK_TCK) * 100) / wall,
    simRssMb: rssMb(server.pid!),
    simIdleRssMb: idleRss,
    mediaMb: memoryBytes / 1048576,
    readerCpuPct: (((c1 - c0) / CLK_TCK) * 100) / wall,
    ffmpegReadersCpuPct: (((f1 - f0) / CLK_TCK) * 100) / wall,
    mbitPerS: ((r1.bytes - r0.bytes) * 8) / wall / 1e6,
    framesPerS: (r1.frames - r0.frames) / wall,
    tsRegressions: r1.regressions,
  };
  for (const f of ffmpegs) f.kill('SIGTERM');
  reader.send({ cmd: 'stop' });
  server.send({ cmd: 'stop' });
  await Promise.all([reader, server].map((c) => new Promise((res) => (c.exitCode !== null ? res(null) : c.once('exit', res)))));
  return result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      cameras: { type: 'string' },
      counts: { type: 'string', default: '10,100,300' },
      streams: { type: 'string', default: 'both' },
      seconds: { type: 'string', default: '15' },
      'ffmpeg-readers': { type: 'string', default: '2' },
    },
  });
  if (values.role === 'server') return roleServer(Number(values.cameras));
  if (values.role === 'reader') return roleReader();
  const counts = values.counts!.split(',').map(Number);
  console.log(`simulator bench: streams=${values.streams}, ${values.seconds} s window, node ${process.version}, ${process.platform}`);
  const rows = [];
  for (const n of counts) {
    console.log(`- ${n} cameras ...`);
    const r = await benchOne(n, values.streams!, Number(values.seconds), Number(values['ffmpeg-readers']));
    rows.push(r);
    console.log(
      `  sim CPU ${r.simCpuPct.toFixed(1)}% of one core, RSS ${r.simRssMb.toFixed(0)} MB (idle ${r.simIdleRssMb.toFixed(0)} MB, media ${r.mediaMb.toFixed(0)} MB); ` +
        `${r.sessions} sessions, ${r.mbitPerS.toFixed(0)} Mb/s, ${r.framesPerS.toFixed(0)} frames/s; readers CPU ${r.readerCpuPct.toFixed(1)}% (+ ffmpeg ${r.ffmpegReadersCpuPct.toFixed(1)}%); ` +
        `RTP timestamp regressions ${r.tsRegressions}`,
    );
  }
  console.table(rows.map((r) => ({ cameras: r.cameras, sessions: r.sessions, 'sim CPU %': r.simCpuPct.toFixed(1), 'sim RSS MB': r.simRssMb.toFixed(0), 'Mb/s': r.mbitPerS.toFixed(0), 'reader CPU %': r.readerCpuPct.toFixed(1), 'ts regressions': r.tsRegressions })));
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
