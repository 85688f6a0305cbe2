/**
 * Serve-time access for signed live media: may this user (still) see this camera?
 *
 * The signature on a live URL says who it was issued to; it cannot know that the user was disabled, lost the
 * role, or that the camera turned restricted since. Every playlist, init, part and segment request asks here.
 * Answers are cached per user and camera for a short time (ttlMs, 2 s) because a wall asks several times a
 * second per tile; the cache is dropped at once when the bus says access changed ('user.access' from the users
 * routes, 'camera.changed' from inventory and sharing). The bus crosses nodes (LISTEN/NOTIFY), so the node that
 * holds the camera learns it too; the TTL bounds the delay should a notification be lost.
 */
/** The part of a bus message this cache reads (the server's typed bus hands its messages in: server/live/ingest-wiring.ts). */
export interface AccessMessage { topic: string; payload?: unknown; cameraId?: string }

/** Bus topic published when a user's access may have narrowed (disabled, role changed). */
export const USER_ACCESS_TOPIC = 'user.access';
export interface UserAccessPayload { userId: string }

export class LiveAccessCache {
  private readonly entries = new Map<string, { at: number; ok: boolean }>();

  constructor(
    private readonly check: (userId: string, cameraId: string) => Promise<boolean>,
    private readonly ttlMs = 2000,
    private readonly maxEntries = 20_000,
  ) {}

  async maySee(userId: string, cameraId: string): Promise<boolean> {
    const key = `${userId}/${cameraId}`;
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.ok;
    const generation = this.generation;
    const ok = await this.check(userId, cameraId);
    // a revocation that arrived while the query ran must not be overwritten by its (older) answer
    if (generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(key, { at: Date.now(), ok });
    }
    return ok;
  }

  private generation = 0;

  forgetUser(userId: string): void {
    this.generation++;
    for (const k of this.entries.keys()) if (k.startsWith(`${userId}/`)) this.entries.delete(k);
  }

  forgetCamera(cameraId: string): void {
    this.generation++;
    for (const k of this.entries.keys()) if (k.endsWith(`/${cameraId}`)) this.entries.delete(k);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  /** Bus messages that narrow access drop the cached answers they concern. */
  onMessage(msg: AccessMessage): void {
    if (msg.topic === USER_ACCESS_TOPIC) {
      const userId = (msg.payload as Partial<UserAccessPayload> | undefined)?.userId;
      if (typeof userId === 'string') this.forgetUser(userId);
      else this.clear();
    } else if (msg.topic === 'camera.changed') {
      // { kind, ids }: every id named (one message per camera, or chunks of many: bus.ts publishCameraChange)
      const ids = (msg.payload as { ids?: unknown } | undefined)?.ids;
      if (Array.isArray(ids) && ids.length) for (const id of ids) this.forgetCamera(String(id));
      else if (msg.cameraId) this.forgetCamera(msg.cameraId);
      else this.clear();
    }
  }
}
