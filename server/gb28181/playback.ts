/**
 * Playback of a GB device's or lower platform's own recordings (their NVR, not StreetEye's store):
 *
 *   spans()  RecordInfo of the channel for a range → merged spans for the day's timeline
 *   open()   INVITE s=Playback, t=<start> <end>, u=<channel>:0, a playback SSRC (first digit 1) → PS over RTP →
 *            demuxed access units → a clean PS into ffmpeg `-c copy` → an fMP4 HLS playlist (EVENT while it
 *            arrives, VOD with ENDLIST once the device says the range is over) in a scratch directory
 *   control() speed (INFO MANSRTSP PLAY Scale), pause (PAUSE), resume (PLAY)
 *   close()  BYE; the directory goes with the session
 * The device's MediaStatus 121 (end of the range) ends the dialog (BYE) and the playlist; a session nobody reads for
 * idleMs is closed. Sessions are bounded (maxSessions); ffmpeg's arguments hold nothing a user typed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { GbServer, Dialog } from '../../gb28181/server.js';
import { GbError } from '../../gb28181/server.js';
import { RtpPsReceiver } from '../../gb28181/media-receiver.js';
import { buildOfferSdp, makeSsrc, parseSdp, type MediaTransport } from '../../gb28181/sdp.js';
import { muxPsFrame } from '../../gb28181/ps.js';
import { mergeRecordSpans, SCALES, type RecordItem } from '../../gb28181/record-info.js';

export interface GbPlaybackOptions {
  server: GbServer;
  ffmpegPath: string;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  serverId: string;
  advertiseHost: string;
  bindHost: string;
  mediaTransport: MediaTransport;
  rtpPorts: [number, number];
  inviteTimeoutMs: number;
  maxSessions?: number;
  idleMs?: number;
  /** seconds per HLS segment */
  segmentS?: number;
}

export interface PlaybackSession {
  id: string;
  cameraId: string;
  deviceId: string;
  channelId: string;
  fromMs: number;
  toMs: number;
  rate: number;
  paused: boolean;
  /** the device said the range is over (or ended the dialog): the playlist is complete */
  ended: boolean;
  startedAt: number;
  units: number;
}

interface Live extends PlaybackSession {
  dialog?: Dialog;
  receiver?: RtpPsReceiver;
  ffmpeg?: ChildProcessWithoutNullStreams;
  dir: string;
  lastTouch: number;
  closed: boolean;
}

export class PlaybackError extends Error {
  constructor(message: string, readonly status: 400 | 404 | 409 | 502 | 503 | 504) {
    super(message);
  }
}

/** Files of a playback directory that may be served. */
export const PLAYBACK_FILE = /^(index\.m3u8|init\.mp4|seg\d{5}\.m4s)$/;

export class GbPlayback {
  private readonly sessions = new Map<string, Live>();
  private ssrcCounter = Math.floor(Math.random() * 9000);
  private sweep?: NodeJS.Timeout;

  constructor(private readonly o: GbPlaybackOptions) {
    o.server.on('mediaEnd', (d: Dialog) => this.onEnd(d, 'the device reached the end of the range (MediaStatus 121)'));
    o.server.on('bye', (d: Dialog) => this.onEnd(d, 'the device ended the playback (BYE)'));
  }

