import type { MetricDefinition } from '@/lib/metrics';

/** A metric's short key with its better direction, for a column heading. */
export function MetricHeader({ metric }: { metric: MetricDefinition }) {
  const direction = metric.higherIsBetter ? 'higher is better' : 'lower is better';
  return (
    <>
      {metric.key}
      {metric.unit === '%' ? ' %' : ''} <span aria-label={direction}>{metric.higherIsBetter ? '↑' : '↓'}</span>
    </>
  );
}

/**
 * A link from a heading to the metric's definition on the same page (MetricDefinitions): reachable
 * by keyboard and by touch, unlike a hover title.
 */
export function DefinitionLink({ metric }: { metric: MetricDefinition }) {
  return (
    <a href={`#metric-${metric.key}`} className="definition-link" aria-label={`What ${metric.key} means`}>
      ?
    </a>
  );
}

/** The metrics' names, units and definitions, each the target of its DefinitionLink. */
export function MetricDefinitions({ metrics }: { metrics: readonly MetricDefinition[] }) {
  return (
    <section aria-labelledby="metric-definitions" className="definitions">
      <h2 id="metric-definitions">Metric definitions</h2>
      <dl>
        {metrics.map((m) => (
          <div key={m.key} id={`metric-${m.key}`} tabIndex={-1}>
            <dt>
              <strong>{m.key}</strong> · {m.label}
              {m.primary && <span className="tag primary">primary</span>}
            </dt>
            <dd>
              {m.description} {m.unit === '%' ? 'Percent, one decimal.' : 'From 0 to 1, three decimals.'}{' '}
              {m.higherIsBetter ? 'Higher is better.' : 'Lower is better.'}
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
