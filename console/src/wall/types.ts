/** Video wall types (mirror server/wall/*). */
export const LAYOUTS = ['1', '4', '9', '16', '25', '36', '1+5', '1+7'] as const;
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

interface CountNode { name: string | null; count: number; online: number }
export interface CommunityNode extends CountNode { cameraIds: string[] }
export interface StreetNode extends CountNode { communities: CommunityNode[] }
export interface DistrictNode extends CountNode { streets: StreetNode[] }
export interface CameraTreeResponse { total: number; cameras: TreeCamera[]; districts: DistrictNode[] }

export interface ConsoleConfig { mapTileUrl: string | null; liveBudget: number }

export interface Tour { groupId: string; intervalS: number }

export interface WallPreset {
  id: string;
  name: string;
  layout: Layout;
  cameras: (string | null)[];
  tour: Tour | null;
  shared: boolean;
  owner: string;
  mine: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface CameraGroup {
  id: string;
  name: string;
  cameraIds: string[];
  tourIntervalS: number;
  shared: boolean;
  owner: string;
  mine: boolean;
}

export interface Favourite { cameraId: string; name: string; createdAt: string }

export type StreamKind = 'sub' | 'main';
/** Server-side state of a camera stream (camera.state over /api/ws). */
export type ServerState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'offline' | 'auth_failed' | 'error';
export interface CameraStatePayload {
  cameraId: string;
  stream: StreamKind;
  state: ServerState;
  reason: string | null;
  stats?: { bitrateKbps?: number; fps?: number; width?: number; height?: number; lastFrameAt?: string };
}

/** What a tile shows. */
export type TileState = 'empty' | 'connecting' | 'live' | 'reconnecting' | 'offline' | 'auth_failed' | 'error' | 'snapshot';

export interface AlarmPayload { cameraId?: string; id?: string; title?: string; eventType?: string; ticketNo?: string; [k: string]: unknown }
export interface Alarm {
  key: string;
  topic: string;
  cameraId: string;
  title: string;
  at: number;
}
