/**
 * PTZ of a GB/T 28181 channel behind the same PTZ API, lock and audit as ONVIF domes (server/ptz/): DeviceControl
 * with PTZCmd. GB moves last until a stop command, so a move here stops by itself after timeoutMs unless repeated
 * (the ONVIF API's dead man's switch). Presets come from PresetQuery; position is not reported by GB devices.
 */
import { NoPtzError, UnknownPresetError, type PtzPreset, type PtzStatus, type PtzVector } from '../../onvif/ptz.js';
import { child, textOf } from '../../gb28181/manscdp.js';
import { presetCmd, ptzMoveCmd, ptzStopCmd } from '../../gb28181/ptz-cmd.js';
import type { GbServer } from '../../gb28181/server.js';

export class GbPtz {
  private stopTimer?: NodeJS.Timeout;

  constructor(private readonly server: GbServer, private readonly deviceId: string, private readonly channelId: string) {}

  /** NoPtzError for a channel the catalog calls fixed (PTZType 3). */
  static forChannel(server: GbServer, ch: { deviceId: string; channelId: string; ptzType: number | null }): GbPtz {
    if (ch.ptzType === 3) throw new NoPtzError('this GB/T 28181 channel is a fixed camera (PTZType 3): no PTZ');
    return new GbPtz(server, ch.deviceId, ch.channelId);
  }

  async move(v: PtzVector, timeoutMs: number): Promise<void> {
    clearTimeout(this.stopTimer);
    await this.server.ptz(this.deviceId, this.channelId, ptzMoveCmd(v));
    this.stopTimer = setTimeout(() => void this.stop().catch(() => {}), Math.max(100, timeoutMs));
    this.stopTimer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.stopTimer);
    await this.server.ptz(this.deviceId, this.channelId, ptzStopCmd());
  }

  async presets(): Promise<PtzPreset[]> {
    const doc = await this.server.query(this.deviceId, 'PresetQuery', {}, this.channelId);
    const list = child(doc.el, 'PresetList');
    const out: PtzPreset[] = [];
    for (const item of list?.children ?? []) {
      const id = textOf(item, 'PresetID');
      if (id && /^\d{1,3}$/.test(id) && Number(id) >= 1 && Number(id) <= 255) out.push({ token: String(Number(id)), name: textOf(item, 'PresetName')?.slice(0, 64) || id });
    }
    return out;
  }

  async gotoPreset(token: string): Promise<void> {
    const n = Number(token);
    if (!/^\d{1,3}$/.test(token) || n < 1 || n > 255) throw new UnknownPresetError(token);
    await this.server.ptz(this.deviceId, this.channelId, presetCmd('call', n));
  }

  async status(): Promise<PtzStatus> {
    return { position: null, moving: false };
  }
}
