import type { Metadata } from 'next';
import Link from 'next/link';
import { BoxesToggle } from '@/components/BoxesToggle';
import { EmptyNotice, ErrorNotice } from '@/components/ErrorNotice';
import { ImageWithBoxes } from '@/components/ImageWithBoxes';
import { Pagination } from '@/components/Pagination';
import { load } from '@/lib/api';
import { finishedRuns, describeRun, type RunChoice } from '@/lib/finished-runs';
import { formatDelta, formatMetric, formatP, shortId } from '@/lib/format';
import { ApiError } from '@/lib/graphql';
import { IMAGE_FIELDS, type ImageNode } from '@/lib/run';
import { param, withParams, type SearchParams } from '@/lib/search-params';

export const metadata: Metadata = { title: 'Compare runs' };

const PAGE_SIZE = 20;

const COMPARE = /* GraphQL */ `
  ${IMAGE_FIELDS}
  query Compare($a: ID!, $b: ID!, $first: Int, $after: String, $disagreeing: Boolean) {
    compareRuns(a: $a, b: $b) {
      a { id method seed model { name } }
      b { id method seed model { name } }
      pairs bothCorrect neitherCorrect onlyA onlyB mcnemarP meanDifference meanDifferenceLow meanDifferenceHigh
      images(first: $first, after: $after, disagreeing: $disagreeing) {
        pageInfo { hasNextPage endCursor }
        edges { node { imageIndex prompt { externalId text } a { ...ImageFields } b { ...ImageFields } } }
      }
    }
  }
`;

interface Side {
  id: string;
  method: string | null;
  seed: number;
  model: { name: string } | null;
}

interface Comparison {
  a: Side;
  b: Side;
  pairs: number;
  bothCorrect: number;
  neitherCorrect: number;
  onlyA: number;
  onlyB: number;
  mcnemarP: number;
  meanDifference: number | null;
  meanDifferenceLow: number | null;
  meanDifferenceHigh: number | null;
  images: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { imageIndex: number; prompt: { externalId: number; text: string }; a: ImageNode; b: ImageNode } }[] };
}

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

const sideName = (s: Side) => `${s.method ?? 'uploaded'} (${shortId(s.id)})`;

function Verdict({ c }: { c: Comparison }) {
  const beyond = c.mcnemarP < 0.05;
  return (
    <div className="table-wrap">
      <table>
        <tbody>
          <tr>
            <th scope="row">image pairs scored in both</th>
            <td className="num">{c.pairs}</td>
          </tr>
          <tr>
            <th scope="row">correct in both / neither</th>
            <td className="num">
              {c.bothCorrect} / {c.neitherCorrect}
            </td>
          </tr>
          <tr>
            <th scope="row">correct only in A / only in B</th>
            <td className="num">
              {c.onlyA} / {c.onlyB}
            </td>
          </tr>
          <tr>
            <th scope="row">paired test (exact McNemar)</th>
            <td className={`num${beyond ? ' beyond-noise' : ''}`} data-testid="mcnemar">
              {formatP(c.mcnemarP)} {beyond ? <span className="tag good">beyond noise</span> : <span className="tag">within noise</span>}
            </td>
          </tr>
          <tr>
            <th scope="row">mean score difference B − A</th>
            <td className="num">
              {formatDelta(c.meanDifference)}
              {c.meanDifferenceLow !== null && (
                <span className="interval">
                  [{formatMetric(c.meanDifferenceLow)}, {formatMetric(c.meanDifferenceHigh)}] paired bootstrap 95%
                </span>
              )}
            </td>
          </tr>
        </tbody>
      </table>
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
      <p className="muted">Image by image on the same prompts and seed, starting with the pairs where exactly one of the two runs is correct.</p>
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
  const { data, error } = await load<{ compareRuns: Comparison }>(COMPARE, { a, b, first: PAGE_SIZE, after: param(params, 'after'), disagreeing: !all });
  if (error) {
    return (
      <>
        {header}
        <ErrorNotice error={error} title={error instanceof ApiError && error.code === 'BAD_USER_INPUT' ? 'These runs cannot be compared' : 'The comparison failed'} />
      </>
    );
  }
  const c = data.compareRuns;
  return (
    <>
      {header}
      <p>
        A: <Link href={`/runs/${c.a.id}`}>{sideName(c.a)}</Link> · B: <Link href={`/runs/${c.b.id}`}>{sideName(c.b)}</Link> · seed {c.a.seed}
      </p>
      <Verdict c={c} />
      <h2>{all ? 'All pairs' : 'Pairs where the runs disagree'}</h2>
      <div className="actions">
        <Link href={withParams(params, { all: all ? undefined : '1', after: undefined })}>{all ? 'Show only disagreements' : 'Show all pairs'}</Link>
      </div>
      {c.images.edges.length === 0 ? (
        <EmptyNotice>{all ? 'No image is scored in both runs.' : 'The runs agree on every image.'}</EmptyNotice>
      ) : (
        <BoxesToggle>
          <div className="columns">
            {c.images.edges.map(({ node }) => (
              <article key={`${node.prompt.externalId}-${node.imageIndex}`} className="card" data-testid="compared-pair">
                <p>
                  <strong>{node.prompt.text}</strong> <span className="muted">#{node.imageIndex}</span>
                </p>
                <div className="pair">
                  {([['A', node.a], ['B', node.b]] as const).map(([side, image]) => (
                    <div key={side}>
                      <ImageWithBoxes url={image.url} width={image.width} height={image.height} detections={image.detections} alt={`run ${side}: ${node.prompt.text}`} />
                      <p className={image.correct ? 'status-FINISHED' : 'status-FAILED'}>
                        {side}: {image.correct ? 'correct' : 'incorrect'}
                      </p>
                      {image.reason && <p className="muted">{image.reason}</p>}
                    </div>
                  ))}
                </div>
              </article>
            ))}
          </div>
        </BoxesToggle>
      )}
      <Pagination params={params} pageInfo={c.images.pageInfo} label="Pair pages" />
    </>
  );
}
