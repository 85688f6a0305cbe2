/**
 * Video-wall shapes shared by the server (server/wall/*) and the console (console/src/wall/types.ts):
 * one definition. No imports, so the console bundles it as it is.
 */
export const LAYOUTS = ['1', '4', '9', '16', '25', '36', '64', '1+5', '1+7', '1+12', '2+8'] as const;
export type Layout = (typeof LAYOUTS)[number];

export interface TreeCamera {
  id: string;
  name: string;
  status: string;
  statusReason: string | null;
  district: string | null;
  street: string | null;
  community: string | null;
  gridCode: string | null;
  owner: string | null;
  lat: number | null;
  lng: number | null;
}

interface TreeNode { name: string | null; count: number; online: number }
export interface CommunityNode extends TreeNode { cameraIds: string[] }
export interface StreetNode extends TreeNode { communities: CommunityNode[] }
export interface DistrictNode extends TreeNode { streets: StreetNode[] }
export interface CameraTreeResponse { total: number; cameras: TreeCamera[]; districts: DistrictNode[] }

export interface Tour { groupId: string; intervalS: number }

export interface CameraGroup {
  id: string;
  name: string;
  cameraIds: string[];
  tourIntervalS: number;
  shared: boolean;
  owner: string;
  mine: boolean;
  createdAt: string;
  updatedAt: string;
}
