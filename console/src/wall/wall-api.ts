import { request } from '../api';
import type { CameraGroup, CameraTreeResponse, ConsoleConfig, Favourite, Layout, StreamKind, Tour, WallPreset } from './types';
import type { Page } from '../types';

const enc = encodeURIComponent;

export interface PtzController { userId: string; username: string; role: string; until: string }
export interface PtzState {
  available: boolean;
  reason: string | null;
  presets: Array<{ token: string; name: string }>;
  position: { pan: number; tilt: number; zoom: number } | null;
  moving?: boolean;
  controller: PtzController | null;
}

/** GET /api/cameras/:id/live: signed LL-HLS URLs of one stream (codec-choice.ts picks the one a tile plays). */
export interface LiveUrls {
  url: string;
  expiresAt: string;
  /** multivariant playlist with CODECS (RFC 6381) */
  masterUrl?: string;
  /** keyframes only (1 frame per GOP) */
  keyframesUrl?: string;
  /** an H.264 transcode of the stream, for a browser that cannot play its codec (within the node's budget) */
  transcodeUrl?: string;
  /** the codec when the stream's session already runs */
  codec?: string;
  /** the streams the camera has */
  streams?: StreamKind[];
}

export interface PresetInput { name?: string; layout?: Layout; cameras?: (string | null)[]; tour?: Tour | null; shared?: boolean }
export interface GroupInput { name?: string; cameraIds?: string[]; tourIntervalS?: number; shared?: boolean }

export const wallApi = {
  config: (signal?: AbortSignal) => request<ConsoleConfig>('/api/console/config', { signal }),
  tree: (signal?: AbortSignal) => request<CameraTreeResponse>('/api/cameras/tree', { signal }),
  live: (id: string, stream: StreamKind, signal?: AbortSignal) =>
    request<LiveUrls>(`/api/cameras/${enc(id)}/live`, { query: { stream }, signal }),
  snapshotUrl: (id: string) => `/api/cameras/${enc(id)}/snapshot`,

  presets: (signal?: AbortSignal) => request<Page<WallPreset>>('/api/wall/presets', { signal }),
  createPreset: (body: PresetInput) => request<WallPreset>('/api/wall/presets', { method: 'POST', json: body }),
  updatePreset: (id: string, body: PresetInput) => request<WallPreset>(`/api/wall/presets/${enc(id)}`, { method: 'PATCH', json: body }),
  deletePreset: (id: string) => request<void>(`/api/wall/presets/${enc(id)}`, { method: 'DELETE' }),

  groups: (signal?: AbortSignal) => request<Page<CameraGroup>>('/api/camera-groups', { signal }),
  createGroup: (body: GroupInput) => request<CameraGroup>('/api/camera-groups', { method: 'POST', json: body }),
  updateGroup: (id: string, body: GroupInput) => request<CameraGroup>(`/api/camera-groups/${enc(id)}`, { method: 'PATCH', json: body }),
  deleteGroup: (id: string) => request<void>(`/api/camera-groups/${enc(id)}`, { method: 'DELETE' }),

  ptz: (id: string, signal?: AbortSignal) => request<PtzState>(`/api/cameras/${enc(id)}/ptz`, { signal }),
  ptzMove: (id: string, v: { pan: number; tilt: number; zoom: number }, timeoutMs: number) =>
    request<void>(`/api/cameras/${enc(id)}/ptz/move`, { method: 'POST', json: { ...v, timeoutMs } }),
  ptzStop: (id: string) => request<void>(`/api/cameras/${enc(id)}/ptz/stop`, { method: 'POST' }),
  ptzPreset: (id: string, token: string) => request<void>(`/api/cameras/${enc(id)}/ptz/preset`, { method: 'POST', json: { token } }),
  ptzRelease: (id: string) => request<void>(`/api/cameras/${enc(id)}/ptz/lock`, { method: 'DELETE' }),

  favourites: (signal?: AbortSignal) => request<Page<Favourite>>('/api/favourites', { signal }),
  addFavourite: (cameraId: string) => request<Favourite>('/api/favourites', { method: 'POST', json: { cameraId } }),
  removeFavourite: (cameraId: string) => request<void>(`/api/favourites/${enc(cameraId)}`, { method: 'DELETE' }),
};
