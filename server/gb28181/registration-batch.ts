/**
 * Registration bookkeeping written behind, in batches: the SIP answer never waits for the database, and a wave of
 * REGISTERs (a platform restart, a power cut) becomes a few multi-row statements instead of three queries per
 * device queued on the one connection that also answers `authorize`. A device registering twice inside one batch
 * is written once, with its latest registration. Each caller learns when its row is stored (and the approved
 * cameras of its device), so what follows a registration (DeviceInfo, the catalog) finds the row there.
 */
export interface RegistrationRow { deviceId: string; transport: string; address: string; port: number; edition: string; expiresAt: Date }

type Flush = (rows: RegistrationRow[]) => Promise<Array<{ deviceId: string; cameraId: string }>>;

export class RegistrationBatch {
  private pending = new Map<string, { row: RegistrationRow; waiters: Array<{ resolve: (cameras: string[]) => void; reject: (err: unknown) => void }> }>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly write: Flush, private readonly delayMs = 50, private readonly maxRows = 500) {}

  /** Store this registration (soon); resolves with the device's approved camera IDs once it is stored. */
  add(row: RegistrationRow): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const entry = this.pending.get(row.deviceId);
      if (entry) { entry.row = row; entry.waiters.push({ resolve, reject }); } else this.pending.set(row.deviceId, { row, waiters: [{ resolve, reject }] });
      if (this.pending.size >= this.maxRows) void this.flush();
      else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  /** Write what is pending now (also on stop); batches are written one after another. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending.size) return this.flushing;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      try {
        const cameras = await this.write([...batch.values()].map((e) => e.row));
        for (const [deviceId, e] of batch) {
          const mine = cameras.filter((c) => c.deviceId === deviceId).map((c) => c.cameraId);
          for (const w of e.waiters) w.resolve(mine);
        }
      } catch (err) {
        for (const e of batch.values()) for (const w of e.waiters) w.reject(err);
      }
    });
    return this.flushing;
  }
}
