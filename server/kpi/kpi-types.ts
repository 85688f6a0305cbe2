/**
 * The assessment report's shape and column labels, shared by the server (kpi.ts) and the console's KPI
 * page so there is one definition. No imports: the console bundles it as it is.
 */
export type GroupBy = 'department' | 'district' | 'eventType';
export interface Ratio { value: number | null; numerator: number; denominator: number }
export interface KpiRow {
  group: string | null;
  filingRate: Ratio | null;
  closingRate: Ratio;
  onTimeRate: Ratio;
  handlingRate: Ratio;
  reworkRate: Ratio;
  accurateFilingRate: Ratio;
  avgHandlingHours: { value: number | null; count: number };
  aiPrecision: Ratio | null;
  cameraOnlineRate: Ratio | null;
}

export const KPI_COLUMNS: Array<{ key: keyof Omit<KpiRow, 'group'>; zh: string; en: string }> = [
  { key: 'filingRate', zh: '立案率', en: 'filing rate' },
  { key: 'closingRate', zh: '结案率', en: 'closing rate' },
  { key: 'onTimeRate', zh: '按期结案率', en: 'on-time closing rate' },
  { key: 'handlingRate', zh: '处置率', en: 'handling rate' },
  { key: 'reworkRate', zh: '返工率', en: 'rework rate' },
  { key: 'accurateFilingRate', zh: '准确立案率', en: 'accurate filing rate' },
  { key: 'avgHandlingHours', zh: '平均处置时长(小时)', en: 'average handling time (h)' },
  { key: 'aiPrecision', zh: 'AI 候选准确率（期内审核）', en: 'AI candidate precision (reviewed in the period)' },
  { key: 'cameraOnlineRate', zh: '摄像机在线率（同设备健康页）', en: 'camera online rate (as on the Fleet page)' },
];

export interface KpiReport {
  from: string;
  to: string;
  groupBy: GroupBy;
  rows: KpiRow[];
  total: KpiRow;
}
