import type { BusMessage } from '../bus.js';
import type { CaseAction } from '../cases/case-types.js';
import type { TransitionFollower } from '../cases/transition-feed.js';
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

/**
 * Keeps a 110 incident in step with its case: follows the cases' transition feed (server/node.ts wires it), so
 * each step of a 110 case updates the incident and queues its feedback to the 110 system once, after the case
 * has committed, even across a crash in between (cases/transition-feed.ts).
 */
export const desk110CaseSync: TransitionFollower = {
  name: 'desk110.case-sync',
  only: { source: '110', actions: Object.keys(INCIDENT_STATUS_OF) as CaseAction[] },
  async handle(q, steps) {
    const out: BusMessage[] = [];
    for (const s of steps) {
      const status = INCIDENT_STATUS_OF[s.action];
      if (!status) continue;
      const inc = await q.query<{ id: string }>('SELECT id FROM incidents_110 WHERE case_id = $1', [s.caseId]);
      if (!inc.rows[0]) continue;
      const n = await recordIncidentStatus(q, inc.rows[0].id, {
        status, at: s.at, actor: s.actor, note: s.note, caseId: s.caseId, caseNo: s.caseNo, unit: s.department,
      });
      if (n) out.push(n);
    }
    return out;
  },
};
