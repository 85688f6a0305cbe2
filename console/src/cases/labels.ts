import type { CaseAction, CaseSource, CaseStatus } from './cases-api';

export const CASE_STATUSES: CaseStatus[] = ['filed', 'dispatched', 'handled', 'verified', 'closed', 'parked', 'void'];

export const STATUS_LABEL: Record<CaseStatus, { zh: string; en: string; cls: string }> = {
  filed: { zh: '已立案', en: 'filed', cls: 'badge' },
  dispatched: { zh: '已派遣', en: 'dispatched', cls: 'badge badge-warn' },
  handled: { zh: '已处置', en: 'handled', cls: 'badge badge-warn' },
  verified: { zh: '已核查', en: 'verified', cls: 'badge badge-ok' },
  closed: { zh: '已结案', en: 'closed', cls: 'badge badge-ok' },
  parked: { zh: '已挂账', en: 'parked', cls: 'badge badge-off' },
  void: { zh: '已作废', en: 'void', cls: 'badge badge-err' },
};

export const SOURCE_LABEL: Record<CaseSource, string> = { ai: 'AI 识别 AI', 110: '110 转办 110', manual: '人工录入 manual' };

/** Label of each action, what its note is called, and whether it is the forward step (primary button). */
export const ACTION_LABEL: Record<CaseAction | 'file', { zh: string; en: string; note?: string; primary?: boolean; danger?: boolean }> = {
  file: { zh: '立案', en: 'File' },
  dispatch: { zh: '派遣', en: 'Dispatch', primary: true },
  handle: { zh: '处置', en: 'Handle', note: '处置结果 Handling result', primary: true },
  feedback: { zh: '反馈', en: 'Feedback', note: '反馈内容 Feedback' },
  verify: { zh: '核查', en: 'Verify', primary: true },
  close: { zh: '结案', en: 'Close', primary: true },
  rework: { zh: '返工', en: 'Rework', note: '核查不通过的原因 Why it failed the check' },
  send_back: { zh: '回退', en: 'Send back', note: '回退原因 Why it is sent back' },
  extend: { zh: '延期申请', en: 'Ask for extension', note: '延期理由 Reason' },
  approve_extension: { zh: '批准延期', en: 'Approve extension', primary: true },
  reject_extension: { zh: '驳回延期', en: 'Refuse extension', note: '驳回理由 Reason' },
  park: { zh: '挂账', en: 'Park', note: '挂账原因 Why it cannot be solved now' },
  resume: { zh: '恢复', en: 'Resume', primary: true },
  void: { zh: '作废', en: 'Void', note: '作废原因 Reason', danger: true },
};

export function actionLabel(a: string): string {
  const l = ACTION_LABEL[a as CaseAction];
  return l ? `${l.zh} ${l.en}` : a;
}

export const HANDOFF_LABEL: Record<string, { zh: string; cls: string }> = {
  pending: { zh: '待发送 pending', cls: 'badge badge-warn' },
  delivered: { zh: '已送达 delivered', cls: 'badge badge-ok' },
  failing: { zh: '发送失败 failing', cls: 'badge badge-err' },
};

/** "2.5 工作小时" / "3 个工作日 + 1.5 小时" with the city's 7.5-hour working day. */
export function fmtWorkingHours(hours: number | null, hoursPerDay = 7.5): string {
  if (hours === null) return '—';
  if (hours < hoursPerDay) return `${hours} 工作小时 working h`;
  const days = Math.floor(hours / hoursPerDay);
  const rest = Math.round((hours - days * hoursPerDay) * 100) / 100;
  return `${days} 个工作日${rest ? ` + ${rest} 小时` : ''} (${hours} working h)`;
}
