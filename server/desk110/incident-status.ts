import type { Queryable } from '../db/db.js';
import type { BusMessage } from '../bus.js';
import { enqueue } from '../outbox/outbox.js';

export type IncidentStatus = 'received' | 'accepted' | 'dispatched' | 'handled' | 'closed' | 'returned';

export interface IncidentStatusChange {
  status: IncidentStatus;
  at: Date;
  actor: { id: string | null; username: string } | null;
  /** Handling result, return reason or operator's note. */
  note?: string | null;
  caseId?: string | null;
  caseNo?: string | null;
  /** The unit handling it (派遣 department). */
  unit?: string | null;
}

/**
 * Records a status change of a 110 incident: the row, its history, and — when the 110 system that sent it has a
 * callback URL — the signed feedback in the outbox, all in the caller's transaction. Returns the console push
 * (`incident.updated`) to publish after commit. The feedback carries no personal data.
 */
export async function recordIncidentStatus(q: Queryable, incidentId: string, c: IncidentStatusChange): Promise<BusMessage<'incident.updated'> | null> {
  const res = await q.query<{ ticket_no: string; api_key_id: string | null; camera_id: string | null; callback: boolean }>(
    `UPDATE incidents_110 i SET status = $2, status_at = $3, updated_at = $3,
            case_id = coalesce($4, i.case_id),
            return_reason = CASE WHEN $2 = 'returned' THEN $5 ELSE i.return_reason END,
            handle_result = CASE WHEN $2 = 'handled' THEN $5 ELSE i.handle_result END,
            handled_unit = coalesce($6, i.handled_unit)
      WHERE i.id = $1
      RETURNING i.ticket_no, i.api_key_id, i.camera_id,
                EXISTS (SELECT 1 FROM api_keys k WHERE k.id = i.api_key_id AND k.callback_url IS NOT NULL) AS callback`,
    [incidentId, c.status, c.at, c.caseId ?? null, c.note ?? null, c.unit ?? null],
  );
  const inc = res.rows[0];
  if (!inc) return null;
  await q.query(
    'INSERT INTO incident_history (incident_id, at, status, note, actor_id, actor_name) VALUES ($1, $2, $3, $4, $5, $6)',
    [incidentId, c.at, c.status, c.note ?? null, c.actor?.id ?? null, c.actor?.username ?? null],
  );
  if (inc.callback && inc.api_key_id) {
    await enqueue(q, { kind: 'api_key', apiKeyId: inc.api_key_id }, 'incident.status', {
      ticketNo: inc.ticket_no, status: c.status, at: c.at.toISOString(), caseNo: c.caseNo ?? null,
      result: c.status === 'handled' ? c.note ?? null : null,
      reason: c.status === 'returned' ? c.note ?? null : null,
      note: c.status !== 'handled' && c.status !== 'returned' ? c.note ?? null : null,
      unit: c.unit ?? null, operator: c.actor?.username ?? null,
    });
  }
  return {
    topic: 'incident.updated',
    payload: { id: incidentId, ticketNo: inc.ticket_no, status: c.status, at: c.at.toISOString(), caseNo: c.caseNo ?? null },
    cameraId: inc.camera_id ?? undefined,
  };
}
