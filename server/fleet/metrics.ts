/**
 * Prometheus metrics of fleet health, registered on an app's registry (one per app, see http/metrics.ts):
 *   streeteye_camera_sessions{state}      ingest sessions on this node per state (from camera.state)
 *   streeteye_cameras{status}             cameras per status (whole fleet)
 *   streeteye_cameras_online_ratio        online cameras / all cameras (0..1; online = live or reachable)
 *   streeteye_cameras_flapping            cameras flagged as flapping right now
 * Values are read at scrape time; a failing database query leaves the previous values.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/db.js';
import type { FleetHealth } from './service.js';
import { fleetTotals, flappingCameras } from './fleet-repo.js';
import { SESSION_STATES } from './status.js';

export function registerFleetMetrics(registry: Registry, db: Db, fleet: FleetHealth): void {
  new Gauge({
    name: 'streeteye_camera_sessions',
    help: 'Camera stream sessions on this node by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = fleet.recorder.sessionCounts();
      for (const s of SESSION_STATES) this.set({ state: s }, counts[s]);
    },
  });
  const seen = new Set<string>();
  new Gauge({
    name: 'streeteye_cameras',
    help: 'Cameras by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      try {
        const t = await fleetTotals(db);
        for (const s of seen) if (!(s in t.byStatus)) this.set({ status: s }, 0);
        for (const [s, n] of Object.entries(t.byStatus)) {
          seen.add(s);
          this.set({ status: s }, n);
        }
      } catch {
        // keep the last values; the scrape must not fail because of the database
      }
    },
  });
  new Gauge({
    name: 'streeteye_cameras_online_ratio',
    help: 'Online cameras (live or reachable) / all cameras',
    registers: [registry],
    async collect() {
      try {
        const t = await fleetTotals(db);
        this.set(t.total ? t.online / t.total : 0);
      } catch {
        // as above
      }
    },
  });
  new Gauge({
    name: 'streeteye_cameras_flapping',
    help: 'Cameras flagged as flapping (online/offline transitions within the window)',
    registers: [registry],
    async collect() {
      try {
        const s = fleet.settings;
        this.set((await flappingCameras(db, { role: 'admin' }, s.flapWindowMin, s.flapTransitions, 1000)).length);
      } catch {
        // as above
      }
    },
  });
}
