import type { MetricDefinition } from '@/lib/leaderboard';

/** A metric's short key with its better direction; its name and description on hover and for screen readers. */
export function MetricHeader({ metric }: { metric: MetricDefinition }) {
  const direction = metric.higherIsBetter ? 'higher is better' : 'lower is better';
  return (
    <abbr title={`${metric.label}: ${metric.description} (${direction})`}>
      {metric.key} <span aria-label={direction}>{metric.higherIsBetter ? '↑' : '↓'}</span>
    </abbr>
  );
}
