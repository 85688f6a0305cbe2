/** Video wall types: the API shapes come from server/wall/wall-types.ts; the rest is the console's own. */
export { LAYOUTS } from '../../../server/wall/wall-types';
export type { Layout, TreeCamera, CommunityNode, StreetNode, DistrictNode, CameraTreeResponse, Tour, CameraGroup } from '../../../server/wall/wall-types';
import type { Layout, Tour } from '../../../server/wall/wall-types';

export interface ConsoleConfig { mapTileUrl: string | null; liveBudget: number }

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
/** unsupported: this browser cannot play the camera's codec (H.265) and the server cannot transcode it now */
export type TileState = 'empty' | 'connecting' | 'live' | 'reconnecting' | 'offline' | 'auth_failed' | 'error' | 'snapshot' | 'unsupported';

export interface AlarmPayload { cameraId?: string; id?: string; title?: string; eventType?: string; ticketNo?: string; [k: string]: unknown }
export interface Alarm {
  key: string;
  topic: string;
  cameraId: string;
  title: string;
  at: number;
}
