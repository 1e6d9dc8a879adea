import type { Metadata } from 'next';
import Link from 'next/link';
import { EmptyNotice, ErrorNotice } from '@/components/ErrorNotice';
import { FilterSelect } from '@/components/FilterSelect';
import { LineChart } from '@/components/LineChart';
import { shortId } from '@/lib/format';
import { loadLeaderboard, type Leaderboard } from '@/lib/leaderboard';
import { formatInterval, formatValue, primaryMetric } from '@/lib/metrics';
import { param, type SearchParams } from '@/lib/search-params';
import { sweepableParams, sweepGroups } from '@/lib/sweep';

export const metadata: Metadata = { title: 'Sweep' };

const COLOURS = ['#1f5fbf', '#b3261e', '#1d7a3a', '#8a5a00', '#6a3d9a', '#008080'];

export default async function SweepPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  let board: Leaderboard;
  try {
    board = await loadLeaderboard({ benchmark: param(params, 'benchmark'), model: param(params, 'model') }, { withBaseline: false });
  } catch (err) {
    return (
      <>
        <h1>Sweep</h1>
        <ErrorNotice error={err as Error} title="The runs cannot be loaded" />
      </>
    );
  }
  const candidates = sweepableParams(board.rows);
  const swept = param(params, 'param') ?? (candidates.includes('guidance_weight') ? 'guidance_weight' : candidates[0]);
  const metric = board.benchmark.metrics.find((m) => m.key === param(params, 'metric')) ?? primaryMetric(board.benchmark.metrics)!;
  const groups = swept ? sweepGroups(board.rows, swept, metric.key) : [];
  return (
    <>
      <h1>Sweep: {metric.label} against a parameter</h1>
      <p className="muted">
        Finished runs that differ only in the chosen parameter; whiskers are 95% bootstrap intervals. A baseline counts as guidance_weight 0.
      </p>
      <form className="filters" method="get" aria-label="Sweep settings">
        <FilterSelect label="Benchmark" name="benchmark" value={board.benchmark.name} options={board.benchmarks.map((b) => b.name)} />
        <FilterSelect label="Model" name="model" value={param(params, 'model')} options={board.models} anyLabel="all" />
        <FilterSelect label="Parameter" name="param" value={swept} options={candidates} anyLabel={candidates.length === 0 ? 'none varies' : undefined} />
        <FilterSelect
          label="Metric"
          name="metric"
          value={metric.key}
          options={board.benchmark.metrics.map((m) => ({ value: m.key, label: `${m.label}${m.primary ? ' (primary)' : ''}` }))}
        />
        <button type="submit">Plot</button>
      </form>
      {groups.length === 0 ? (
        <EmptyNotice>
          No two finished runs on {board.benchmark.name} differ only in {swept ?? 'one parameter'}. Submit the same configuration with other values of it from
          the <Link href="/submit">submit page</Link>.
        </EmptyNotice>
      ) : (
        <>
          <LineChart
            title={`${metric.label} against ${swept}`}
            xLabel={swept!}
            yLabel={metric.label}
            series={groups.map((g, i) => ({ name: g.label, colour: COLOURS[i % COLOURS.length]!, points: g.points }))}
          />
          {groups.map((g) => (
            <div key={g.label} className="table-wrap" style={{ marginTop: 12 }}>
              <table>
                <caption className="muted" style={{ textAlign: 'left', padding: 6 }}>
                  <strong>{g.label}</strong>
                  <details>
                    <summary>the other parameters they share</summary>
                    <code>{g.shared}</code>
                  </details>
                </caption>
                <thead>
                  <tr>
                    <th className="num">{swept}</th>
                    <th className="num">{metric.label}</th>
                    <th className="num">95% interval</th>
                    <th>run</th>
                  </tr>
                </thead>
                <tbody>
                  {g.points.map((p) => (
                    <tr key={p.runId}>
                      <td className="num">{p.x}</td>
                      <td className="num">{formatValue(metric.unit, p.y)}</td>
                      <td className="num">{formatInterval(metric.unit, p.low, p.high) || '—'}</td>
                      <td>
                        <Link href={`/runs/${p.runId}`}>{shortId(p.runId)}</Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </>
      )}
    </>
  );
}
