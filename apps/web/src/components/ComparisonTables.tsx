import { DefinitionLink } from '@/components/MetricHeader';
import { FilterSelect } from '@/components/FilterSelect';
import {
  formatDifference,
  formatInterval,
  formatP,
  formatValue,
  metricOf,
  SHORT_TEST_NAMES,
  TEST_NAMES,
  verdict,
  type MetricComparison,
  type MetricDefinition,
} from '@/lib/metrics';
import type { ComparisonSummary } from '@/lib/compare';
import type { SearchParams } from '@/lib/search-params';

/** What the tables read of a comparison of run A with run B (compareRuns, Run.versusBaseline). */
type ComparedMetrics = Pick<ComparisonSummary, 'metrics' | 'byRelation'>;

/** The names of the two runs in column headings: A and B on the compare page, baseline and this run on a run page. */
export interface SideNames {
  a: string;
  b: string;
}

const AB: SideNames = { a: 'A', b: 'B' };

/** The headings of ComparedCells' four columns. */
function ComparedHeadings({ names }: { names: SideNames }) {
  return (
    <>
      <th className="num">{names.a}</th>
      <th className="num">{names.b}</th>
      <th className="num">{`${names.b} − ${names.a}`} [95% CI]</th>
      <th>Paired test</th>
    </>
  );
}

/** A metric of both runs, B − A with its interval, and its paired test: four cells of a row. */
function ComparedCells({ m, metric, names, testName }: { m: MetricComparison; metric: MetricDefinition; names: SideNames; testName: string }) {
  return (
    <>
      <td className="num" data-label={names.a}>
        {formatValue(metric.unit, m.a)}
      </td>
      <td className="num" data-label={names.b}>
        {formatValue(metric.unit, m.b)}
      </td>
      <td className={`num${m.beyondNoise ? ' beyond-noise' : ''}`} data-label={`${names.b} − ${names.a} [95% CI]`}>
        {formatDifference(metric.unit, m.difference)}
        <span className="interval">{formatInterval(metric.unit, m.low, m.high)}</span>
      </td>
      <td data-label="Paired test" data-testid={`test-${metric.key}`}>
        {testName}: {formatP(m.p)} <Verdict m={m} />
      </td>
    </>
  );
}

/** Every metric of both runs, the difference with its 95% interval, and the metric's paired test. */
export function MetricsTable({ comparison: c, definitions, names = AB }: { comparison: ComparedMetrics; definitions: MetricDefinition[]; names?: SideNames }) {
  return (
    <div className="table-wrap">
      <table className="cards" data-testid="compare-metrics">
        <caption className="visually-hidden">
          Every metric of {names.a} and {names.b} with its paired test
        </caption>
        <thead>
          <tr>
            <th>Metric</th>
            <ComparedHeadings names={names} />
          </tr>
        </thead>
        <tbody>
          {definitions.map((d) => {
            const m = metricOf(c.metrics, d.key);
            if (!m) return null;
            return (
              <tr key={d.key} data-metric={d.key}>
                <th scope="row">
                  {d.key} <DefinitionLink metric={d} />
                  {d.primary && <span className="tag primary">primary</span>}
                </th>
                <ComparedCells m={m} metric={d} names={names} testName={TEST_NAMES[m.test]} />
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Verdict({ m }: { m: MetricComparison }) {
  return <span className={`tag${m.beyondNoise ? ' good' : ''}`}>{verdict(m)}</span>;
}

/** One metric per relation of the prompts, with the difference, its interval and its paired test; a form picks the metric. */
export function RelationTable({
  comparison: c,
  metric,
  params,
  definitions,
  names = AB,
  parameter = 'metric',
}: {
  comparison: ComparedMetrics;
  metric: MetricDefinition;
  params: SearchParams;
  definitions: MetricDefinition[];
  names?: SideNames;
  /** the query parameter that picks the metric */
  parameter?: string;
}) {
  return (
    <section aria-labelledby={`by-relation-${parameter}`}>
      <h3 id={`by-relation-${parameter}`}>{metric.key} by relation</h3>
      <form className="filters" method="get" aria-label="Metric by relation">
        {Object.entries(params).map(([k, v]) =>
          k === parameter || v === undefined ? null : <input key={k} type="hidden" name={k} value={Array.isArray(v) ? v[0] : v} />,
        )}
        <FilterSelect label="Metric" name={parameter} value={metric.key} options={definitions.map((d) => d.key)} />
        <button type="submit">Show</button>
      </form>
      <div className="table-wrap">
        <table className="cards" data-testid="compare-relations">
          <caption className="visually-hidden">
            {metric.key} of {names.a} and {names.b} per relation, with the difference, its interval and its paired test
          </caption>
          <thead>
            <tr>
              <th>Relation</th>
              <th className="num">Prompts</th>
              <ComparedHeadings names={names} />
            </tr>
          </thead>
          <tbody>
            {c.byRelation.map((r) => {
              const m = metricOf(r.metrics, metric.key)!;
              return (
                <tr key={r.relation} data-relation={r.relation}>
                  <th scope="row">{r.relation}</th>
                  <td className="num" data-label="Prompts">
                    {r.prompts}
                  </td>
                  <ComparedCells m={m} metric={metric} names={names} testName={SHORT_TEST_NAMES[m.test]} />
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
