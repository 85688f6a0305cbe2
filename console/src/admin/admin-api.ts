import { request, type Query } from '../api';
import type { Page } from '../types';

export interface ApiKey { id: string; name: string; keyPrefix: string; scopes: string[]; callbackUrl: string | null; createdAt: string; lastUsedAt: string | null; revokedAt: string | null }
export interface IssuedKey extends ApiKey { key: string; callbackSecret: string | null }
export interface Category110 { code: string; name: string; eventType: string; eventName: string | null; enabled: boolean; updatedAt: string }
export interface AuditEntry { id: number; at: string; username: string | null; action: string; targetType: string | null; targetId: string | null; ip: string | null; detail: Record<string, unknown> }
export interface CameraAccess { id: number; cameraId: string; cameraName: string; sharing: string; username: string | null; kind: string; startedAt: string; endedAt: string | null; ip: string | null }

export const SCOPES: Array<{ scope: string; zh: string; en: string }> = [
  { scope: '110', zh: '110 警情推送与查询', en: '110 incident intake and status' },
  { scope: 'city', zh: '城市平台回传案卷状态', en: 'city platform case updates' },
];

export const adminApi = {
  keys: (signal?: AbortSignal) => request<Page<ApiKey>>('/api/api-keys', { signal }),
  issueKey: (body: { name: string; scopes: string[]; callbackUrl?: string }) => request<IssuedKey>('/api/api-keys', { method: 'POST', json: body }),
  revokeKey: (id: string) => request<void>(`/api/api-keys/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  categories: (signal?: AbortSignal) => request<Page<Category110>>('/api/110/categories', { signal }),
  putCategory: (code: string, body: { name: string; eventType: string; enabled: boolean }) =>
    request<Category110>(`/api/110/categories/${encodeURIComponent(code)}`, { method: 'PUT', json: body }),
  audit: (query: Query, signal?: AbortSignal) => request<Page<AuditEntry>>('/api/audit', { query, signal }),
  cameraAccess: (query: Query, signal?: AbortSignal) => request<Page<CameraAccess>>('/api/camera-access', { query, signal }),
  changePassword: (currentPassword: string, newPassword: string) => request<void>('/api/auth/password', { method: 'POST', json: { currentPassword, newPassword } }),
};
