import type { Metadata } from 'next';
import { cookies } from 'next/headers';
import Link from 'next/link';
import { ColumnPicker, type PickableColumn } from '@/components/ColumnPicker';
import { EmptyNotice, ErrorNotice } from '@/components/ErrorNotice';
import { FilterSelect } from '@/components/FilterSelect';
import { MetricCell } from '@/components/MetricCell';
import { DefinitionLink, MetricDefinitions, MetricHeader } from '@/components/MetricHeader';
import { PairedVerdict } from '@/components/PairedVerdict';
import { ParetoChart, type RunPoint } from '@/components/ParetoChart';
import { formatCount, formatSeconds, shortId } from '@/lib/format';
import { hiddenColumnsCookieName, hiddenColumnsFrom } from '@/lib/hidden-columns';
import { filtersFrom, loadLeaderboard, metricOf, TEXT_SORTS, type Leaderboard, type LeaderboardFilters, type LeaderboardRow } from '@/lib/leaderboard';
import { primaryMetric, type MetricDefinition } from '@/lib/metrics';
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
  const sorts = [...board.benchmark.metrics.map((m) => ({ value: m.key, label: `${m.key}${m.primary ? ' (primary)' : ''}` })), ...TEXT_SORTS];
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
      <FilterSelect label="Sort by" name="sort" value={filters.sort ?? board.rankedBy} options={sorts} />
      <FilterSelect
        label="Order"
        name="dir"
        value={filters.dir}
        options={[
          { value: 'desc', label: 'best or Z first' },
          { value: 'asc', label: 'worst or A first' },
        ]}
        anyLabel="best first"
      />
      <button type="submit">Apply</button>
      <Link href="/" className="button secondary">
        Reset
      </Link>
    </form>
  );
}

/** The row's primary metric against its baseline: the difference, its interval, and that metric's own paired test. */
function BaselineCell({ row, primary }: { row: LeaderboardRow; primary: MetricDefinition }) {
  const versus = row.versusBaseline;
  return (
    <td className="num" data-col="delta" data-label={`Δ ${primary.key} vs baseline`}>
      {versus ? (
        <PairedVerdict comparison={versus.primary} metric={primary} compare={`/compare?a=${versus.baseline.id}&b=${row.run.id}`} />
      ) : (
        <span className="muted">{row.isBaseline ? 'baseline' : 'no matching baseline'}</span>
      )}
    </td>
  );
}

/** The row against the leader of its table on the primary metric: behind it beyond noise, or tied within noise. */
function LeaderCell({ row, primary }: { row: LeaderboardRow; primary: MetricDefinition }) {
  const versus = row.versusLeader;
  let content: React.ReactNode = <span className="muted">—</span>;
  if (row.rank === 1) content = <span className="tag good">leader</span>;
  else if (versus) {
    content = (
      <PairedVerdict
        comparison={versus.primary}
        metric={primary}
        compare={`/compare?a=${versus.leader.id}&b=${row.run.id}`}
        outcome={versus.tiedWithinNoise ? 'tied within noise' : versus.primary.difference! < 0 ? 'behind, beyond noise' : 'ahead, beyond noise'}
      />
    );
  } else if (row.ranked) content = <span className="muted">no shared prompts</span>;
  return (
    <td className="num" data-col="leader" data-label={`vs leader`}>
      {content}
    </td>
  );
}

/** Seconds and U-Net evaluations per image, with the device and the backward passes underneath; n/a for runs whose images carry no cost. */
function CostCells({ row }: { row: LeaderboardRow }) {
  const cost = row.cost;
  return (
    <>
      <td className={`num${cost ? '' : ' muted'}`} data-col="seconds" data-label="Seconds / image">
        {formatSeconds(cost?.secondsPerImage)}
        {cost && <span className="interval">{cost.device}</span>}
      </td>
      <td className={`num${cost ? '' : ' muted'}`} data-col="evaluations" data-label="U-Net evaluations / image">
        {formatCount(cost?.unetEvaluationsPerImage)}
        {cost && <span className="interval">{formatCount(cost.backwardPassesPerImage)} backward</span>}
      </td>
    </>
  );
}

