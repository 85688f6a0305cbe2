/** Client and types for fleet health (/api/fleet, status history, probe) and ONVIF discovery (/api/discovery). */
import { request, type Query } from './api';
import type { Camera, Page } from './types';

export interface GroupRate { total: number; online: number; onlineRate: number | null }

export interface FlappingCamera {
  cameraId: string; name: string; district: string | null; owner: string | null; status: string; transitions: number; lastChangeAt: string;
}

export interface FleetSummary extends GroupRate {
  byDistrict: Array<GroupRate & { district: string | null }>;
  byOwner: Array<GroupRate & { owner: string | null }>;
  byStatus: Record<string, number>;
  flapping: FlappingCamera[];
  clockDrift: Array<{ cameraId: string; name: string; clockDriftMs: number; checkedAt: string }>;
  definition: { online: string[]; flapTransitions: number; flapWindowMin: number; driftWarnMs: number };
  at: string;
}

export interface FleetCamera {
  id: string; name: string; district: string | null; owner: string | null; status: string; statusReason: string | null;
  statusChangedAt: string | null; lastSeenAt: string | null; online: boolean;
  health: { checkedAt: string; method: string; reachable: boolean; error: string | null; clockDriftMs: number | null; rttMs: number | null } | null;
}

export interface HistoryItem { at: string; stream: string; status: string; reason: string | null }

export interface OnvifProfile { token: string; name: string; width: number | null; height: number | null; encoding: string | null; streamUri: string | null }

export interface ProbeResult {
  cameraId: string; at: string; method: 'onvif' | 'rtsp' | 'none'; reachable: boolean; authFailed: boolean; error: string | null; status: string;
  clockDriftMs: number | null; deviceTime: string | null; rttMs: number | null; manufacturer: string | null; model: string | null;
  firmware: string | null; serial: string | null; hardwareId: string | null; hasPtz: boolean; profiles: OnvifProfile[]; snapshotUri: string | null;
}

export type ScanState = 'running' | 'done' | 'failed' | 'cancelled';

export interface ScanResult {
  host: string; port: number; xaddr: string; via: string; reachable: boolean; authFailed: boolean; manufacturer: string | null; model: string | null;
  firmware: string | null; serial: string | null; hardwareId: string | null; profiles: OnvifProfile[]; snapshotUri: string | null; hasPtz: boolean;
  clockDriftMs: number | null; error: string | null; inInventory: string | null;
  /** WS-Discovery endpoint (urn:uuid) and the name from its scopes, when the device answered a probe */
  endpoint: string | null; name: string | null;
}

export interface ScanSummary {
  id: string; mode: 'multicast' | 'range'; state: ScanState; message: string | null; progress: { done: number; total: number }; found: number;
  createdBy: string; startedAt: string; finishedAt: string | null; targets: string;
}

export interface Scan extends ScanSummary { results: ScanResult[] }

export interface ScanRequest {
  mode: 'multicast' | 'range'; from?: string; to?: string; hosts?: string[]; ports?: number[]; discoveryPort?: number;
  username?: string; password?: string;
}

export interface AddDevice {
  xaddr: string; name?: string; username?: string | null; password?: string | null; district?: string | null; owner?: string | null;
  street?: string | null; community?: string | null; address?: string | null;
}

export interface DiscoveryProgress { scanId: string; state: ScanState; progress: { done: number; total: number }; found: number; message: string | null }

const enc = encodeURIComponent;

export interface CameraAlarm {
  id: number; cameraId: string; cameraName: string; kind: 'motion' | 'tamper' | 'video_loss' | 'other'; topic: string;
  active: boolean; startedAt: string; endedAt: string | null; ackedBy: string | null; ackedAt: string | null;
}

export const fleetApi = {
  alarms: (query: Query, signal?: AbortSignal) => request<Page<CameraAlarm>>('/api/alarms', { query, signal }),
  ackAlarm: (id: number) => request<CameraAlarm>(`/api/alarms/${id}/ack`, { method: 'POST' }),
  summary: (signal?: AbortSignal) => request<FleetSummary>('/api/fleet/summary', { signal }),
  cameras: (query: Query, signal?: AbortSignal) => request<Page<FleetCamera>>('/api/fleet/cameras', { query, signal }),
  history: (id: string, query: Query, signal?: AbortSignal) => request<Page<HistoryItem>>(`/api/cameras/${enc(id)}/status-history`, { query, signal }),
  probe: (id: string) => request<ProbeResult>(`/api/cameras/${enc(id)}/probe`, { method: 'POST' }),

  startScan: (body: ScanRequest) => request<{ id: string; state: ScanState }>('/api/discovery/scans', { method: 'POST', json: body }),
  scans: (signal?: AbortSignal) => request<Page<ScanSummary>>('/api/discovery/scans', { signal }),
  scan: (id: string, signal?: AbortSignal) => request<Scan>(`/api/discovery/scans/${enc(id)}`, { signal }),
  cancelScan: (id: string) => request<ScanSummary>(`/api/discovery/scans/${enc(id)}`, { method: 'DELETE' }),
  addDevices: (id: string, devices: AddDevice[]) => request<Page<Camera>>(`/api/discovery/scans/${enc(id)}/add`, { method: 'POST', json: { devices } }),
};

/** "在线" for online statuses; the shared StatusBadge does not know `reachable` (a camera nobody watches that answered its last probe). */
export const ONLINE_LABEL: Record<string, string> = { live: '在线 live', reachable: '在线(空闲) reachable' };

export function pct(rate: number | null): string {
  return rate === null ? '—' : `${(rate * 100).toFixed(1)}%`;
}

export function fmtDrift(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const s = ms / 1000;
  if (Math.abs(s) < 1.5) return '≈0 s';
  const abs = Math.abs(s);
  const txt = abs >= 3600 ? `${(abs / 3600).toFixed(1)} h` : abs >= 120 ? `${(abs / 60).toFixed(1)} min` : `${abs.toFixed(0)} s`;
  return `${s > 0 ? '快 +' : '慢 −'}${txt}`;
}
