import { formatValue } from '@/lib/metrics';

export interface Bar {
  label: string;
  value: number | null;
  low?: number | null;
  high?: number | null;
}

/** Horizontal bars with interval whiskers, one per category, values in the metric's `unit`; scaled to the largest value shown. */
export function BarChart({ bars, title, unit }: { bars: Bar[]; title: string; unit: string }) {
  const rowHeight = 26;
  const labelWidth = 130;
  const plotWidth = 300;
  const max = Math.max(1e-9, ...bars.flatMap((b) => [b.value ?? 0, b.high ?? 0]));
  const x = (v: number) => labelWidth + (plotWidth * v) / max;
  return (
    <svg
      className="chart"
      role="img"
      aria-label={title}
      viewBox={`0 0 ${labelWidth + plotWidth + 60} ${rowHeight * bars.length + 8}`}
      width="100%"
      style={{ maxWidth: 560 }}
    >
      <title>{title}</title>
      {bars.map((b, i) => {
        const y = 4 + i * rowHeight;
        return (
          <g key={b.label}>
            <text x={labelWidth - 6} y={y + 15} textAnchor="end">
              {b.label}
            </text>
            {b.value !== null && <rect x={labelWidth} y={y + 4} width={x(b.value) - labelWidth} height={rowHeight - 10} fill="#6f9fd8" />}
            {b.low != null && b.high != null && <line x1={x(b.low)} x2={x(b.high)} y1={y + 12} y2={y + 12} stroke="#1b1f24" strokeWidth={1.5} />}
            <text x={x(Math.max(b.value ?? 0, b.high ?? 0)) + 4} y={y + 15}>
              {formatValue(unit, b.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
