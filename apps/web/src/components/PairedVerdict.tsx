import Link from 'next/link';
import { formatDifference, formatInterval, formatP, SHORT_TEST_NAMES, TEST_NAMES, verdict, type MetricComparison, type MetricDefinition } from '@/lib/metrics';

/**
 * A difference between two runs in one metric with the paired test of that metric: the value (bold
 * beyond noise), its 95% interval, the test by name with its p-value, the verdict (green when better
 * beyond noise, red when worse), and a link to the comparison.
 */
export function PairedVerdict({
  comparison: m,
  metric,
  compare,
  outcome = verdict(m),
}: {
  comparison: MetricComparison;
  metric: MetricDefinition;
  compare?: string;
  outcome?: string;
}) {
  const unit = metric.unit;
  const better = m.difference !== null && (metric.higherIsBetter ? m.difference > 0 : m.difference < 0);
  const tone = !m.beyondNoise ? '' : better ? ' good' : ' bad';
  return (
    <span className="paired" data-testid="paired-verdict" data-p={m.p ?? ''} data-test={m.test}>
      <span className={m.beyondNoise ? 'beyond-noise' : undefined}>{formatDifference(unit, m.difference)}</span>
      {m.low !== null && <span className="interval">{formatInterval(unit, m.low, m.high)}</span>}
      <span className="interval">
        {formatP(m.p)}, <span className="test-name">{SHORT_TEST_NAMES[m.test]}</span>
        <span className="visually-hidden"> ({TEST_NAMES[m.test]})</span>
      </span>
      <span className="interval">
        <span className={`tag${tone}`}>{outcome}</span>
        {compare && (
          <>
            {' '}
            <Link href={compare}>compare</Link>
          </>
        )}
      </span>
    </span>
  );
}
