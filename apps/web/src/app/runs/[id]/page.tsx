import type { Metadata } from 'next';
import Link from 'next/link';
import { BarChart } from '@/components/BarChart';
import { BoxesToggle } from '@/components/BoxesToggle';
import { CopyButton } from '@/components/CopyButton';
import { EmptyNotice, ErrorNotice } from '@/components/ErrorNotice';
import { FilterSelect } from '@/components/FilterSelect';
import { ImageCard } from '@/components/ImageCard';
import { LiveProgress } from '@/components/LiveProgress';
import { MetricCell } from '@/components/MetricCell';
import { MetricHeader } from '@/components/MetricHeader';
import { Pagination } from '@/components/Pagination';
import { Timeline } from '@/components/Timeline';
import { load } from '@/lib/api';
import { formatDate, shortId } from '@/lib/format';
import { BENCHMARK_METRICS, IMAGE_FIELDS, RUN_FIELDS, type BenchmarkMetrics, type ImageNode, type RunDetail } from '@/lib/run';
import { param, withParams, type SearchParams } from '@/lib/search-params';

const PAGE_SIZE = 24;

const RUN_PAGE = /* GraphQL */ `
  ${RUN_FIELDS}
  ${IMAGE_FIELDS}
  query RunPage($id: ID!, $filter: ImageFilter, $first: Int, $after: String) {
    run(id: $id) { ...RunFields }
    images(runId: $id, filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...ImageFields } }
    }
    ${BENCHMARK_METRICS}
  }
`;

interface RunPageData {
  run: RunDetail | null;
  images: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: ImageNode }[] };
  benchmarks: BenchmarkMetrics[];
}

