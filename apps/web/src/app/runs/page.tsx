import type { Metadata } from 'next';
import Link from 'next/link';
import { EmptyNotice, ErrorNotice } from '@/components/ErrorNotice';
import { FilterSelect } from '@/components/FilterSelect';
import { Pagination } from '@/components/Pagination';
import { graphql } from '@/gql';
import { load } from '@/lib/api';
import { RUN_STATUSES } from '@/lib/run-status';
import { formatDate, shortId } from '@/lib/format';
import { param, type SearchParams } from '@/lib/search-params';

export const metadata: Metadata = { title: 'Runs' };

const RUNS = graphql(`
  query Runs($first: Int, $after: String, $filter: RunFilter) {
    runs(first: $first, after: $after, filter: $filter, sort: { field: CREATED_AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          status
          kind
          method
          benchmark
          detector
          threshold
          createdAt
          team {
            name
          }
          model {
            name
          }
          promptSet {
            name
          }
          progress {
            fraction
          }
        }
      }
    }
  }
`);

export default async function RunsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const status = param(params, 'status');
  const known = RUN_STATUSES.find((s) => s === status);
  const filter = known ? { status: [known] } : {};
  const { data, error } = await load(RUNS, {
    first: 50,
    after: param(params, 'after'),
    filter,
  });
  return (
    <>
      <h1>Runs</h1>
      <form className="filters" method="get" aria-label="Run filters">
        <FilterSelect label="Status" name="status" value={status} options={[...RUN_STATUSES]} anyLabel="any" />
        <button type="submit">Filter</button>
      </form>
      {error ? (
        <ErrorNotice error={error} title="Runs cannot be listed" />
      ) : data.runs.totalCount === 0 ? (
        <EmptyNotice>
          No runs{status ? ` with status ${status}` : ''} yet. <Link href="/submit">Submit one</Link>.
        </EmptyNotice>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>run</th>
                  <th>status</th>
                  <th className="num">done</th>
                  <th>method</th>
                  <th>model</th>
                  <th>benchmark</th>
                  <th>detector</th>
                  <th>team</th>
                  <th>created</th>
                </tr>
              </thead>
              <tbody>
                {data.runs.edges.map(({ node: r }) => (
                  <tr key={r.id}>
                    <td>
                      <Link href={`/runs/${r.id}`}>{shortId(r.id)}</Link>
                    </td>
                    <td className={`status-${r.status}`}>{r.status}</td>
                    <td className="num">{(100 * r.progress.fraction).toFixed(0)}%</td>
                    <td>{r.method ?? 'uploaded'}</td>
                    <td>{r.model?.name ?? '—'}</td>
                    <td>
                      {r.benchmark}/{r.promptSet.name}
                    </td>
                    <td>
                      {r.detector}@{r.threshold}
                    </td>
                    <td>{r.team.name}</td>
                    <td>{formatDate(r.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pagination params={params} pageInfo={data.runs.pageInfo} label="Run pages" />
        </>
      )}
    </>
  );
}
