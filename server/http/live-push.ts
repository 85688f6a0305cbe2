import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../context.js';
import type { BusMessage } from '../bus.js';
import { ALL_ROLES, seesRestrictedCameras } from '../auth/roles.js';
import { currentUser } from '../auth/guard.js';

/**
 * GET /api/ws: the console's live feed (camera states, alarms, candidate events, scan progress).
 * A message about a restricted camera reaches only the roles that may see that camera.
 */
export async function livePushRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Cache of which cameras are restricted: checked per message, refreshed when cameras change.
  const restricted = new Set<string>();
  const refresh = async () => {
    const res = await ctx.db.query<{ id: string }>(`SELECT id FROM cameras WHERE sharing = 'restricted'`);
    restricted.clear();
    for (const r of res.rows) restricted.add(r.id);
  };
  await refresh();
  // an import announces its cameras in chunks (500 messages for 50,000): one re-read at a time, and one more after it
  // if anything changed meanwhile, instead of a query per message that would take every pooled connection
  let refreshing = false;
  let again = false;
  const refreshSoon = (): void => {
    if (refreshing) { again = true; return; }
    refreshing = true;
    void refresh().catch(() => {}).finally(() => {
      refreshing = false;
      if (again) { again = false; refreshSoon(); }
    });
  };
  const unsubscribeChanges = ctx.bus.subscribe('camera.changed', ({ payload: change }) => {
    // Apply a known sharing at once (the bus is synchronous, so no later message slips through), then re-read.
    for (const id of change.ids) {
      if (change.sharing === 'restricted') restricted.add(id);
      if (change.sharing === 'shared' || change.kind === 'deleted') restricted.delete(id);
    }
    refreshSoon();
  });
  app.addHook('onClose', async () => unsubscribeChanges());

  // The bus hands the same message object to every console's subscription: serialise it once, not once per socket.
  const wire = new WeakMap<BusMessage, string>();
  const encoded = (msg: BusMessage): string => {
    let text = wire.get(msg);
    if (text === undefined) {
      text = JSON.stringify({ topic: msg.topic, cameraId: msg.cameraId, payload: msg.payload });
      wire.set(msg, text);
    }
    return text;
  };

  app.get('/api/ws', { websocket: true, config: { roles: ALL_ROLES }, schema: { hide: true } }, (socket: WebSocket, request) => {
    const user = currentUser(request);
    const mayAll = seesRestrictedCameras(user.role);
    const unsubscribe = ctx.bus.subscribe((msg) => {
      if (msg.topic === 'camera.changed' || msg.topic === 'user.access') return; // server-internal
      if (msg.cameraId && !mayAll && restricted.has(msg.cameraId)) return;
      if (socket.readyState !== socket.OPEN) return;
      // A console that cannot keep up is not allowed to grow the server's memory.
      if (socket.bufferedAmount > 4 * 1024 * 1024) return;
      socket.send(encoded(msg));
    });
    socket.send(JSON.stringify({ topic: 'hello', payload: { user: user.username, role: user.role } }));
    socket.on('close', unsubscribe);
    socket.on('error', unsubscribe);
  });
}
