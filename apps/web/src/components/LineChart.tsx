import { formatMetric } from '@/lib/format';

export interface Series {
  name: string;
  colour: string;
  points: { x: number; y: number; low?: number | null; high?: number | null }[];
}

/** Lines over a shared x axis, with interval whiskers where points have them. */
export function LineChart({ series, title, xLabel, yLabel }: { series: Series[]; title: string; xLabel: string; yLabel: string }) {
  const [width, height, left, bottom, top, right] = [520, 260, 56, 36, 12, 12];
  const points = series.flatMap((s) => s.points);
  const xs = points.map((p) => p.x);
  const ys = points.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys)];
  const sx = (v: number) => left + ((width - left - right) * (v - x0)) / (x1 - x0 || 1);
  const sy = (v: number) => height - bottom - ((height - bottom - top) * (v - y0)) / (y1 - y0 || 1);
  const ticks = (a: number, b: number) => [0, 0.25, 0.5, 0.75, 1].map((t) => a + t * (b - a));
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart" role="img" aria-label={title} viewBox={`0 0 ${width} ${height}`} width="100%" style={{ maxWidth: width }}>
        <title>{title}</title>
        <line className="axis" x1={left} x2={width - right} y1={height - bottom} y2={height - bottom} />
        <line className="axis" x1={left} x2={left} y1={top} y2={height - bottom} />
        {ticks(y0, y1).map((v) => (
          <text key={`y${v}`} x={left - 4} y={sy(v) + 4} textAnchor="end">
            {formatMetric(v, y1)}
          </text>
        ))}
        {ticks(x0, x1).map((v) => (
          <text key={`x${v}`} x={sx(v)} y={height - bottom + 14} textAnchor="middle">
            {formatMetric(v, x1)}
          </text>
        ))}
        <text x={(left + width) / 2} y={height - 4} textAnchor="middle">
          {xLabel}
        </text>
        <text x={12} y={(top + height - bottom) / 2} textAnchor="middle" transform={`rotate(-90 12 ${(top + height - bottom) / 2})`}>
          {yLabel}
        </text>
        {series.map((s) => (
          <g key={s.name}>
            <polyline fill="none" stroke={s.colour} strokeWidth={2} points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')} />
            {s.points.map((p, i) => (
              <g key={i}>
                {p.low != null && p.high != null && <line x1={sx(p.x)} x2={sx(p.x)} y1={sy(p.low)} y2={sy(p.high)} stroke={s.colour} />}
                <circle cx={sx(p.x)} cy={sy(p.y)} r={3} fill={s.colour}>
                  <title>{`${s.name}: ${xLabel} ${formatMetric(p.x)}, ${yLabel} ${formatMetric(p.y)}`}</title>
                </circle>
              </g>
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="muted">
        {series.map((s) => (
          <span key={s.name} style={{ marginRight: 12 }}>
            <span style={{ color: s.colour }}>●</span> {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
