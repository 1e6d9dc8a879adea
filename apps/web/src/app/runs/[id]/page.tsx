import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { BarChart } from '@/components/BarChart';
import { BoxesToggle } from '@/components/BoxesToggle';
import { MetricsTable, RelationTable } from '@/components/ComparisonTables';
import { CopyButton } from '@/components/CopyButton';
import { EmptyNotice, ErrorNotice } from '@/components/ErrorNotice';
import { FilterSelect } from '@/components/FilterSelect';
import { ImageCard } from '@/components/ImageCard';
import { LiveProgress } from '@/components/LiveProgress';
import { MetricCell } from '@/components/MetricCell';
import { DefinitionLink, MetricDefinitions, MetricHeader } from '@/components/MetricHeader';
import { RunActions } from '@/components/RunActions';
import { Timeline } from '@/components/Timeline';
import { graphql } from '@/gql';
import type { RunPageQuery } from '@/gql/graphql';
import { load } from '@/lib/api';
import { formatCount, formatDate, formatSeconds, shortId } from '@/lib/format';
import { isMissing } from '@/lib/graphql';
import { formatValue, metricOf, primaryMetric, type MetricDefinition } from '@/lib/metrics';
import type { RunDetail } from '@/lib/run';
import { param, withParams, type SearchParams } from '@/lib/search-params';
import { currentSession } from '@/lib/session';

const PAGE_SIZE = 24;

const RUN_PAGE = graphql(`
  query RunPage($id: ID!, $filter: ImageFilter, $first: Int, $after: String, $last: Int, $before: String) {
    run(id: $id) {
      ...RunFields
    }
    images(runId: $id, filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      startIndex
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
      edges {
        node {
          ...ImageFields
        }
      }
    }
    benchmarks {
      name
      metrics {
        ...MetricDefinitionFields
      }
    }
  }
`);

type RunPageData = RunPageQuery;

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