/** The board's runs with a cost and a figure of `metric`, as points of the cost chart. */
function costPoints(rows: readonly LeaderboardRow[], metric: MetricDefinition): RunPoint[] {
  return rows.flatMap((row) => {
    const score = metricOf(row.metrics, metric.key)?.value ?? null;
    return row.cost && score !== null ? [{ runId: row.run.id, label: row.method ?? 'uploaded images', cost: row.cost.secondsPerImage, score }] : [];
  });
}

/** The columns a reader may hide (the run column stays). */
function pickableColumns(board: Leaderboard, primary: MetricDefinition): PickableColumn[] {
  return [
    { key: 'delta', label: `Δ ${primary.key} vs baseline` },
    { key: 'leader', label: 'vs leader' },
    { key: 'seconds', label: 'Seconds / image' },
    { key: 'evaluations', label: 'U-Net evaluations / image' },
    { key: 'n', label: 'n (prompts × images)' },
    { key: 'seed', label: 'Seed' },
    { key: 'detector', label: 'Detector' },
    { key: 'threshold', label: 'Threshold' },
    { key: 'team', label: 'Team' },
    ...board.benchmark.metrics.map((m) => ({ key: m.key, label: m.key })),
    { key: 'config', label: 'Configuration' },
  ];
}

function BoardTable({
  board,
  rows,
  params,
  filters,
  ranked,
  caption,
}: {
  board: Leaderboard;
  rows: LeaderboardRow[];
  params: SearchParams;
  filters: LeaderboardFilters;
  ranked: boolean;
  caption: string;
}) {
  // The metric the rows are ranked by comes first, beside the run; the others follow in the benchmark's order.
  const rankedBy = metricOf(board.benchmark.metrics, board.rankedBy) ?? primaryMetric(board.benchmark.metrics)!;
  const metrics = [rankedBy, ...board.benchmark.metrics.filter((m) => m !== rankedBy)];
  const delta = primaryMetric(board.benchmark.metrics)!;
  const metricHeader = (m: MetricDefinition) => (
    <th key={m.key} className={`num${m === rankedBy ? ' ranked-by' : ''}`} data-col={m.key}>
      <SortLink params={params} filters={filters} column={m.key}>
        <MetricHeader metric={m} />
      </SortLink>{' '}
      <DefinitionLink metric={m} />
    </th>
  );
  return (
    <div className="table-wrap">
      <table className="board cards">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th className="sticky">
              # ·{' '}
              <SortLink params={params} filters={filters} column="method">
                Run
              </SortLink>
            </th>
            {metricHeader(rankedBy)}
            {ranked && (
              <>
                <th className="num" data-col="delta">
                  Δ {delta.key} vs baseline <DefinitionLink metric={delta} />
                </th>
                <th className="num" data-col="leader">
                  vs leader
                </th>
              </>
            )}
            <th className="num" data-col="seconds">
              s / image
            </th>
            <th className="num" data-col="evaluations">
              U-Net evals / image
            </th>
            <th className="num" data-col="n">
              n
            </th>
            <th className="num" data-col="seed">
              Seed
            </th>
            {(['detector', 'threshold', 'team'] as const).map((column) => (
              <th key={column} className={column === 'threshold' ? 'num' : undefined} data-col={column}>
                <SortLink params={params} filters={filters} column={column}>
                  {column[0]!.toUpperCase() + column.slice(1)}
                </SortLink>
              </th>
            ))}
            {metrics.slice(1).map(metricHeader)}
            <th data-col="config">Configuration</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.run.id} data-run={row.run.id} data-rank={row.rank ?? ''}>
              <th scope="row" className="sticky">
                <span className="rank">{row.rank ?? '–'}</span> <Link href={`/runs/${row.run.id}`}>{row.method ?? 'uploaded images'}</Link>
                {!ranked && <span className="muted"> · {row.model?.name ?? 'image set'}</span>}
                {row.isBaseline && <span className="tag baseline">baseline</span>}
              </th>
              <MetricCell definition={rankedBy} metric={metricOf(row.metrics, rankedBy.key)} />
              {ranked && (
                <>
                  <BaselineCell row={row} primary={delta} />
                  <LeaderCell row={row} primary={delta} />
                </>
              )}
              <CostCells row={row} />
              <td className="num" data-col="n" data-label="n (prompts × images)">
                {row.promptsScored} × {row.run.imagesPerPrompt}
                <span className="interval">{row.imagesScored} images</span>
              </td>
              <td className="num" data-col="seed" data-label="Seed">
                {row.run.seed}
              </td>
              <td data-col="detector" data-label="Detector">
                {row.detector}
              </td>
              <td className="num" data-col="threshold" data-label="Threshold">
                {row.threshold}
              </td>
              <td data-col="team" data-label="Team">
                {row.run.team.name}
              </td>
              {metrics.slice(1).map((m) => (
                <MetricCell key={m.key} definition={m} metric={metricOf(row.metrics, m.key)} />
              ))}
              <td data-col="config" data-label="Configuration">
                {row.run.config === null ? (
                  <span className="muted">none (uploaded images)</span>
                ) : (
                  <details>
                    <summary>config {row.configHash ? shortId(row.configHash) : ''}</summary>
                    <pre>{JSON.stringify(row.run.config, null, 2)}</pre>
                  </details>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The primary metric (VISOR_cond for VISOR and VISOR-Shapes) against seconds per image, every listed run with a cost, the Pareto front marked. */
function CostSection({ board, primary }: { board: Leaderboard; primary: MetricDefinition }) {
  const points = costPoints(board.rows, primary);
  return (
    <section aria-labelledby="cost-chart">
      <h2 id="cost-chart">{primary.key} against seconds per image</h2>
      {points.length === 0 ? (
        <p className="muted">No run listed here recorded what its images cost (uploaded images and rescores do not).</p>
      ) : (
        <ParetoChart points={points} metric={primary} title={`${primary.key} against seconds per image on ${board.benchmark.name}, with the Pareto front`} />
      )}
      <p className="muted">
        Seconds are wall time per image on the device the run used (its batch&apos;s time over its images); runs on different devices or models are not
        comparable by time alone.
      </p>
    </section>
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
  for (const row of board.rows.filter((r) => r.ranked)) {
    const model = row.model?.name ?? 'uploaded images';
    byModel.set(model, [...(byModel.get(model) ?? []), row]);
  }
  const unranked = board.rows.filter((r) => !r.ranked);
  const primary = primaryMetric(board.benchmark.metrics)!;
  const exportQuery = withParams(params, { benchmark: board.benchmark.name });
  const columns = pickableColumns(board, primary);
  const hiddenColumns = hiddenColumnsFrom((await cookies()).get(hiddenColumnsCookieName('leaderboard'))?.value, columns);
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
        <ColumnPicker board="leaderboard" columns={columns} initiallyHidden={hiddenColumns} />
      </div>
      <p className="muted" data-testid="board-summary">
        {board.rows.length} finished run{board.rows.length === 1 ? '' : 's'}, ranked by {board.rankedBy}
        {board.rankedBy === primary.key ? " (the benchmark's primary metric)" : ''}, each model&apos;s runs apart. Intervals are 95% bootstrap over prompts. Δ
        is {primary.key} against the matching baseline, with that metric&apos;s own paired test; runs under {board.minRankedImages} images are listed apart, not
        ranked.
      </p>
      {board.rows.length === 0 && (
        <EmptyNotice>
          No finished run matches{exportQuery === '?' ? '' : ' these filters'}. <Link href="/submit">Submit a run</Link>, watch the{' '}
          <Link href="/queue">queue</Link>, or <Link href="/">reset the filters</Link>.
        </EmptyNotice>
      )}
      <div data-board="leaderboard">
        {[...byModel].map(([model, rows]) => (
          <section key={model} aria-labelledby={`model-${model}`}>
            <h2 id={`model-${model}`}>Model {model}</h2>
            <BoardTable board={board} rows={rows} params={params} filters={filters} ranked caption={`Runs of model ${model}, ranked by ${board.rankedBy}`} />
          </section>
        ))}
        {unranked.length > 0 && (
          <section aria-labelledby="unranked" data-testid="unranked">
            <h2 id="unranked">Below the minimum size: not ranked</h2>
            <p className="muted">These runs scored fewer than {board.minRankedImages} images, too few to rank; their figures are shown for reference.</p>
            <BoardTable
              board={board}
              rows={unranked}
              params={params}
              filters={filters}
              ranked={false}
              caption={`Runs under ${board.minRankedImages} images, not ranked`}
            />
          </section>
        )}
      </div>
      <CostSection board={board} primary={primary} />
      <MetricDefinitions metrics={board.benchmark.metrics} />
    </>
  );
}
