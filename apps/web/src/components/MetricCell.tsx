import { formatInterval, formatValue, type MetricDefinition, type MetricValue } from '@/lib/metrics';

/**
 * A value in its unit's format with its 95% bootstrap interval underneath; n/a where undefined. The
 * metric's key names the column (the column picker's and the phone layout's label).
 */
export function MetricCell({ definition, metric }: { definition: MetricDefinition; metric: MetricValue | undefined }) {
  const value = metric?.value ?? null;
  return (
    <td className={`num${value === null ? ' muted' : ''}`} data-col={definition.key} data-label={definition.key}>
      {formatValue(definition.unit, value)}
      {value !== null && metric?.low != null && <span className="interval">{formatInterval(definition.unit, metric.low, metric.high)}</span>}
    </td>
  );
}
