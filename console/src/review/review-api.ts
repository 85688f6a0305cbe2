import { request, type Query } from '../api';

/** Candidate events, rules and the classification (server/analytics/routes.ts). */
export interface EventItem {
  id: string;
  ruleId: string | null;
  cameraId: string;
  cameraName: string | null;
  eventType: string;
  eventCode: string;
  eventName: string | null;
  status: 'pending' | 'confirmed' | 'rejected' | 'expired';
  score: number;
  label: string | null;
  objectCount: number;
  box: { x1: number; y1: number; x2: number; y2: number } | null;
  firstSeen: string;
  lastSeen: string;
  closedAt: string | null;
  address: string | null;
  gridCode: string | null;
  /** purgedAt: when the retention policy removed a rejected event's files */
  evidence: { annotated: boolean; clean: boolean; clip: boolean; purgedAt?: string | null };
  dwellSeconds: number | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  rejectReason: string | null;
  rejectNote: string | null;
  caseNo: string | null;
}

export interface EventType {
  key: string;
  nameZh: string;
  nameEn: string;
  code: string;
  enabled: boolean;
  hasPreset: boolean;
  videoDetectable: string;
}

export type Point = [number, number];
export interface Schedule { days: number[]; from: string; to: string }
export interface RuleInput {
  cameraId: string;
  eventType: string;
  name?: string;
  zone: Point[];
  detector?: 'model' | 'foreground';
  /** Model id (GET /api/models); absent = the node's default model. */
  model?: string;
  classes?: string[];
  minScore?: number;
  minArea?: number;
  minCount?: number;
  minDwellSeconds?: number;
  schedule?: Schedule | null;
  cooldownSeconds?: number;
  enabled?: boolean;
}
export interface RuleItem extends Required<Omit<RuleInput, 'name' | 'schedule' | 'model'>> {
  id: string;
  model: string | null;
  name: string | null;
  cameraName: string | null;
  schedule: Schedule | null;
  confirmed: number;
  rejected: number;
  pending: number;
  precision: number | null;
}

export interface PrecisionRow { confirmed: number; rejected: number; pending: number; total: number; reviewed: number; precision: number | null; flagged: boolean }
export interface PrecisionReport {
  threshold: number;
  minReviews: number;
  rules: Array<PrecisionRow & { ruleId: string | null; ruleName: string | null; cameraName: string; eventType: string }>;
  cameras: Array<PrecisionRow & { cameraId: string; cameraName: string }>;
  types: Array<PrecisionRow & { eventType: string }>;
  reasons: Array<{ reason: string; n: number }>;
}

/** A reject reason of one event type (table reject_reasons: data an admin edits in Administration). */
export interface RejectReason { eventType: string; key: string; nameZh: string; nameEn: string; sort: number; enabled: boolean; updatedAt: string }

const enc = encodeURIComponent;
export const reviewApi = {
  events: (q: Query) => request<{ items: EventItem[]; total: number }>('/api/events', { query: q }),
  event: (id: string) => request<EventItem>(`/api/events/${enc(id)}`),
  confirm: (id: string, body: { eventType?: string; description?: string }) => request<EventItem>(`/api/events/${enc(id)}/confirm`, { method: 'POST', json: body }),
  reject: (id: string, body: { reason: string; note?: string }) => request<EventItem>(`/api/events/${enc(id)}/reject`, { method: 'POST', json: body }),
  rejectReasons: (eventType?: string) => request<{ items: RejectReason[]; total: number }>('/api/reject-reasons', { query: eventType ? { eventType } : {} }),
  putRejectReason: (eventType: string, key: string, body: { nameZh: string; nameEn: string; sort?: number; enabled?: boolean }) =>
    request<RejectReason>(`/api/reject-reasons/${enc(eventType)}/${enc(key)}`, { method: 'PUT', json: body }),
  deleteRejectReason: (eventType: string, key: string) => request<void>(`/api/reject-reasons/${enc(eventType)}/${enc(key)}`, { method: 'DELETE' }),
  evidenceUrl: (id: string, kind: 'annotated' | 'clean' | 'clip') => `/api/events/${enc(id)}/evidence/${kind}`,
  eventTypes: () => request<EventType[]>('/api/event-types'),
  rules: (q: Query = {}) => request<{ items: RuleItem[]; total: number }>('/api/rules', { query: q }),
  presets: () => request<{ presets: Record<string, Partial<RuleInput>>; defaultModel: string; classes: string[] }>('/api/rules/presets'),
  createRule: (body: RuleInput) => request<RuleItem>('/api/rules', { method: 'POST', json: body }),
  updateRule: (id: string, body: Partial<RuleInput>) => request<RuleItem>(`/api/rules/${enc(id)}`, { method: 'PATCH', json: body }),
  deleteRule: (id: string) => request<void>(`/api/rules/${enc(id)}`, { method: 'DELETE' }),
  precision: () => request<PrecisionReport>('/api/analytics/precision'),
  status: () => request<EngineStatus>('/api/analytics/status'),
};

/** GET /api/analytics/status: `notice` says in words (zh, en) why detection is not running, null when it is. */
export interface EngineStatus {
  state: string;
  message: string | null;
  notice: { zh: string; en: string } | null;
  models: Array<{ id: string; status: string; message?: string }>;
}
