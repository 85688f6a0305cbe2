/**
 * The case (案卷) vocabulary, defined once for the server and the console (like server/kpi/kpi-types.ts):
 * pure types, no runtime imports, so the console can import it.
 */
export type CaseSource = 'ai' | '110' | 'manual';
export type CaseStatus = 'filed' | 'dispatched' | 'handled' | 'verified' | 'closed' | 'void' | 'parked';
export type CaseAction = 'dispatch' | 'handle' | 'feedback' | 'verify' | 'close' | 'void' | 'rework' | 'send_back'
  | 'extend' | 'approve_extension' | 'reject_extension' | 'park' | 'resume';
/** What an action requires besides the actor: a department (dispatch), a note (result or reason), hours (extension). */
export type CaseActionNeed = 'department' | 'note' | 'hours';

/**
 * A case as the case routes return it, with times as T: Date on the server (case-service.ts CaseRecord), the ISO
 * strings of the JSON reply in the console (console/src/cases/cases-api.ts CaseItem).
 */
export interface CaseFields<T = Date> {
  id: string;
  caseNo: string;
  source: CaseSource;
  sourceRef: string | null;
  eventType: string;
  eventCode: string;
  eventName: string | null;
  gridCode: string | null;
  district: string | null;
  lat: number | null;
  lng: number | null;
  address: string | null;
  cameraId: string | null;
  description: string | null;
  /** e.g. [{kind: 'jpeg', path: 'evidence/…'}]; kept as given */
  evidence: unknown[];
  status: CaseStatus;
  department: string | null;
  handleResult: string | null;
  reworkCount: number;
  dueAt: T | null;
  reportedAt: T | null;
  filedAt: T;
  dispatchedAt: T | null;
  handledAt: T | null;
  verifiedAt: T | null;
  closedAt: T | null;
  voidedAt: T | null;
  voidReason: string | null;
  overdue: boolean;
  /** A waiting extension request (延期申请), or null. */
  extension: { hours: number; reason: string | null; requestedBy: string | null; requestedAt: T } | null;
  extensionCount: number;
  parkedFrom: CaseStatus | null;
}
