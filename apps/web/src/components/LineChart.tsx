import { ChartAxes } from '@/components/ChartAxes';
import { niceAxis } from '@/lib/metrics';

export interface Series {
  name: string;
  colour: string;
  /** an SVG stroke-dasharray, e.g. "6 4"; solid without */
  dash?: string;
  points: { x: number; y: number; low?: number | null; high?: number | null }[];
}

const plain = (v: number) => String(Number(v.toPrecision(4)));

/**
 * Lines over a shared x axis, with interval whiskers where points have them, on round axes (niceAxis);
 * `yRange` fixes the y axis instead (e.g. [0, 1] for image coordinates). The legend draws each line
 * as it is drawn in the plot, dash included, so that lines of one colour stay apart.
 */
export function LineChart({
  series,
  title,
  xLabel,
  yLabel,
  yRange,
}: {
  series: Series[];
  title: string;
  xLabel: string;
  yLabel: string;
  yRange?: [number, number];
}) {
  const [width, height, left, bottom, top, right] = [520, 260, 56, 36, 12, 12];
  const points = series.flatMap((s) => s.points);
  const xs = points.map((p) => p.x);
  const ys = points.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]);
  const xAxis = niceAxis(Math.min(...xs), Math.max(...xs), 6);
  const yAxis = yRange ? niceAxis(yRange[0], yRange[1], 5) : niceAxis(Math.min(0, ...ys), Math.max(...ys), 5);
  const [[x0, x1], [y0, y1]] = [xAxis.domain, yAxis.domain];
  const sx = (v: number) => left + ((width - left - right) * (v - x0)) / (x1 - x0 || 1);
  const sy = (v: number) => height - bottom - ((height - bottom - top) * (v - y0)) / (y1 - y0 || 1);
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart" role="img" aria-label={title} viewBox={`0 0 ${width} ${height}`} width="100%" style={{ maxWidth: width }}>
        <title>{title}</title>
        <ChartAxes x={xAxis} y={yAxis} sx={sx} sy={sy} box={{ width, height, left, bottom, top, right }} xLabel={xLabel} yLabel={yLabel} />
        {series.map((s) => (
          <g key={s.name} data-series={s.name}>
            <polyline fill="none" stroke={s.colour} strokeWidth={2} strokeDasharray={s.dash} points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')} />
            {s.points.map((p, i) => (
              <g key={i}>
                {p.low != null && p.high != null && <line x1={sx(p.x)} x2={sx(p.x)} y1={sy(p.low)} y2={sy(p.high)} stroke={s.colour} />}
                <circle cx={sx(p.x)} cy={sy(p.y)} r={3} fill={s.colour}>
                  <title>{`${s.name}: ${xLabel} ${plain(p.x)}, ${yLabel} ${plain(p.y)}`}</title>
                </circle>
              </g>
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="muted legend">
        {series.map((s) => (
          <span key={s.name} style={{ marginRight: 14, display: 'inline-block' }}>
            <svg width="28" height="10" aria-hidden="true" style={{ verticalAlign: 'middle' }}>
              <line x1="1" x2="27" y1="5" y2="5" stroke={s.colour} strokeWidth="2.5" strokeDasharray={s.dash} />
            </svg>{' '}
            {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
