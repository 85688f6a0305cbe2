import { request, type Query } from '../api';
import type { Page } from '../types';
import type { CaseAction, CaseActionNeed, CaseFields, CaseSource, CaseStatus } from '../../../server/cases/case-types';

/** Types and calls of the case (案卷) screens; the case vocabulary is server/cases/case-types.ts, the reply shapes server/cases/case-routes.ts. */

export type { CaseAction, CaseSource, CaseStatus };
export type ActionNeed = CaseActionNeed;

/** A case as the API returns it (server/cases/case-types.ts), times as ISO strings. */
export interface CaseItem extends Omit<CaseFields<string>, 'evidence'> {
  evidence: Array<{ kind?: string; url?: string; eventId?: string }>;
}

export interface HistoryEntry { at: string; actor: string | null; action: string; fromStatus: string | null; toStatus: string | null; note: string | null; detail: Record<string, unknown> }
export interface Handoff {
  id: number; topic: string; destination: 'city' | 'api_key'; apiKeyName: string | null; attempts: number; nextAttemptAt: string;
  deliveredAt: string | null; lastError: string | null; lastStatus: number | null; createdAt: string; state: 'pending' | 'delivered' | 'failing';
}
export interface CaseDetail extends CaseItem {
  cameraName: string | null;
  history: HistoryEntry[];
  actions: Array<{ action: CaseAction; needs: ActionNeed[] }>;
  handoffs: Handoff[];
  sourceEvent: { id: string; status: string; score: number; label: string | null; firstSeen: string; lastSeen: string; objectCount: number } | null;
  incident: { ticketNo: string; status: string; categoryCode: string; categoryName: string | null; reportText: string; address: string; reportedAt: string; jurisdictionUnit: string | null; satisfaction: number | null } | null;
}
export interface CaseList extends Page<CaseItem> { counts: Record<CaseStatus, number> }

export interface Department { id: string; name: string; contact: string | null; phone: string | null; enabled: boolean; openCases: number }
export interface EventTypeLimit { eventType: string; name: string; code: string; hours: number | null; enabled: boolean; updatedAt: string }
export interface Calendar { utcOffsetMinutes: number; workdays: number[]; periods: Array<[string, string]>; holidays: string[]; extraWorkdays: string[] }

export interface CaseQuery extends Query {
  status?: CaseStatus | ''; source?: CaseSource | ''; eventType?: string; district?: string; street?: string; grid?: string;
  department?: string; overdue?: 'true' | 'false' | ''; sort?: 'due' | 'filed'; limit?: number; offset?: number;
}

export const casesApi = {
  list: (query: CaseQuery, signal?: AbortSignal) => request<CaseList>('/api/cases', { query, signal }),
  get: (id: string, signal?: AbortSignal) => request<CaseDetail>(`/api/cases/${encodeURIComponent(id)}`, { signal }),
  file: (body: { eventType: string; address?: string; district?: string; gridCode?: string; description?: string; lat?: number; lng?: number }) =>
    request<CaseItem>('/api/cases', { method: 'POST', json: body }),
  act: (id: string, body: { action: CaseAction; department?: string; note?: string; hours?: number }) =>
    request<CaseDetail>(`/api/cases/${encodeURIComponent(id)}/transitions`, { method: 'POST', json: body }),
  retryHandoff: (id: number) => request<void>(`/api/outbox/${id}/retry`, { method: 'POST' }),
  departments: (signal?: AbortSignal) => request<Page<Department>>('/api/departments', { signal }),
  createDepartment: (body: { name: string; contact?: string | null; phone?: string | null }) => request<Department>('/api/departments', { method: 'POST', json: body }),
  updateDepartment: (id: string, body: Partial<Pick<Department, 'name' | 'contact' | 'phone' | 'enabled'>>) =>
    request<Department>(`/api/departments/${encodeURIComponent(id)}`, { method: 'PATCH', json: body }),
  timeLimits: (signal?: AbortSignal) => request<Page<EventTypeLimit> & { calendar: Calendar }>('/api/time-limits', { signal }),
  setTimeLimit: (eventType: string, hours: number) => request<EventTypeLimit>(`/api/time-limits/${encodeURIComponent(eventType)}`, { method: 'PUT', json: { hours } }),
};
