/**
 * A small horizontal bar chart in plain SVG (no chart library): one bar per item, value label at the end,
 * null values drawn as "—" with no bar. Rates pass max = 1 and a percent formatter.
 */
export interface Bar {
  label: string;
  value: number | null;
  /** Tooltip, e.g. "3 / 4". */
  title?: string;
}

export function BarChart({ data, max, format = (v) => String(v), title, width = 560 }: {
  data: Bar[];
  max?: number;
  format?: (v: number) => string;
  title?: string;
  width?: number;
}) {
  const rowH = 26;
  const labelW = 140;
  const valueW = 64;
  const barW = Math.max(60, width - labelW - valueW);
  const top = Math.max(max ?? 0, ...data.map((d) => d.value ?? 0)) || 1;
  const height = data.length * rowH + 8;
  return (
    <figure className="barchart">
      {title ? <figcaption>{title}</figcaption> : null}
      <svg role="img" aria-label={title ?? 'bar chart'} width={width} height={height} viewBox={`0 0 ${width} ${height}`}>
        {data.map((d, i) => {
          const y = i * rowH + 4;
          const w = d.value === null ? 0 : Math.max(d.value > 0 ? 2 : 0, (d.value / top) * barW);
          return (
            <g key={`${d.label}-${i}`} data-testid="bar">
              <title>{`${d.label}: ${d.value === null ? '—' : format(d.value)}${d.title ? ` (${d.title})` : ''}`}</title>
              <text x={labelW - 8} y={y + rowH / 2 + 4} textAnchor="end" fontSize="12" fill="currentColor">
                {d.label.length > 12 ? `${d.label.slice(0, 11)}…` : d.label}
              </text>
              <rect x={labelW} y={y + 4} width={barW} height={rowH - 10} fill="currentColor" opacity={0.08} rx={2} />
              <rect x={labelW} y={y + 4} width={w} height={rowH - 10} fill="#2f6fdb" rx={2} />
              <text x={labelW + barW + 6} y={y + rowH / 2 + 4} fontSize="12" fill="currentColor" className="tabular">
                {d.value === null ? '—' : format(d.value)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
