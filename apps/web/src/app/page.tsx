import type { Metadata } from 'next';
import Link from 'next/link';
import { EmptyNotice, ErrorNotice } from '@/components/ErrorNotice';
import { FilterSelect } from '@/components/FilterSelect';
import { MetricCell } from '@/components/MetricCell';
import { MetricHeader } from '@/components/MetricHeader';
import { formatDelta, formatP, shortId } from '@/lib/format';
import { filtersFrom, loadLeaderboard, metricOf, type Leaderboard, type LeaderboardFilters, type LeaderboardRow } from '@/lib/leaderboard';
import { withParams, type SearchParams } from '@/lib/search-params';

export const metadata: Metadata = { title: 'Leaderboard' };

function SortLink({ params, filters, column, children }: { params: SearchParams; filters: LeaderboardFilters; column: string; children: React.ReactNode }) {
  const active = filters.sort === column;
  const next = active && filters.dir !== 'asc' ? 'asc' : 'desc';
  const ariaSort = active ? (filters.dir === 'asc' ? 'ascending' : 'descending') : undefined;
  return (
    <Link href={withParams(params, { sort: column, dir: next })} aria-sort={ariaSort} data-sort={column}>
      {children}
      {active ? (filters.dir === 'asc' ? ' ▲' : ' ▼') : ''}
    </Link>
  );
}

function Filters({ board, filters }: { board: Leaderboard; filters: LeaderboardFilters }) {
  return (
    <form className="filters" method="get" aria-label="Leaderboard filters">
      <FilterSelect label="Benchmark" name="benchmark" value={board.benchmark.name} options={board.benchmarks.map((b) => b.name)} />
      <FilterSelect label="Model" name="model" value={filters.model} options={board.models} anyLabel="all" />
      <FilterSelect label="Method" name="method" value={filters.method} options={board.methods} anyLabel="all" />
      <label>
        Detector
        <input name="detector" defaultValue={filters.detector ?? ''} placeholder="all" size={12} />
      </label>
      <label>
        Threshold
        <input name="threshold" defaultValue={filters.threshold ?? ''} placeholder="all" size={6} inputMode="decimal" />
      </label>
      <button type="submit">Apply</button>
      <Link href="/" className="button secondary">
        Reset
      </Link>
    </form>
  );
}

function DeltaCell({ row, metric }: { row: LeaderboardRow; metric: string }) {
  const versus = row.versusBaseline;
  if (!versus) return <td className="num muted">{row.isBaseline ? 'baseline' : 'no baseline'}</td>;
  const delta = versus.deltas.find((d) => d.key === metric)?.value;
  const verdict = versus.beyondNoise ? 'beyond noise' : 'within noise';
  return (
    <td className={`num${versus.beyondNoise ? ' beyond-noise' : ''}`} title={`paired McNemar test on ${versus.comparison.pairs} image pairs: ${formatP(versus.comparison.mcnemarP)} (${verdict})`}>
      {formatDelta(delta)}
      {versus.beyondNoise && <span className="tag good">beyond noise</span>}
      <span className="interval">
        {formatP(versus.comparison.mcnemarP)} · <Link href={`/compare?a=${versus.baseline.id}&b=${row.run.id}`}>compare</Link>
      </span>
    </td>
  );
}

/** The sortable columns before the metrics (the model is the table's own, in its heading). */
const TEXT_COLUMNS = [
  { column: 'method', label: 'Method', numeric: false },
  { column: 'detector', label: 'Detector', numeric: false },
  { column: 'threshold', label: 'Threshold', numeric: true },
  { column: 'team', label: 'Team', numeric: false },
] as const;

function BoardTable({ board, rows, params, filters }: { board: Leaderboard; rows: LeaderboardRow[]; params: SearchParams; filters: LeaderboardFilters }) {
  const ranked = board.benchmark.metrics.find((m) => m.key === board.rankedBy)!;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th className="num">#</th>
            {TEXT_COLUMNS.map(({ column, label, numeric }) => (
              <th key={column} className={numeric ? 'num' : undefined}>
                <SortLink params={params} filters={filters} column={column}>
                  {label}
                </SortLink>
              </th>
            ))}
            <th className="num" title={`${ranked.label} minus the matching baseline run's; bold when the paired test says the difference is beyond noise (p < 0.05)`}>
              Δ {ranked.key} vs baseline
            </th>
            {board.benchmark.metrics.map((m) => (
              <th key={m.key} className="num">
                <SortLink params={params} filters={filters} column={m.key}>
                  <MetricHeader metric={m} />
                </SortLink>
              </th>
            ))}

          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.run.id} data-run={row.run.id}>
              <td className="num">{row.rank}</td>
              <td>
                <Link href={`/runs/${row.run.id}`}>{row.method ?? 'uploaded images'}</Link>
                {row.isBaseline && <span className="tag baseline">baseline</span>}
                <details>
                  <summary>config {row.configHash ? shortId(row.configHash) : ''}</summary>
                  <pre>{JSON.stringify(row.run.config, null, 2)}</pre>
                </details>
              </td>
              <td>{row.detector}</td>
              <td className="num">{row.threshold}</td>
              <td>{row.run.team.name}</td>
              <DeltaCell row={row} metric={board.rankedBy} />
              {board.benchmark.metrics.map((m) => (
                <MetricCell key={m.key} metric={metricOf(row, m.key)} />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default async function LeaderboardPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const filters = filtersFrom(params);
  let board: Leaderboard;
  try {
    board = await loadLeaderboard(filters);
  } catch (err) {
    return (
      <>
        <h1>Leaderboard</h1>
        <ErrorNotice error={err as Error} title="The leaderboard cannot be shown" />
      </>
    );
  }
  const byModel = new Map<string, LeaderboardRow[]>();
  for (const row of board.rows) {
    const model = row.model?.name ?? 'uploaded images';
    byModel.set(model, [...(byModel.get(model) ?? []), row]);
  }
  const exportQuery = withParams(params, { benchmark: board.benchmark.name });
  return (
    <>
      <h1>Leaderboard: {board.benchmark.name}</h1>
      <Filters board={board} filters={filters} />
      <div className="actions">
        <a className="button secondary" href={`/leaderboard/export${withParams(params, { benchmark: board.benchmark.name, format: 'csv' })}`} download>
          Export CSV
        </a>
        <a className="button secondary" href={`/leaderboard/export${withParams(params, { benchmark: board.benchmark.name, format: 'json' })}`} download>
          Export JSON
        </a>
        <span className="muted">
          {board.rows.length} finished run{board.rows.length === 1 ? '' : 's'}; intervals are 95% bootstrap over prompts; ranked by {board.rankedBy}.
        </span>
      </div>
      {board.rows.length === 0 && (
        <EmptyNotice>
          No finished run matches{exportQuery === '?' ? '' : ' these filters'}. <Link href="/submit">Submit a run</Link>, watch the <Link href="/queue">queue</Link>, or{' '}
          <Link href="/">reset the filters</Link>.
        </EmptyNotice>
      )}
      {[...byModel].map(([model, rows]) => (
        <section key={model} aria-labelledby={`model-${model}`}>
          <h2 id={`model-${model}`}>Model {model}</h2>
          <BoardTable board={board} rows={rows} params={params} filters={filters} />
        </section>
      ))}
    </>
  );
}
