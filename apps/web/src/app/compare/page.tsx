import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { BoxesToggle } from '@/components/BoxesToggle';
import { EmptyNotice, ErrorNotice } from '@/components/ErrorNotice';
import { ImageWithBoxes } from '@/components/ImageWithBoxes';
import { MetricsTable, RelationTable } from '@/components/ComparisonTables';
import { MetricDefinitions } from '@/components/MetricHeader';
import { Pagination } from '@/components/Pagination';
import { load } from '@/lib/api';
import { COMPARE, PAIRING, type ComparedRun, type Comparison } from '@/lib/compare';
import { finishedRuns, describeRun, type RunChoice } from '@/lib/finished-runs';
import { shortId } from '@/lib/format';
import { isMissing } from '@/lib/graphql';
import { metricOf } from '@/lib/metrics';
import { param, withParams, type SearchParams } from '@/lib/search-params';

export const metadata: Metadata = { title: 'Compare runs' };

const PAGE_SIZE = 20;

function Pickers({ runs, a, b }: { runs: RunChoice[]; a?: string; b?: string }) {
  return (
    <form className="filters" method="get" aria-label="Runs to compare">
      {(['a', 'b'] as const).map((side) => (
        <label key={side}>
          Run {side.toUpperCase()}
          <select name={side} defaultValue={side === 'a' ? (a ?? '') : (b ?? '')} required>
            <option value="">choose a finished run</option>
            {runs.map((r) => (
              <option key={r.id} value={r.id}>
                {describeRun(r)}
              </option>
            ))}
          </select>
        </label>
      ))}
      <button type="submit">Compare</button>
    </form>
  );
}

const sideName = (s: ComparedRun) => `${s.method ?? 'uploaded images'} on ${s.model?.name ?? 'an image set'} (${shortId(s.id)})`;

/** How the runs were paired, in words. */
function pairingText(c: Comparison): string {
  return c.pairing === 'IMAGE'
    ? `Paired image by image: both runs draw image k of a prompt from seed ${c.a.seed}'s noise stream k (${c.a.imagesPerPrompt} images per prompt). ${c.pairs} image pairs.`
    : "Paired by prompt: each prompt's images in one run against its images in the other (the runs' images are not drawn from the same noise).";
}

const imagePage = (image: { runId: string; id: string }) => `/runs/${image.runId}/images/${image.id}`;

function ImagePairs({ c }: { c: Comparison }) {
  return (
    <BoxesToggle>
      <div className="columns">
        {(c.images?.edges ?? []).map(({ node }) => (
          <article key={`${node.prompt.externalId}-${node.imageIndex}`} className="card" data-testid="compared-pair">
            <p>
              <strong>{node.prompt.text}</strong> <span className="muted">image #{node.imageIndex}</span>
            </p>
            <div className="pair">
              {(
                [
                  ['A', node.a],
                  ['B', node.b],
                ] as const
              ).map(([side, image]) => (
                <div key={side}>
                  <Link href={imagePage(image)} aria-label={`Run ${side}'s image ${image.imageIndex} of "${node.prompt.text}"`}>
                    <ImageWithBoxes
                      url={image.url}
                      width={image.width}
                      height={image.height}
                      detections={image.detections}
                      alt={`run ${side}: ${node.prompt.text}`}
                    />
                  </Link>
                  <p className={image.correct ? 'status-FINISHED' : 'status-FAILED'}>
                    {side}: {image.correct ? 'correct' : 'incorrect'} · <Link href={imagePage(image)}>image page</Link>
                  </p>
                  {image.reason && <p className="muted">{image.reason}</p>}
                </div>
              ))}
            </div>
          </article>
        ))}
      </div>
    </BoxesToggle>
  );
}

function PromptPairs({ c }: { c: Comparison }) {
  return (
    <div className="columns">
      {(c.prompts?.edges ?? []).map(({ node }) => (
        <article key={node.prompt.externalId} className="card" data-testid="compared-prompt">
          <p>
            <strong>{node.prompt.text}</strong>
          </p>
          {(
            [
              ['A', node.a, node.aCorrect],
              ['B', node.b, node.bCorrect],
            ] as const
          ).map(([side, images, correct]) => (
            <div key={side}>
              <p>
                {side}: {correct} of {images.length} correct
              </p>
              <div className="thumbs">
                {images.map((image) => (
                  <Link key={image.id} href={imagePage(image)} className={image.correct ? 'status-FINISHED' : 'status-FAILED'}>
                    <div className="image-boxes">
                      <img src={image.url} alt={`run ${side}, image ${image.imageIndex}: ${node.prompt.text}`} loading="lazy" />
                    </div>
                    #{image.imageIndex} {image.correct ? '✓ correct' : '✗ incorrect'}
                  </Link>
                ))}
              </div>
            </div>
          ))}
        </article>
      ))}
    </div>
  );
}

