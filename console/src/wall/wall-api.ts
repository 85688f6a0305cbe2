import { request } from '../api';
import type { CameraGroup, CameraTreeResponse, ConsoleConfig, Favourite, Layout, StreamKind, Tour, WallPreset } from './types';
import type { Page } from '../types';

const enc = encodeURIComponent;

export interface PresetInput { name?: string; layout?: Layout; cameras?: (string | null)[]; tour?: Tour | null; shared?: boolean }
export interface GroupInput { name?: string; cameraIds?: string[]; tourIntervalS?: number; shared?: boolean }

export const wallApi = {
  config: (signal?: AbortSignal) => request<ConsoleConfig>('/api/console/config', { signal }),
  tree: (signal?: AbortSignal) => request<CameraTreeResponse>('/api/cameras/tree', { signal }),
  live: (id: string, stream: StreamKind, signal?: AbortSignal) =>
    request<{ url: string; expiresAt: string }>(`/api/cameras/${enc(id)}/live`, { query: { stream }, signal }),
  snapshotUrl: (id: string) => `/api/cameras/${enc(id)}/snapshot`,

  presets: (signal?: AbortSignal) => request<Page<WallPreset>>('/api/wall/presets', { signal }),
  createPreset: (body: PresetInput) => request<WallPreset>('/api/wall/presets', { method: 'POST', json: body }),
  updatePreset: (id: string, body: PresetInput) => request<WallPreset>(`/api/wall/presets/${enc(id)}`, { method: 'PATCH', json: body }),
  deletePreset: (id: string) => request<void>(`/api/wall/presets/${enc(id)}`, { method: 'DELETE' }),

  groups: (signal?: AbortSignal) => request<Page<CameraGroup>>('/api/camera-groups', { signal }),
  createGroup: (body: GroupInput) => request<CameraGroup>('/api/camera-groups', { method: 'POST', json: body }),
  updateGroup: (id: string, body: GroupInput) => request<CameraGroup>(`/api/camera-groups/${enc(id)}`, { method: 'PATCH', json: body }),
  deleteGroup: (id: string) => request<void>(`/api/camera-groups/${enc(id)}`, { method: 'DELETE' }),

  favourites: (signal?: AbortSignal) => request<Page<Favourite>>('/api/favourites', { signal }),
  addFavourite: (cameraId: string) => request<Favourite>('/api/favourites', { method: 'POST', json: { cameraId } }),
  removeFavourite: (cameraId: string) => request<void>(`/api/favourites/${enc(cameraId)}`, { method: 'DELETE' }),
};
