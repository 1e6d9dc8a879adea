import Link from 'next/link';
import { ChartAxes } from '@/components/ChartAxes';
import { formatSeconds, shortId } from '@/lib/format';
import { formatValue, niceAxis, type MetricDefinition } from '@/lib/metrics';
import { paretoFront, type CostPoint } from '@/lib/pareto';

export interface RunPoint extends CostPoint {
  runId: string;
  /** the method, or what stands for it */
  label: string;
}

const FRONT = '#1f5fbf';
const DOMINATED = '#8a94a0';

/**
 * A metric against seconds per image, one point per run, the Pareto front (runs no other run beats on
 * both) drawn as a step line through its points and named beside them. Server-rendered SVG with a
 * title and a description for screen readers, and the same points as a table underneath.
 */
export function ParetoChart({ points, metric, title }: { points: RunPoint[]; metric: MetricDefinition; title: string }) {
  const [width, height, left, bottom, top, right] = [560, 280, 56, 36, 14, 90];
  const onFront = paretoFront(points, metric.higherIsBetter);
  const front = points.filter((_, i) => onFront[i]).sort((a, b) => a.cost - b.cost);
  const xAxis = niceAxis(0, Math.max(...points.map((p) => p.cost)), 6);
  const yAxis = niceAxis(Math.min(0, ...points.map((p) => p.score)), Math.max(...points.map((p) => p.score)), 5);
  const [[x0, x1], [y0, y1]] = [xAxis.domain, yAxis.domain];
  const sx = (v: number) => left + ((width - left - right) * (v - x0)) / (x1 - x0 || 1);
  const sy = (v: number) => height - bottom - ((height - bottom - top) * (v - y0)) / (y1 - y0 || 1);
  // From each front point the line goes right at its score, then to the next one's: what is reachable for the cost.
  const steps = front.flatMap((p, i) =>
    i === 0
      ? [[p.cost, p.score]]
      : [
          [p.cost, front[i - 1]!.score],
          [p.cost, p.score],
        ],
  );
  const describe = (p: RunPoint) => `${p.label} ${shortId(p.runId)}: ${formatSeconds(p.cost)} per image, ${metric.key} ${formatValue(metric.unit, p.score)}`;
  return (
    <figure className="pareto" data-testid="pareto-chart" style={{ margin: 0 }}>
      <svg className="chart" role="img" aria-labelledby="pareto-title pareto-desc" viewBox={`0 0 ${width} ${height}`} width="100%" style={{ maxWidth: width }}>
        <title id="pareto-title">{title}</title>
        <desc id="pareto-desc">
          {points.length} runs; on the Pareto front, cheapest first: {front.map(describe).join('; ')}.
        </desc>
        <ChartAxes x={xAxis} y={yAxis} sx={sx} sy={sy} box={{ width, height, left, bottom, top, right }} xLabel={'seconds per image'} yLabel={metric.key} />
        <polyline
          data-front
          fill="none"
          stroke={FRONT}
          strokeWidth={1.5}
          strokeDasharray="5 3"
          points={steps.map(([x, y]) => `${sx(x!)},${sy(y!)}`).join(' ')}
        />
        {points.map((p, i) => (
          <g key={p.runId} data-run={p.runId} data-on-front={onFront[i] ? 'true' : 'false'}>
            <circle
              cx={sx(p.cost)}
              cy={sy(p.score)}
              r={onFront[i] ? 4.5 : 3.5}
              fill={onFront[i] ? FRONT : 'none'}
              stroke={onFront[i] ? FRONT : DOMINATED}
              strokeWidth={1.5}
            >
              <title>{describe(p)}</title>
            </circle>
            {onFront[i] && (
              <text x={sx(p.cost) + 7} y={sy(p.score) - 5}>
                {p.label}
              </text>
            )}
          </g>
        ))}
      </svg>
      <figcaption className="muted legend">
        Filled points joined by the dashed line: the Pareto front (no other run is both as fast and as good); hollow points: runs beaten on both.
      </figcaption>
      <div className="table-wrap">
        <table data-testid="pareto-table">
          <caption className="visually-hidden">The chart&apos;s runs: {metric.key} and seconds per image</caption>
          <thead>
            <tr>
              <th>run</th>
              <th className="num">s / image</th>
              <th className="num">{metric.key}</th>
              <th>Pareto front</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p, i) => (
              <tr key={p.runId} data-on-front={onFront[i] ? 'true' : 'false'}>
                <td>
                  <Link href={`/runs/${p.runId}`}>
                    {p.label} {shortId(p.runId)}
                  </Link>
                </td>
                <td className="num">{formatSeconds(p.cost)}</td>
                <td className="num">{formatValue(metric.unit, p.score)}</td>
                <td>{onFront[i] ? 'on the front' : <span className="muted">beaten</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
