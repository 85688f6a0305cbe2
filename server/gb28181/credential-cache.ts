/**
 * Who may register, remembered for a short while. Every REGISTER is answered only after `authorize`, and a
 * registration is two REGISTERs (the challenge, then the digest response) a few milliseconds apart; at 10,000
 * devices coming back after a power cut that was 20,000 lookups (and decryptions) queued on the database in front
 * of the bookkeeping. Entries live `ttlMs` and are forgotten at once when a technician edits or deletes the device
 * (`gb.device.changed`, carried to every node by the bus bridge), so a disabled device is refused on its next
 * REGISTER, not a TTL later. Unknown devices are cached too (a flood of strangers is answered without a query).
 * Lookups in flight are shared, so a burst for one device makes one query.
 */
export interface DeviceCredentials { enabled: boolean; password: string | null }

export class DeviceCredentialCache {
  private readonly entries = new Map<string, { at: number; value: Promise<DeviceCredentials | undefined> }>();

  constructor(
    private readonly load: (deviceId: string) => Promise<DeviceCredentials | undefined>,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(deviceId: string): Promise<DeviceCredentials | undefined> {
    const hit = this.entries.get(deviceId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    if (this.entries.size >= this.maxEntries) this.sweep();
    const value = this.load(deviceId);
    const entry = { at: this.now(), value };
    this.entries.set(deviceId, entry);
    // a failed lookup is not remembered: the next REGISTER asks the database again
    value.catch(() => { if (this.entries.get(deviceId) === entry) this.entries.delete(deviceId); });
    return value;
  }

  forget(deviceId: string): void {
    this.entries.delete(deviceId);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(id);
    // still full of fresh entries (a flood of distinct IDs): drop the oldest half rather than grow
    if (this.entries.size >= this.maxEntries) {
      let drop = Math.floor(this.entries.size / 2);
      for (const id of this.entries.keys()) { if (drop-- <= 0) break; this.entries.delete(id); }
    }
  }
}
