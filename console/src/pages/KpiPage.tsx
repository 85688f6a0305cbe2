import { useEffect, useMemo, useState } from 'react';
import { KPI_COLUMNS, type GroupBy, type KpiReport, type KpiRow, type Ratio } from '../../../server/kpi/kpi-types';
import { queryString, request } from '../api';
import { BarChart } from '../components/BarChart';
import { Notice } from '../components/Notice';

/** 综合评价: KPIs per department / district / event type over a period (GET /api/kpi), charts and CSV export. */
type RateKey = Exclude<keyof KpiRow, 'group' | 'avgHandlingHours'>;
// The rates of the report, labelled as the server labels them (CSV export uses the same list).
const RATES = KPI_COLUMNS.filter((c): c is (typeof KPI_COLUMNS)[number] & { key: RateKey } => c.key !== 'avgHandlingHours');
const GROUPS: Record<GroupBy, string> = { district: '区县 District', department: '部门 Department', eventType: '事件类型 Event type' };

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const day = (d: Date) => d.toISOString().slice(0, 10);

function RatioCell({ r }: { r: Ratio | null }) {
  if (!r) return <td className="muted">n/a</td>;
  return (
    <td className="tabular" title={`${r.numerator} / ${r.denominator}`}>
      {r.value === null ? '—' : pct(r.value)} <span className="muted">({r.numerator}/{r.denominator})</span>
    </td>
  );
}

export default function KpiPage() {
  const today = new Date();
  const [from, setFrom] = useState(day(new Date(today.getTime() - 29 * 86_400_000)));
  const [to, setTo] = useState(day(today));
  const [groupBy, setGroupBy] = useState<GroupBy>('district');
  const [metric, setMetric] = useState<RateKey>('closingRate');
  const [data, setData] = useState<KpiReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  // Dates are whole days on the browser's clock; `to` is inclusive in the form, exclusive on the wire.
  const query = useMemo(() => {
    const f = new Date(`${from}T00:00:00`);
    const t = new Date(`${to}T00:00:00`);
    t.setDate(t.getDate() + 1);
    return { from: f.toISOString(), to: t.toISOString(), groupBy };
  }, [from, to, groupBy]);

  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    setError(null);
    request<KpiReport>('/api/kpi', { query, signal: ac.signal })
      .then((r) => setData(r))
      .catch((err: Error) => { if (err.name !== 'AbortError') setError(err.message); })
      .finally(() => setLoading(false));
    return () => ac.abort();
  }, [query]);

  const label = (g: string | null) => g ?? '(未指定 none)';
  const chosen = RATES.find((r) => r.key === metric)!;
  const bars = (data?.rows ?? []).map((row) => {
    const r = row[metric];
    return { label: label(row.group), value: r ? r.value : null, title: r ? `${r.numerator} / ${r.denominator}` : 'n/a' };
  });
  const hours = (data?.rows ?? []).map((row) => ({ label: label(row.group), value: row.avgHandlingHours.value, title: `${row.avgHandlingHours.count} cases` }));

  return (
    <div className="page" data-testid="kpi-page">
      <div className="page-head">
        <h1>综合评价 <span className="en">Assessment</span></h1>
      </div>
      <div className="toolbar">
        <label>从 From <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} name="from" /></label>
        <label>到 To <input type="date" value={to} onChange={(e) => setTo(e.target.value)} name="to" /></label>
        <label>分组 Group by{' '}
          <select value={groupBy} onChange={(e) => setGroupBy(e.target.value as GroupBy)} name="groupBy">
            {(Object.keys(GROUPS) as GroupBy[]).map((g) => <option key={g} value={g}>{GROUPS[g]}</option>)}
          </select>
        </label>
        <span className="spacer" />
        <a className="btn" href={'/api/kpi/export' + queryString(query)} download data-testid="kpi-export">导出 CSV Export</a>
      </div>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {loading ? <div className="loading-line" aria-label="loading" /> : null}
      {data ? (
        <>
          <div className="kpi-totals" data-testid="kpi-totals" style={{ display: 'flex', flexWrap: 'wrap', gap: 16, margin: '12px 0' }}>
            {RATES.map((r) => {
              const v = data.total[r.key];
              return (
                <div key={r.key} className="kpi-card" title={v ? `${v.numerator} / ${v.denominator}` : ''} style={{ minWidth: 110 }}>
                  <div className="muted">{r.zh} <span className="en">{r.en}</span></div>
                  <strong className="tabular" style={{ fontSize: 22 }}>{v && v.value !== null ? pct(v.value) : '—'}</strong>
                </div>
              );
            })}
            <div className="kpi-card" style={{ minWidth: 110 }}>
              <div className="muted">平均处置时长 <span className="en">Avg handling</span></div>
              <strong className="tabular" style={{ fontSize: 22 }}>{data.total.avgHandlingHours.value === null ? '—' : `${data.total.avgHandlingHours.value} h`}</strong>
            </div>
          </div>
          <div style={{ display: 'flex', flexWrap: 'wrap', gap: 24 }}>
            <div>
              <label>指标 Metric{' '}
                <select value={metric} onChange={(e) => setMetric(e.target.value as RateKey)} name="metric">
                  {RATES.map((r) => <option key={r.key} value={r.key}>{r.zh} {r.en}</option>)}
                </select>
              </label>
              {bars.length ? <BarChart data={bars} max={1} format={pct} title={`${chosen.zh} · ${GROUPS[groupBy]}`} /> : <p className="empty">本期无数据 No data in this period</p>}
            </div>
            <div>
              {hours.length ? <BarChart data={hours} format={(v) => `${v} h`} title="平均处置时长 Average handling time (h)" /> : null}
            </div>
          </div>
          <table className="grid-table" data-testid="kpi-table">
            <thead>
              <tr>
                <th>{GROUPS[groupBy]}</th>
                {RATES.map((r) => <th key={r.key}>{r.zh}<br /><span className="en">{r.en}</span></th>)}
                <th>平均处置时长<br /><span className="en">Avg handling (h)</span></th>
              </tr>
            </thead>
            <tbody>
              {[...data.rows, { ...data.total, group: '合计 Total' }].map((row, i) => (
                <tr key={`${row.group}-${i}`}>
                  <td>{label(row.group)}</td>
                  {RATES.map((r) => <RatioCell key={r.key} r={row[r.key]} />)}
                  <td className="tabular">{row.avgHandlingHours.value ?? '—'} <span className="muted">({row.avgHandlingHours.count})</span></td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="hint muted">公式见 server/kpi/kpi.ts：立案率 = 立案数/上报数；结案率、按期结案率、返工率的分母为应结案数；处置率 = 已处置/应处置；n/a = 该分组不适用。</p>
        </>
      ) : null}
    </div>
  );
}
