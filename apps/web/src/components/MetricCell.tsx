import { formatMetric } from '@/lib/format';
import type { MetricValue } from '@/lib/leaderboard';

/** A value with its 95% bootstrap interval underneath. */
export function MetricCell({ metric }: { metric: MetricValue | undefined }) {
  return (
    <td className="num">
      {formatMetric(metric?.value, metric?.high ?? undefined)}
      {metric?.low !== null && metric?.low !== undefined && (
        <span className="interval" title="95% bootstrap interval over prompts">
          [{formatMetric(metric.low, metric.high ?? 0)}, {formatMetric(metric.high)}]
        </span>
      )}
    </td>
  );
}
