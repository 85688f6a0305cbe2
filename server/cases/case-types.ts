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
