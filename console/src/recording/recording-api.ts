import { request } from '../api';

export interface Span { from: string; to: string; stream: string; available: boolean; node: string; recording: boolean }
export interface Marker { kind: 'candidate' | 'alarm' | 'incident'; at: string; id: string; label: string | null }
export interface Timeline { cameraId: string; from: string; to: string; spans: Span[]; markers: Marker[] }
export interface PlaybackGrant { url: string; expiresAt: string; from: string; to: string; rate: number; keyframesOnly: boolean }

export const RATES = [1, 2, 4, 8, 16] as const;

export function fetchTimeline(cameraId: string, fromMs: number, toMs: number): Promise<Timeline> {
  return request<Timeline>(`/api/cameras/${encodeURIComponent(cameraId)}/recordings`, { query: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() } });
}

/** A signed VOD playlist from `atMs` (the seek point) for up to an hour. */
export function fetchPlayback(cameraId: string, atMs: number, rate: number): Promise<PlaybackGrant> {
  const to = Math.min(Date.now(), atMs + 3600_000);
  return request<PlaybackGrant>(`/api/cameras/${encodeURIComponent(cameraId)}/playback`, { query: { from: new Date(atMs).toISOString(), to: new Date(Math.max(to, atMs + 1000)).toISOString(), rate } });
}

export function exportUrl(cameraId: string, fromMs: number, toMs: number): string {
  return `/api/cameras/${encodeURIComponent(cameraId)}/export?from=${encodeURIComponent(new Date(fromMs).toISOString())}&to=${encodeURIComponent(new Date(toMs).toISOString())}`;
}

export function attachToCase(caseId: string, cameraId: string, fromMs: number, toMs: number): Promise<unknown> {
  return request(`/api/cases/${encodeURIComponent(caseId)}/recordings`, { method: 'POST', json: { cameraId, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() } });
}