type Props = { params: Promise<{ id: string }>; searchParams: Promise<SearchParams> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Run ${shortId((await params).id)}` };
}

function ImageFilters({ params, relations }: { params: SearchParams; relations: string[] }) {
  return (
    <form className="filters" method="get" aria-label="Image filters">
      <FilterSelect label="Which images" name="failed" value={param(params, 'failed')} options={[{ value: '1', label: 'failed only' }]} anyLabel="all images" />
      <FilterSelect label="Relation" name="relation" value={param(params, 'relation')} options={relations} anyLabel="any" />
      <label>
        Object
        <input name="object" defaultValue={param(params, 'object') ?? ''} placeholder="e.g. cup" size={10} />
      </label>
      <label>
        Prompt text
        <input name="text" defaultValue={param(params, 'text') ?? ''} placeholder="contains…" size={16} />
      </label>
      {param(params, 'metric') && <input type="hidden" name="metric" value={param(params, 'metric')} />}
      <button type="submit">Filter</button>
    </form>
  );
}

function Aggregates({ run, metrics, params }: { run: RunDetail; metrics: BenchmarkMetrics['metrics']; params: SearchParams }) {
  const aggregates = run.aggregates!;
  // By default the first metric that tells the relations apart (a chart of equal bars says little).
  const varies = (key: string) => new Set(aggregates.byRelation.map((r) => r.metrics.find((v) => v.key === key)?.value)).size > 1;
  const charted = metrics.find((m) => m.key === param(params, 'metric')) ?? metrics.find((m) => varies(m.key)) ?? metrics[0]!;
  return (
    <section aria-labelledby="aggregates">
      <h2 id="aggregates">Aggregates</h2>
      <p className="muted">
        {aggregates.imagesScored} images over {aggregates.promptsScored} prompts, scorer {aggregates.scorerVersion}; intervals are 95% bootstrap over prompts.
      </p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Relation</th>
              {metrics.map((m) => (
                <th key={m.key} className="num">
                  <MetricHeader metric={m} />
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {[{ relation: 'all', metrics: aggregates.metrics }, ...aggregates.byRelation].map((row) => (
              <tr key={row.relation}>
                <th scope="row">{row.relation}</th>
                {metrics.map((m) => (
                  <MetricCell key={m.key} metric={row.metrics.find((v) => v.key === m.key)} />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {aggregates.byRelation.length > 0 && (
        <>
          <h3>{charted.label} by relation</h3>
          <nav className="actions" aria-label="Metric to chart">
            {metrics.map((m) => (
              <Link key={m.key} href={withParams(params, { metric: m.key })} aria-current={m.key === charted.key ? 'true' : undefined}>
                {m.label}
              </Link>
            ))}
          </nav>
          <BarChart
            title={`${charted.label} by relation`}
            bars={aggregates.byRelation.map((r) => {
              const v = r.metrics.find((x) => x.key === charted.key);
              return { label: r.relation, value: v?.value ?? null, low: v?.low, high: v?.high };
            })}
          />
        </>
      )}
    </section>
  );
}

export default async function RunPage({ params, searchParams }: Props) {
  const { id } = await params;
  const query = await searchParams;
  const filter = {
    ...(param(query, 'failed') ? { correct: false } : {}),
    ...(param(query, 'relation') ? { relation: param(query, 'relation') } : {}),
    ...(param(query, 'object') ? { object: param(query, 'object') } : {}),
    ...(param(query, 'text') ? { text: param(query, 'text') } : {}),
  };
  const { data, error } = await load<RunPageData>(RUN_PAGE, { id, filter, first: PAGE_SIZE, after: param(query, 'after') });
  if (error) return <ErrorNotice error={error} title={`Run ${id} cannot be shown`} />;
  const run = data.run;
  if (!run) return <ErrorNotice error={new Error(`There is no run ${id}.`)} title="Run not found" />;
  const metrics = data.benchmarks.find((b) => b.name === run.benchmark)?.metrics ?? [];
  const configJson = JSON.stringify(run.config, null, 2);
  const relations = [...new Set(run.aggregates?.byRelation.map((r) => r.relation) ?? [])];
  const filtered = Object.keys(filter).length > 0;
  return (
    <>
      <h1>
        Run {shortId(run.id)}: {run.method ?? 'uploaded images'} on {run.model?.name ?? 'an image set'}
      </h1>
      {param(query, 'reused') && (
        <div className="notice" role="status">
          An identical run had already finished, so the API returned it instead of starting another. To run it again anyway, tick
          &ldquo;Run again even if an identical run finished&rdquo; on the <Link href="/submit">submit page</Link>.
        </div>
      )}
      <div className="columns">
        <section aria-labelledby="facts">
          <h2 id="facts">Run</h2>
          <dl className="facts">
            <dt>id</dt>
            <dd>{run.id}</dd>
            <dt>kind</dt>
            <dd>{run.kind}</dd>
            <dt>benchmark</dt>
            <dd>
              {run.benchmark} / {run.promptSet.name} ({run.limit ?? run.promptSet.promptCount} prompts × {run.imagesPerPrompt})
            </dd>
            <dt>detector</dt>
            <dd>
              {run.detector} at {run.threshold}
            </dd>
            <dt>seed</dt>
            <dd>{run.seed}</dd>
            <dt>team</dt>
            <dd>{run.team.name}</dd>
            <dt>created</dt>
            <dd>{formatDate(run.createdAt)}</dd>
            <dt>finished</dt>
            <dd>{formatDate(run.finishedAt)}</dd>
            {run.sourceRun && (
              <>
                <dt>images of</dt>
                <dd>
                  <Link href={`/runs/${run.sourceRun.id}`}>run {shortId(run.sourceRun.id)}</Link>
                </dd>
              </>
            )}
          </dl>
          <h3>Progress</h3>
          <LiveProgress runId={run.id} status={run.status} progress={run.progress} />
          {run.error && (
            <div className="notice error" role="alert">
              <strong>The run failed.</strong> {run.error}
            </div>
          )}
        </section>
        <section aria-labelledby="timeline">
          <h2 id="timeline">Status timeline</h2>
          <Timeline events={run.timeline} />
          {run.config !== null && (
            <>
              <h2 id="config">Configuration</h2>
              <div className="actions">
                <CopyButton text={configJson} label="Copy JSON" />
                {run.configHash && <code title="SHA-256 of the canonical configuration">{shortId(run.configHash)}</code>}
              </div>
              <pre data-testid="run-config">{configJson}</pre>
            </>
          )}
        </section>
      </div>
      {run.aggregates ? <Aggregates run={run} metrics={metrics} params={query} /> : <p className="muted">Aggregates appear when the run has FINISHED.</p>}
      <section aria-labelledby="images">
        <h2 id="images">Images ({data.images.totalCount}{filtered ? ' matching' : ''})</h2>
        <ImageFilters params={query} relations={relations} />
        {data.images.totalCount === 0 ? (
          <EmptyNotice>{filtered ? 'No image matches these filters.' : run.status === 'FINISHED' ? 'This run has no images.' : 'No images yet: they appear as the worker delivers them.'}</EmptyNotice>
        ) : (
          <BoxesToggle>
            <div className="grid">
              {data.images.edges.map(({ node }) => (
                <ImageCard key={node.id} runId={run.id} image={node} />
              ))}
            </div>
          </BoxesToggle>
        )}
        <Pagination params={query} pageInfo={data.images.pageInfo} label="Image pages" />
      </section>
    </>
  );
}