function Aggregates({ run, metrics, params }: { run: RunDetail; metrics: MetricDefinition[]; params: SearchParams }) {
  const aggregates = run.aggregates!;
  // By default the first metric that tells the relations apart (a chart of equal bars says little), the primary one first.
  const varies = (key: string) => new Set(aggregates.byRelation.map((r) => r.metrics.find((v) => v.key === key)?.value)).size > 1;
  const primary = primaryMetric(metrics)!;
  const charted = metrics.find((m) => m.key === param(params, 'metric')) ?? [primary, ...metrics].find((m) => varies(m.key)) ?? primary;
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
              <th className="sticky">Relation</th>
              {metrics.map((m) => (
                <th key={m.key} className="num">
                  <MetricHeader metric={m} /> <DefinitionLink metric={m} />
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {[{ relation: 'all', metrics: aggregates.metrics }, ...aggregates.byRelation].map((row) => (
              <tr key={row.relation}>
                <th scope="row" className="sticky">
                  {row.relation}
                </th>
                {metrics.map((m) => (
                  <MetricCell key={m.key} definition={m} metric={metricOf(row.metrics, m.key)} />
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
            unit={charted.unit}
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

/** The run against its matching baseline: every metric with its paired test, and one metric per relation. */
function VersusBaseline({ run, metrics, params }: { run: RunDetail; metrics: MetricDefinition[]; params: SearchParams }) {
  const versus = run.versusBaseline;
  const names = { a: 'baseline', b: 'this run' };
  const byRelation = metricOf(metrics, param(params, 'vs') ?? '') ?? metricOf(metrics, versus?.primaryMetric ?? '') ?? metrics[0];
  return (
    <section aria-labelledby="versus-baseline">
      <h2 id="versus-baseline">Against the baseline</h2>
      {!versus ? (
        <p className="muted" data-testid="no-baseline">
          {run.method === 'baseline'
            ? 'This run is a baseline.'
            : run.status !== 'FINISHED'
              ? 'The comparison appears when the run has FINISHED.'
              : "No finished baseline run has this run's prompt set, model, detector, threshold, seed, images per prompt and limit. Submit one to see the difference the method makes."}
        </p>
      ) : (
        <>
          <p>
            Baseline <Link href={`/runs/${versus.a.id}`}>{shortId(versus.a.id)}</Link>: the same prompts, model, detector, threshold and seed;{' '}
            {versus.sharedPrompts} prompts, {versus.pairing === 'IMAGE' ? 'paired image by image' : 'paired by prompt'}.{' '}
            <Link className="button" href={`/compare?a=${versus.a.id}&b=${run.id}`}>
              Compare with the baseline
            </Link>
          </p>
          {versus.notes.map((n) => (
            <p key={n} className="notice warn">
              {n}
            </p>
          ))}
          <MetricsTable comparison={versus} definitions={metrics} names={names} />
          {versus.byRelation.length > 0 && byRelation && (
            <RelationTable comparison={versus} metric={byRelation} params={params} definitions={metrics} names={names} parameter="vs" />
          )}
        </>
      )}
    </section>
  );
}

/** The configuration as what differs from the method's defaults, with the whole of it one click away. */
function Configuration({ run }: { run: RunDetail }) {
  const configJson = JSON.stringify(run.config, null, 2);
  const changes = run.configChanges ?? [];
  return (
    <section aria-labelledby="config">
      <h2 id="config">Configuration</h2>
      <p>
        {run.method} with{' '}
        {changes.length === 0
          ? `the defaults for ${run.model?.name}`
          : `${changes.length} parameter${changes.length === 1 ? '' : 's'} changed from the defaults for ${run.model?.name}`}
        {run.configHash && (
          <>
            {' '}
            · <code title="SHA-256 of the canonical configuration">{shortId(run.configHash)}</code>
          </>
        )}
      </p>
      {changes.length > 0 && (
        <table data-testid="config-changes">
          <thead>
            <tr>
              <th>Parameter</th>
              <th>This run</th>
              <th>Default</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((c) => (
              <tr key={c.key}>
                <th scope="row">{c.key}</th>
                <td>
                  <code>{JSON.stringify(c.value)}</code>
                </td>
                <td className="muted">
                  <code>{JSON.stringify(c.default)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <details>
        <summary>Full configuration (JSON)</summary>
        <div className="actions">
          <CopyButton text={configJson} label="Copy JSON" />
        </div>
        <pre data-testid="run-config">{configJson}</pre>
      </details>
    </section>
  );
}

function ImagePager({ params, images, label }: { params: SearchParams; images: RunPageData['images']; label: string }) {
  const pages = Math.max(1, Math.ceil(images.totalCount / PAGE_SIZE));
  const page = Math.floor(images.startIndex / PAGE_SIZE) + 1;
  const { pageInfo } = images;
  const first = images.startIndex + 1;
  const last = images.startIndex + images.edges.length;
  return (
    <nav className="pager" aria-label={label} data-testid="image-pager">
      <span>
        Page {page} of {pages}
        {images.edges.length > 0 && (
          <span className="muted">
            {' '}
            (images {first}–{last} of {images.totalCount})
          </span>
        )}
      </span>
      {pageInfo.hasPreviousPage && (
        <>
          <Link href={withParams(params, { after: undefined, before: undefined })}>First page</Link>
          {pageInfo.startCursor && <Link href={withParams(params, { after: undefined, before: pageInfo.startCursor })}>Previous page</Link>}
        </>
      )}
      {pageInfo.hasNextPage && pageInfo.endCursor && <Link href={withParams(params, { before: undefined, after: pageInfo.endCursor })}>Next page</Link>}
    </nav>
  );
}

/** The document and variables behind the view, for the reader to run it from a script. */
function GraphQLSnippet({ variables }: { variables: Record<string, unknown> }) {
  const document = RUN_PAGE.toString().trim();
  const body = JSON.stringify({ query: document, variables });
  return (
    <details className="graphql-snippet">
      <summary>GraphQL for this view</summary>
      <p className="muted">POST it to the API&apos;s /graphql (reads need no token), for example with curl:</p>
      <pre>{`curl -s $API/graphql -H 'content-type: application/json' --data @query.json`}</pre>
      <div className="actions">
        <CopyButton text={body} label="Copy query.json" />
      </div>
      <pre data-testid="graphql-snippet">{document}</pre>
      <pre>{JSON.stringify(variables, null, 2)}</pre>
    </details>
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
  const before = param(query, 'before');
  const variables = before ? { id, filter, last: PAGE_SIZE, before } : { id, filter, first: PAGE_SIZE, after: param(query, 'after') };
  const [{ data, error }, session] = await Promise.all([load(RUN_PAGE, variables), currentSession()]);
  if (error && isMissing(error)) notFound();
  if (error) return <ErrorNotice error={error} title={`Run ${id} cannot be shown`} />;
  const run = data.run;
  if (!run) notFound();
  const metrics = data.benchmarks.find((b) => b.name === run.benchmark)?.metrics ?? [];
  const relations = [...new Set(run.aggregates?.byRelation.map((r) => r.relation) ?? [])];
  const filtered = Object.keys(filter).length > 0;
  const primary = primaryMetric(metrics);
  const primaryValue = primary && run.aggregates ? metricOf(run.aggregates.metrics, primary.key) : undefined;
  return (
    <>
      <h1>
        Run {shortId(run.id)}: {run.method ?? 'uploaded images'} on {run.model?.name ?? 'an image set'}
      </h1>
      {param(query, 'reused') && (
        <div className="notice" role="status">
          An identical run had already finished, so the API returned it instead of starting another. To run it again anyway, tick &ldquo;Run again even if an
          identical run finished&rdquo; on the <Link href={`/submit?from=${run.id}`}>submit page</Link>.
        </div>
      )}
      {primary && primaryValue && (
        <p className="lead">
          {primary.key}: <strong>{formatValue(primary.unit, primaryValue.value)}</strong> <span className="muted">(the benchmark&apos;s primary metric)</span>
        </p>
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
            <dt>cost per image</dt>
            <dd data-testid="run-cost">
              {run.cost ? (
                `${formatSeconds(run.cost.secondsPerImage)} on ${run.cost.device}, ${formatCount(run.cost.unetEvaluationsPerImage)} U-Net evaluations, ${formatCount(run.cost.backwardPassesPerImage)} backward passes (mean over ${run.cost.images} images)`
              ) : (
                <span className="muted">not recorded (uploaded images, a rescore, or not generated yet)</span>
              )}
            </dd>
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
          <p>
            <Link className="button secondary" href={`/submit?from=${run.id}`}>
              Start a new run from this one
            </Link>
          </p>
          <RunActions
            runId={run.id}
            runTeam={run.team.name}
            team={session.viewer?.team.name ?? null}
            status={run.status}
            detector={run.detector}
            threshold={run.threshold}
          />
        </section>
        <section aria-labelledby="timeline">
          <h2 id="timeline">Status timeline</h2>
          <Timeline events={run.timeline} />
          {run.config !== null && <Configuration run={run} />}
        </section>
      </div>
      <VersusBaseline run={run} metrics={metrics} params={query} />
      {run.aggregates ? <Aggregates run={run} metrics={metrics} params={query} /> : <p className="muted">Aggregates appear when the run has FINISHED.</p>}
      <section aria-labelledby="images">
        <h2 id="images">
          Images ({data.images.totalCount}
          {filtered ? ' matching' : ''})
        </h2>
        <ImageFilters params={query} relations={relations} />
        <div className="actions">
          <a className="button secondary" href={`/runs/${run.id}/export?format=csv`} download>
            Export images (CSV)
          </a>
          <a className="button secondary" href={`/runs/${run.id}/export?format=jsonl`} download>
            Export images (JSONL)
          </a>
        </div>
        {data.images.totalCount === 0 ? (
          <EmptyNotice>
            {filtered
              ? 'No image matches these filters.'
              : run.status === 'FINISHED'
                ? 'This run has no images.'
                : 'No images yet: they appear as the worker delivers them.'}
          </EmptyNotice>
        ) : (
          <>
            <ImagePager params={query} images={data.images} label="Image pages" />
            <BoxesToggle>
              <div className="grid">
                {data.images.edges.map(({ node }) => (
                  <ImageCard key={node.id} runId={run.id} image={node} />
                ))}
              </div>
            </BoxesToggle>
            <ImagePager params={query} images={data.images} label="Image pages, again" />
          </>
        )}
      </section>
      <GraphQLSnippet variables={variables} />
      <MetricDefinitions metrics={metrics} />
    </>
  );
}
