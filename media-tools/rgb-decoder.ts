/**
 * The one decoder to packed RGB frames: ffmpeg (argument array, no shell) writing rgb24 to stdout, split here into
 * frames. Used by analytics' file and RTSP sources (analytics/frame-source.ts) and by ingest's frame tap, which
 * feeds a session's fMP4 on stdin (ingest/frame-tap.ts). The caller builds the input options under its own rules
 * (rtsp only, file only, a pipe); this module adds sampling, scaling and the raw output.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** A decoded frame: packed RGB24, row-major, no padding. */
export interface RgbFrame {
  cameraId: string;
  /** Capture time in ms since the epoch (video time when replaying a file; decoder output time when live). */
  ts: number;
  width: number;
  height: number;
  rgb: Buffer;
}

/** Frames per second to sample, or keyframes only (`-skip_frame nokey`: the cheapest on a live stream). */
export type DecodeRate = number | 'keyframes';

export interface RgbDecoderOptions {
  /** input options before `-i` (protocol whitelist, demuxer, probing) */
  inputOptions: string[];
  /** what follows `-i` */
  input: string;
  rate: DecodeRate;
  /** output size; without it each frame's size is read from ffmpeg's showinfo filter */
  size?: { width: number; height: number };
  /** read each frame's presentation time (showinfo): file replays stamp frames with video time */
  timestamps?: boolean;
  /** the input is written through write() (stdin); otherwise stdin only carries the `q` that stops ffmpeg */
  feed?: boolean;
  /** with a numeric rate: 'cfr' fills every slot (file replay, -vsync cfr), 'vfr' passes frames as they come (live) */
  vsync?: 'cfr' | 'vfr';
}

export interface DecodedFrame {
  width: number;
  height: number;
  rgb: Buffer;
  /** presentation time in ms, with `timestamps` */
  ptsMs: number | null;
}

export interface DecoderExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** spawning failed */
  error?: Error;
  /** the last lines ffmpeg wrote besides showinfo */
  stderr: string;
}

const usesShowinfo = (o: Pick<RgbDecoderOptions, 'timestamps' | 'size'>) => !!o.timestamps || !o.size;

export function rgbDecoderArgs(o: RgbDecoderOptions): string[] {
  // showinfo writes at level info; otherwise only errors (a live decoder runs for days)
  const args = ['-hide_banner', '-loglevel', usesShowinfo(o) ? 'info' : 'error'];
  if (o.feed) args.push('-nostdin');
  args.push(...o.inputOptions);
  if (o.rate === 'keyframes') args.push('-skip_frame', 'nokey');
  args.push('-i', o.input, '-an', '-sn', '-dn');
  const filters: string[] = [];
  if (typeof o.rate === 'number') filters.push(`fps=${o.rate}`);
  if (o.size) filters.push(`scale=${o.size.width}:${o.size.height}`);
  if (usesShowinfo(o)) filters.push('showinfo');
  // -vsync (not -fps_mode): the npm-shipped ffmpeg 4.1 predates -fps_mode.
  const vsync = typeof o.rate === 'number' ? o.vsync ?? 'cfr' : 'passthrough';
  args.push('-vf', filters.join(','), '-vsync', vsync, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  return args;
}

const SHOWINFO = /Parsed_showinfo.*?pts_time:\s*(-?[\d.]+).*?\bs:(\d+)x(\d+)/;

/**
 * One ffmpeg decoding process. Frames go to onFrame as soon as their bytes (and, with showinfo, their line) are in;
 * pause()/resume() hold the output back for a consumer that wants every frame (files).
 */
export class RgbDecoder {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly showinfo: boolean;
  private readonly infos: Array<{ ptsMs: number; width: number; height: number }> = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private stderrTail = '';
  private exitedFlag = false;
  /** set by stop(): the exit that follows is not a failure */
  stopping = false;
  /** Resolves once ffmpeg has exited and its output has been read (or failed to start). */
  readonly closed: Promise<DecoderExit>;
  private readonly exited: Promise<void>;

  constructor(ffmpegPath: string, private readonly o: RgbDecoderOptions, private readonly onFrame: (f: DecodedFrame) => void) {
    this.showinfo = usesShowinfo(o);
    const child = spawn(ffmpegPath, rgbDecoderArgs(o), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    // ffmpeg may close stdin before we write to it or send 'q' (it is exiting anyway): EPIPE there is not an error.
    child.stdin.on('error', () => {});
    let pending = '';
    const readLines = (text: string) => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = this.showinfo ? SHOWINFO.exec(line) : null;
        if (m) this.infos.push({ ptsMs: Number(m[1]) * 1000, width: Number(m[2]), height: Number(m[3]) });
        else if (line.trim()) this.stderrTail = (this.stderrTail + line + '\n').slice(-2000);
      }
      this.split();
    };
    child.stderr.on('data', (d: Buffer) => readLines(d.toString()));
    child.stderr.on('end', () => readLines('\n'));
    child.stdout.on('data', (d: Buffer) => {
      // While stopping, drain and drop: a paused pipe would keep ffmpeg from exiting.
      if (this.stopping) return;
      this.chunks.push(d);
      this.buffered += d.length;
      this.split();
    });
    this.exited = new Promise((resolve) => {
      const done = () => {
        this.exitedFlag = true;
        resolve();
      };
      child.once('exit', done);
      child.once('error', done);
    });
    this.closed = new Promise((resolve) => {
      child.once('error', (error) => {
        resolve({ code: null, signal: null, error, stderr: this.stderrTail });
      });
      child.once('close', (code, signal) => resolve({ code, signal, stderr: this.stderrTail }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Bytes written to stdin that ffmpeg has not taken yet (a decoder falling behind). */
  get backlog(): number {
    return this.child.stdin.writableLength;
  }

  /** Feeds input (with `feed`). */
  write(buf: Buffer): void {
    this.child.stdin.write(buf);
  }

  /** Ends the input (with `feed`): ffmpeg decodes what it has, hands it out and exits. */
  end(): void {
    this.child.stdin.end();
  }

  pause(): void {
    this.child.stdout.pause();
  }

  resume(): void {
    if (this.child.stdout.isPaused()) this.child.stdout.resume();
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  /** Hands out every complete frame: its bytes, paired in order with its showinfo line where there is one. */
  private split(): void {
    for (;;) {
      const info = this.showinfo ? this.infos[0] : undefined;
      if (this.showinfo && !info) return;
      const width = info?.width ?? this.o.size!.width;
      const height = info?.height ?? this.o.size!.height;
      const need = width * height * 3;
      if (this.buffered < need) return;
      if (info) this.infos.shift();
      this.onFrame({ width, height, rgb: this.take(need), ptsMs: info ? info.ptsMs : null });
    }
  }

  /** Stops now, dropping output still to come: EOF when fed, `q` otherwise (RTSP TEARDOWN); SIGTERM after 2 s, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.exitedFlag) return;
    this.stopping = true;
    const child = this.child;
    const term = setTimeout(() => child.kill('SIGTERM'), 2000);
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    try {
      if (this.o.feed) child.stdin.end();
      else child.stdin.end('q');
    } catch {
      child.kill('SIGTERM');
    }
    child.stdout.resume();
    // 'exit', not 'close': close also waits for stdio, which a consumer may have left unread.
    await this.exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}
