/**
 * GET /api/cameras/tree: every camera the user may see, compactly (what the wall's tree, tiles and map need),
 * and the district → street → community tree with counts and camera ids. The facets API has counts per
 * level but not the nesting nor the camera ids.
 * GET /api/console/config: console settings the server decides (map tiles, the wall's default live budget).
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser } from '../auth/guard.js';
import { ALL_ROLES } from '../auth/roles.js';
import { commonErrors } from '../http/schemas.js';
import { visibilityCondition } from '../inventory/camera-repo.js';
import { WALL_ROLES } from './common.js';

import type { CommunityNode, DistrictNode, StreetNode, TreeCamera } from './wall-types.js';

export type { CommunityNode, DistrictNode, StreetNode, TreeCamera };

// Online as the fleet page counts it: live, or reachable at the last health check.
const ONLINE = new Set(['live', 'online', 'reachable']);

/** Nest cameras (already sorted by district, street, community, name) into the area tree. */
export function buildAreaTree(cameras: TreeCamera[]): DistrictNode[] {
  const districts: DistrictNode[] = [];
  let d: DistrictNode | undefined;
  let s: StreetNode | undefined;
  let c: CommunityNode | undefined;
  for (const cam of cameras) {
    const on = ONLINE.has(cam.status) ? 1 : 0;
    if (!d || d.name !== cam.district) {
      d = { name: cam.district, count: 0, online: 0, streets: [] };
      districts.push(d);
      s = undefined;
    }
    if (!s || s.name !== cam.street) {
      s = { name: cam.street, count: 0, online: 0, communities: [] };
      d.streets.push(s);
      c = undefined;
    }
    if (!c || c.name !== cam.community) {
      c = { name: cam.community, count: 0, online: 0, cameraIds: [] };
      s.communities.push(c);
    }
    for (const n of [d, s, c]) { n.count++; n.online += on; }
    c.cameraIds.push(cam.id);
  }
  return districts;
}

const nullable = (type: string) => ({ type: [type, 'null'] });
const counts = { name: nullable('string'), count: { type: 'integer' }, online: { type: 'integer' } };
const treeReply = {
  type: 'object',
  properties: {
    total: { type: 'integer' },
    cameras: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' }, name: { type: 'string' }, status: { type: 'string' }, statusReason: nullable('string'), district: nullable('string'),
          street: nullable('string'), community: nullable('string'), gridCode: nullable('string'), owner: nullable('string'), lat: nullable('number'), lng: nullable('number'),
        },
      },
    },
    districts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          ...counts,
          streets: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                ...counts,
                communities: { type: 'array', items: { type: 'object', properties: { ...counts, cameraIds: { type: 'array', items: { type: 'string' } } } } },
              },
            },
          },
        },
      },
    },
  },
  required: ['total', 'cameras', 'districts'],
} as const;

export async function treeRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/api/cameras/tree', {
    config: { roles: WALL_ROLES },
    schema: { tags: ['wall'], summary: 'Visible cameras as district → street → community, with status', response: { 200: treeReply, ...commonErrors } },
  }, async (request) => {
    const user = currentUser(request);
    const res = await ctx.db.query<TreeCamera>(
      `SELECT c.id, c.name, c.status, c.status_reason AS "statusReason", c.district, c.street, c.community, c.grid_code AS "gridCode",
              c.owner, c.lat, c.lng
         FROM cameras c WHERE ${visibilityCondition(user)}
        ORDER BY c.district NULLS LAST, c.street NULLS LAST, c.community NULLS LAST, c.name`);
    return { total: res.rows.length, cameras: res.rows, districts: buildAreaTree(res.rows) };
  });

  app.get('/api/console/config', {
    config: { roles: ALL_ROLES },
    schema: {
      tags: ['wall'],
      summary: 'Console settings decided by the server',
      response: { 200: { type: 'object', properties: { mapTileUrl: nullable('string'), liveBudget: { type: 'integer' } } }, ...commonErrors },
    },
  }, async () => ({ mapTileUrl: ctx.config.mapTileUrl ?? null, liveBudget: ctx.config.wallLiveBudget }));
}
