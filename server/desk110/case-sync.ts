import type { Queryable } from '../db/db.js';
import type { CaseAction, CaseRecord, Notification } from '../cases/case-service.js';
import { recordIncidentStatus, type IncidentStatus } from './incident-status.js';

/** What the 110 system hears when its case moves (核查 is internal: no feedback). */
const INCIDENT_STATUS_OF: Partial<Record<CaseAction, IncidentStatus>> = {
  dispatch: 'dispatched',
  handle: 'handled',
  close: 'closed',
  rework: 'dispatched',
  // A case voided after acceptance goes back to 110 with the reason: the city will not handle it.
  void: 'returned',
};

/** Keeps a 110 incident in step with its case (called by the case service inside the same transaction). */
export async function syncIncidentFromCase(
  q: Queryable,
  e: { case: CaseRecord; action: CaseAction; note: string | null; department: string | null; actor: { id: string | null; username: string }; at: Date },
): Promise<Notification | null> {
  const status = INCIDENT_STATUS_OF[e.action];
  if (!status) return null;
  const inc = await q.query<{ id: string }>('SELECT id FROM incidents_110 WHERE case_id = $1', [e.case.id]);
  if (!inc.rows[0]) return null;
  return recordIncidentStatus(q, inc.rows[0].id, {
    status, at: e.at, actor: e.actor, note: e.note, caseId: e.case.id, caseNo: e.case.caseNo, unit: e.case.department,
  });
}