export default async function ComparePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const [a, b] = [param(params, 'a'), param(params, 'b')];
  const all = param(params, 'all') === '1';
  let runs: RunChoice[];
  try {
    runs = await finishedRuns();
  } catch (err) {
    return <ErrorNotice error={err as Error} title="Runs cannot be listed" />;
  }
  const header = (
    <>
      <h1>Compare two runs</h1>
      <p className="muted">
        On the prompts both runs scored, every metric with its paired test: image by image when the runs share their seed and images per prompt, prompt by
        prompt otherwise.
      </p>
      <Pickers runs={runs} a={a} b={b} />
    </>
  );
  if (!a || !b) {
    return (
      <>
        {header}
        {runs.length < 2 && <EmptyNotice>Comparing needs two finished runs; there {runs.length === 1 ? 'is one' : 'are none'} yet.</EmptyNotice>}
      </>
    );
  }
  const paired = await load(PAIRING, { a, b });
  const { data, error } = paired.error
    ? paired
    : await load(COMPARE, {
        a,
        b,
        first: PAGE_SIZE,
        after: param(params, 'after'),
        disagreeing: !all,
        imagePaired: paired.data.compareRuns.pairing === 'IMAGE',
      });
  if (error && isMissing(error)) notFound();
  if (error) {
    return (
      <>
        {header}
        <ErrorNotice error={error} title={error.code === 'BAD_USER_INPUT' ? 'These runs cannot be compared' : 'The comparison failed'} />
      </>
    );
  }
  const c = data.compareRuns;
  const definitions = data.benchmarks.find((x) => x.name === c.a.benchmark)?.metrics ?? [];
  const primary = metricOf(definitions, c.primaryMetric) ?? definitions[0]!;
  const byRelation = metricOf(definitions, param(params, 'metric') ?? '') ?? primary;
  const connection = (c.pairing === 'IMAGE' ? c.images : c.prompts) ?? { pageInfo: { hasNextPage: false, endCursor: null }, edges: [] };
  const exportLink = (format: string) => `/compare/export${withParams({ a, b }, { format })}`;
  return (
    <>
      {header}
      <p>
        A: <Link href={`/runs/${c.a.id}`}>{sideName(c.a)}</Link> · B: <Link href={`/runs/${c.b.id}`}>{sideName(c.b)}</Link> · {c.a.benchmark}, {c.sharedPrompts}{' '}
        shared prompts
      </p>
      <p data-testid="pairing" data-pairing={c.pairing}>
        {pairingText(c)}
      </p>
      {c.notes.length > 0 && (
        <div className="notice warn" role="note" data-testid="compare-notes">
          {c.notes.map((n) => (
            <p key={n}>{n}</p>
          ))}
        </div>
      )}
      <div className="actions">
        <a className="button secondary" href={exportLink('csv')} download>
          Export pairs (CSV)
        </a>
        <a className="button secondary" href={exportLink('json')} download>
          Export pairs (JSON)
        </a>
      </div>
      <h2>Every metric, B against A</h2>
      <MetricsTable comparison={c} definitions={definitions} />
      {c.byRelation.length > 0 && <RelationTable comparison={c} metric={byRelation} params={params} definitions={definitions} />}
      <h2>
        {c.pairing === 'IMAGE'
          ? all
            ? 'All image pairs'
            : 'Image pairs where the runs disagree'
          : all
            ? 'All prompts'
            : "Prompts where the runs' shares of correct images differ"}
      </h2>
      <div className="actions">
        <Link href={withParams(params, { all: all ? undefined : '1', after: undefined })}>{all ? 'Show only disagreements' : 'Show all'}</Link>
      </div>
      {connection.edges.length === 0 ? (
        <EmptyNotice>{all ? 'Nothing is scored in both runs.' : 'The runs agree everywhere.'}</EmptyNotice>
      ) : c.pairing === 'IMAGE' ? (
        <ImagePairs c={c} />
      ) : (
        <PromptPairs c={c} />
      )}
      <Pagination params={params} pageInfo={connection.pageInfo} label="Pair pages" />
      <MetricDefinitions metrics={definitions} />
    </>
  );
}
