import { cameraNetworks } from './camera-network/policy.js';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AppContext } from './context.js';
import { publishCameraChange } from './bus.js';
import type { CameraRepo } from './inventory/camera-repo.js';
import type { CameraInput } from './inventory/camera-model.js';
import { startSimulator, type SimCameraInfo, type Simulator } from '../simulator/index.js';
import { DEMO_LOOP_SPEC } from '../simulator/encoder.js';

/** Where the demo cameras stand: a few streets around West Lake, Hangzhou, so the tree and the map look like a city. */
const PLACES = [
  { district: '西湖区', street: '北山街道', community: '保俶社区', grid: '33010600100101', lat: 30.2605, lng: 120.1465, road: '北山街' },
  { district: '西湖区', street: '灵隐街道', community: '玉泉社区', grid: '33010600200201', lat: 30.2668, lng: 120.1302, road: '曙光路' },
  { district: '上城区', street: '湖滨街道', community: '东坡路社区', grid: '33010200100101', lat: 30.2574, lng: 120.1649, road: '延安路' },
  { district: '上城区', street: '清波街道', community: '劳动路社区', grid: '33010200200101', lat: 30.2455, lng: 120.1627, road: '南山路' },
  { district: '拱墅区', street: '武林街道', community: '环西社区', grid: '33010500100101', lat: 30.2731, lng: 120.1612, road: '体育场路' },
];

/** The inventory record of a simulated camera; national IDs are stable so restarts update rather than duplicate. */
export function demoCameraInput(cam: SimCameraInfo, index: number): CameraInput {
  const place = PLACES[index % PLACES.length];
  const offset = Math.floor(index / PLACES.length);
  return {
    nationalId: `33010600001320${String(900000 + index + 1).padStart(6, '0')}`,
    name: cam.name,
    owner: index % 3 === 0 ? '城管局' : '公安分局',
    sharing: 'shared',
    lat: Number((place.lat + offset * 0.0009).toFixed(6)),
    lng: Number((place.lng + offset * 0.0011).toFixed(6)),
    address: `${place.road} ${10 + offset * 12} 号`,
    district: place.district,
    street: place.street,
    community: place.community,
    gridCode: place.grid,
    tags: ['simulated'],
    rtspMain: cam.rtspMain,
    rtspSub: cam.rtspSub,
    onvifUrl: cam.onvifUrl,
    username: cam.username,
    password: cam.password,
  };
}

/** Creates missing demo cameras and refreshes the URLs and credentials of existing ones (ports may change between starts). */
export async function registerDemoCameras(ctx: Pick<AppContext, 'db'>, repo: CameraRepo, cams: SimCameraInfo[]): Promise<{ created: string[]; updated: string[] }> {
  const created: string[] = [];
  const updated: string[] = [];
  await ctx.db.tx(async (q) => {
    for (const [i, cam] of cams.entries()) {
      const input = demoCameraInput(cam, i);
      const found = await q.query<{ id: string }>('SELECT id FROM cameras WHERE national_id = $1', [input.nationalId]);
      if (found.rows[0]) {
        await repo.updateQuietly(q, found.rows[0].id, { rtspMain: input.rtspMain, rtspSub: input.rtspSub, onvifUrl: input.onvifUrl, username: input.username, password: input.password });
        updated.push(found.rows[0].id);
      } else {
        const clash = await q.query('SELECT 1 FROM cameras WHERE name = $1', [input.name]);
        if (clash.rowCount) continue; // a person's camera already carries this name: leave theirs alone
        created.push((await repo.insert(q, input)).id);
      }
    }
  });
  return { created, updated };
}

function allowSimulatorEndpoints(cams: ReturnType<Simulator['cameras']>): void {
  const policy = cameraNetworks();
  for (const c of cams) {
    for (const url of [c.rtspMain, c.rtspSub, c.onvifUrl]) {
      if (!url) continue;
      const u = new URL(url);
      const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : 554;
      policy.allowEndpoint(u.hostname.replace(/^\[(.*)\]$/, '$1'), port);
    }
  }
}

/**
 * `npm start`'s camera fleet: STREETEYE_SIM_CAMERAS simulated RTSP/ONVIF cameras in this process,
 * registered in the inventory so a newcomer sees live video at once. Encoding the pictures the
 * first time takes a while; the server is already up meanwhile and progress is logged.
 */
export async function startDemoFleet(ctx: AppContext, repo: CameraRepo, logger: Logger): Promise<Simulator | undefined> {
  const { simCameras, simSource, simRtspPort, simHttpPort, dataDir } = ctx.config;
  if (!simCameras) return undefined;
  const log = logger.child({ module: 'demo-fleet' });
  log.info({ cameras: simCameras, source: simSource ?? 'synthetic pattern' }, simSource
    ? 'starting the simulated camera fleet (the first start encodes the video once: 20-60 s)'
    : 'starting the simulated camera fleet');
  let lastLogged = -1;
  const sim = await startSimulator({
    cameras: simCameras,
    source: simSource,
    dataDir: join(dataDir, 'simulator'),
    rtspPort: simRtspPort,
    httpPort: simHttpPort,
    logger,
    // One picture for the whole demo fleet (names are on the tiles, in the SDP and ONVIF): the synthetic one ships
    // pre-encoded in simulator/demo-loop/, so a fresh clone's cameras are on within a second, not after minutes of
    // libx264 (8 labelled encodes took 35-80 s); a STREETEYE_SIM_SOURCE file is encoded once, not 8 times.
    labelledCameras: 0,
    namePrefix: 'SIM',
    ...(simSource ? {} : { pattern: DEMO_LOOP_SPEC.pattern, crf: DEMO_LOOP_SPEC.crf }),
    // answer WS-Discovery on the standard multicast group as real cameras do (where the host allows it; a failure is
    // only logged); the unicast port is registered with the scan manager for networks where multicast is filtered
    discoveryMulticast: true,
    onProgress: (p) => {
      if (p.done === lastLogged) return;
      lastLogged = p.done;
      log.info({ stage: p.stage, done: p.done, total: p.total }, 'simulated fleet progress');
    },
  });
  // the demo cameras live on loopback, outside CAMERA_NETWORKS: their own endpoints (and nothing else there) are allowed
  allowSimulatorEndpoints(sim.cameras());
  const ids = await registerDemoCameras(ctx, repo, sim.cameras());
  // the simulator's ports may differ from the last start: sessions of updated cameras reconnect to the new URLs
  publishCameraChange(ctx.bus, { kind: 'created', ids: ids.created });
  publishCameraChange(ctx.bus, { kind: 'updated', ids: ids.updated });
  log.info({ created: ids.created.length, updated: ids.updated.length, rtsp: sim.cameras()[0]?.rtspMain }, 'simulated cameras registered in the inventory');
  return sim;
}
