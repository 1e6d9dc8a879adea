/** What the API benches share: option parsing, percentiles, the printed table, the leaderboard query, GraphQL over HTTP and the teardown. */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import type pg from 'pg';
import type { PostgresServer } from '../../../test/support/postgres.ts';
import type { RedisServer } from '../../../test/support/redis.ts';
import type { ApiServer } from '../src/server.ts';

export function positive(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${value}`);
  return n;
}

/** The nearest-rank percentile of ascending `sorted` (not empty). */
export function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Columns padded to their widest cell, the first and last left-aligned, a rule under the header row. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const last = rows[0].length - 1;
  return rows
    .map(
      (row, i) =>
        row
          .map((cell, c) => (c === 0 || c === last ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
          .join('  ')
          .trimEnd() + (i === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : ''),
    )
    .join('\n');
}

export const loads = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

/**
 * What the web app's leaderboard page asks for, word for word (apps/web/src/lib/leaderboard.ts:
 * LEADERBOARD with METRIC_COMPARISON_FIELDS, and CATALOGUE), with the variables it sends
 * (LEADERBOARD_VARIABLES): rows with the primary metric's paired tests against the baseline and the leader.
 */
export const LEADERBOARD = `
  query Leaderboard($benchmark: String!, $model: String, $detector: String, $sort: LeaderboardSort, $withBaseline: Boolean!) {
    leaderboard(benchmark: $benchmark, model: $model, detector: $detector, sort: $sort) {
      rank ranked promptsScored imagesScored method configHash isBaseline detector threshold
      model { name }
      run { id config seed imagesPerPrompt limit finishedAt promptSet { name } team { name } }
      metrics { key value low high }
      versusBaseline @include(if: $withBaseline) { baseline { id } deltas { key value } primary { key a b difference low high test p beyondNoise } beyondNoise }
      versusLeader @include(if: $withBaseline) { leader { id } primary { key a b difference low high test p beyondNoise } tiedWithinNoise }
    }
  }
`;

/** The page's variables for a benchmark: sorted by its primary metric (the page names it), with the paired tests. */
export const LEADERBOARD_VARIABLES = (benchmark: string, primaryMetric: string) => ({ benchmark, sort: { metric: primaryMetric }, withBaseline: true });

export const CATALOGUE = `
  query Catalogue {
    benchmarks { name defaultThreshold primaryMetric latestFinishedAt metrics { key label higherIsBetter description unit primary minImagesPerPrompt } }
    models { name }
    methods { name }
    leaderboardRules { minRankedImages }
  }
`;

/** A GraphQL request to the API at `apiUrl`, with a bearer token when given; an HTTP error or a GraphQL error throws. */
export async function post(apiUrl: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Record<string, any>> {
  const response = await fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, any>; errors?: { message: string }[] };
  if (response.status !== 200 || body.errors?.length || !body.data)
    throw new Error(`GraphQL request failed (HTTP ${response.status}): ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

/** The benchmark's primary metric, as the page learns it (CATALOGUE). */
export async function primaryMetricOf(apiUrl: string, benchmark: string): Promise<string> {
  const { benchmarks } = await post(apiUrl, CATALOGUE, {});
  const found = (benchmarks as { name: string; primaryMetric: string }[]).find((b) => b.name === benchmark);
  if (!found) throw new Error(`the API has no benchmark ${benchmark}`);
  return found.primaryMetric;
}

/** Stops what a bench started, whatever got started before a failure; a step that fails is logged and the rest still run. */
export async function closeBench(
  started: { api?: ApiServer; client?: pg.Client; redis?: RedisServer; postgres?: PostgresServer; scratch: string },
  log: (line: string) => void,
): Promise<void> {
  await started.api?.close().catch((err: Error) => log(`closing the API: ${err.message}`));
  await started.client?.end().catch(() => {});
  await started.redis?.stop().catch((err: Error) => log(`stopping Redis: ${err.message}`));
  await started.postgres?.stop().catch((err: Error) => log(`stopping PostgreSQL: ${err.message}`));
  rmSync(started.scratch, { recursive: true, force: true });
}