  start(): void {
    this.sweep = setInterval(() => {
      const idle = this.o.idleMs ?? 60_000;
      for (const s of [...this.sessions.values()]) if (Date.now() - s.lastTouch > idle) void this.close(s.id, 'nobody reads it');
    }, 5000);
    this.sweep.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweep);
    for (const s of [...this.sessions.values()]) await this.close(s.id, 'StreetEye stopping');
  }

  /** The channel's recordings in [fromMs, toMs), as RecordInfo lists them and merged into spans. */
  async spans(deviceId: string, channelId: string, fromMs: number, toMs: number): Promise<{ items: RecordItem[]; spans: Array<{ startMs: number; endMs: number }> }> {
    const items = (await this.o.server.recordInfo(deviceId, channelId, fromMs, toMs))
      .map((it) => ({ ...it, startMs: Math.max(it.startMs, fromMs), endMs: Math.min(it.endMs, toMs) }))
      .filter((it) => it.endMs > it.startMs);
    return { items, spans: mergeRecordSpans(items) };
  }

  get(id: string): PlaybackSession | undefined {
    const s = this.sessions.get(id);
    return s && this.view(s);
  }

  list(): PlaybackSession[] {
    return [...this.sessions.values()].map((s) => this.view(s));
  }

  private view(s: Live): PlaybackSession {
    const { id, cameraId, deviceId, channelId, fromMs, toMs, rate, paused, ended, startedAt, units } = s;
    return { id, cameraId, deviceId, channelId, fromMs, toMs, rate, paused, ended, startedAt, units };
  }

  async open(a: { cameraId: string; deviceId: string; channelId: string; fromMs: number; toMs: number; rate: number }): Promise<PlaybackSession> {
    if (!(SCALES as readonly number[]).includes(a.rate)) throw new PlaybackError(`rate must be one of ${SCALES.join(', ')}`, 400);
    if (this.sessions.size >= (this.o.maxSessions ?? 16)) throw new PlaybackError('too many GB playbacks on this node', 503);
    if (!this.o.server.isOnline(a.deviceId)) throw new PlaybackError('the GB device is not registered or offline', 409);
    const id = randomBytes(12).toString('hex');
    const dir = await mkdtemp(join(tmpdir(), 'streeteye-gbpb-'));
    const s: Live = { ...a, id, paused: false, ended: false, startedAt: Date.now(), units: 0, dir, lastTouch: Date.now(), closed: false };
    this.sessions.set(id, s);
    try {
      await this.invite(s);
    } catch (err) {
      await this.close(id);
      throw err;
    }
    if (a.rate !== 1) await this.control(id, { action: 'speed', rate: a.rate }).catch((err) => this.o.log.warn({ session: id, err: (err as Error).message }, 'GB28181 playback speed not set'));
    return this.view(s);
  }

  private spawnFfmpeg(s: Live): ChildProcessWithoutNullStreams {
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-probesize', '1000000', '-analyzeduration', '1000000', '-f', 'mpeg', '-i', 'pipe:0',
      '-map', '0:v:0', '-c', 'copy',
      '-f', 'hls', '-hls_time', String(this.o.segmentS ?? 2), '-hls_list_size', '0', '-hls_playlist_type', 'event',
      '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4', '-hls_flags', 'independent_segments',
      '-hls_segment_filename', join(s.dir, 'seg%05d.m4s'), join(s.dir, 'index.m3u8'),
    ];
    const child = spawn(this.o.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { if (stderr.length < 4000) stderr += c.toString(); });
    child.stdout.resume();
    child.stdin.on('error', () => {});
    child.on('exit', (code) => {
      if (code && !s.closed) this.o.log.warn({ session: s.id, code, stderr: stderr.slice(-500) }, 'GB28181 playback remux ended with an error');
    });
    return child;
  }

  private async invite(s: Live): Promise<void> {
    const o = this.o;
    const ssrc = makeSsrc(o.serverId, ++this.ssrcCounter, true);
    s.ffmpeg = this.spawnFfmpeg(s);
    let needKey = true;
    const receiver = await RtpPsReceiver.open({
      transport: o.mediaTransport,
      bindHost: o.bindHost,
      ports: o.rtpPorts,
      ssrc: Number(ssrc),
      log: o.log,
      onDrop: (reason) => o.server.count(`rtp_dropped_${reason}`),
      onUnit: (au) => {
        const ff = s.ffmpeg;
        if (!ff || s.ended || s.closed || (needKey && !au.key)) return;
        // a remuxer that does not keep up loses frames up to the next keyframe, never memory
        if (ff.stdin.writableLength > 8 * 1024 * 1024) { needKey = true; o.server.count('feed_overrun'); return; }
        needKey = false;
        s.units++;
        ff.stdin.write(muxPsFrame(au));
      },
    });
    s.receiver = receiver;
    const sdp = buildOfferSdp({ channelId: s.channelId, ip: o.advertiseHost, port: receiver.port || 9, transport: o.mediaTransport, ssrc, session: 'Playback', range: { start: Math.floor(s.fromMs / 1000), end: Math.ceil(s.toMs / 1000) } });
    let dialog: Dialog;
    try {
      dialog = await o.server.invite(s.deviceId, s.channelId, sdp, ssrc, o.inviteTimeoutMs, true);
    } catch (err) {
      if (err instanceof GbError && err.code === 'refused') throw new PlaybackError(`the device refused the playback: ${err.message}`, /404/.test(err.message) ? 404 : 502);
      if (err instanceof GbError && err.code === 'timeout') throw new PlaybackError(`the device did not answer the playback INVITE: ${err.message}`, 504);
      throw new PlaybackError(`playback INVITE failed: ${(err as Error).message}`, 502);
    }
    s.dialog = dialog;
    const answer = parseSdp(dialog.sdp);
    if (answer.ssrc && Number(answer.ssrc) !== Number(ssrc)) {
      o.server.count('invite_ssrc_mismatch');
      o.log.warn({ device: s.deviceId, channel: s.channelId, offered: ssrc, answered: answer.ssrc.slice(0, 16) }, 'GB28181 playback answer refused: its SSRC does not match the offer');
      throw new PlaybackError('the device answered with another SSRC than offered', 502);
    }
    const deviceAddress = o.server.registrations.get(s.deviceId)?.peer.address;
    receiver.expectFrom(answer.ip && answer.ip !== '0.0.0.0' ? answer.ip : deviceAddress ?? '');
    if (o.mediaTransport === 'tcp-active') {
      if (!answer.ip || !answer.port) throw new PlaybackError('the device answered TCP active without an address', 502);
      await receiver.connectTo(answer.ip, answer.port).catch((err) => { throw new PlaybackError(`cannot connect to the device's media port: ${(err as Error).message}`, 502); });
    }
    o.log.info({ session: s.id, device: s.deviceId, channel: s.channelId, from: new Date(s.fromMs).toISOString(), to: new Date(s.toMs).toISOString() }, 'GB28181 playback INVITEd');
  }

  /** Speed, pause or resume (INFO with MANSRTSP). */
  async control(id: string, c: { action: 'speed'; rate: number } | { action: 'pause' } | { action: 'resume' }): Promise<PlaybackSession> {
    const s = this.sessions.get(id);
    if (!s) throw new PlaybackError('no such playback', 404);
    if (s.ended || !s.dialog) throw new PlaybackError('the playback has ended', 409);
    s.lastTouch = Date.now();
    try {
      if (c.action === 'speed') {
        if (!(SCALES as readonly number[]).includes(c.rate)) throw new PlaybackError(`rate must be one of ${SCALES.join(', ')}`, 400);
        await this.o.server.playbackControl(s.dialog, { method: 'PLAY', scale: c.rate });
        s.rate = c.rate;
        s.paused = false;
      } else if (c.action === 'pause') {
        await this.o.server.playbackControl(s.dialog, { method: 'PAUSE' });
        s.paused = true;
      } else {
        await this.o.server.playbackControl(s.dialog, { method: 'PLAY' });
        s.paused = false;
      }
    } catch (err) {
      if (err instanceof PlaybackError) throw err;
      throw new PlaybackError(`the device did not take the command: ${(err as Error).message}`, err instanceof GbError && err.code === 'timeout' ? 504 : 502);
    }
    return this.view(s);
  }

  private onEnd(d: Dialog, reason: string): void {
    for (const s of this.sessions.values()) {
      if (s.dialog?.callId !== d.callId || s.ended) continue;
      s.ended = true;
      this.o.log.info({ session: s.id, device: s.deviceId, channel: s.channelId, reason, units: s.units }, 'GB28181 playback complete');
      // ffmpeg writes the last segment and ENDLIST when its input ends
      s.ffmpeg?.stdin.end();
      s.receiver?.close();
      const dialog = s.dialog;
      s.dialog = undefined;
      void this.o.server.bye(dialog).catch(() => {});
    }
  }

  /** The path of a file of the session's playlist when it exists (waits up to waitMs for the first one to appear). */
  async file(id: string, name: string, waitMs = 0): Promise<{ path: string; ended: boolean } | undefined> {
    const s = this.sessions.get(id);
    if (!s || !PLAYBACK_FILE.test(name)) return undefined;
    s.lastTouch = Date.now();
    const path = join(s.dir, name);
    const until = Date.now() + waitMs;
    for (;;) {
      const st = await stat(path).catch(() => undefined);
      if (st?.isFile() && st.size > 0) return { path, ended: s.ended };
      if (Date.now() >= until || s.closed) return undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(id: string, reason?: string): Promise<boolean> {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    s.closed = true;
    s.receiver?.close();
    if (s.dialog) await this.o.server.bye(s.dialog).catch(() => {});
    s.dialog = undefined;
    const ff = s.ffmpeg;
    if (ff && ff.exitCode === null) {
      ff.stdin.end();
      await new Promise<void>((r) => {
        const t = setTimeout(() => { ff.kill('SIGKILL'); r(); }, 3000);
        ff.once('exit', () => { clearTimeout(t); r(); });
      });
    }
    await rm(s.dir, { recursive: true, force: true }).catch(() => {});
    if (reason) this.o.log.info({ session: id, reason }, 'GB28181 playback closed');
    return true;
  }
}
