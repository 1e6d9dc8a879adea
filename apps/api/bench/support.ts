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
  return rows.map((row, i) => row.map((cell, c) => (c === 0 || c === last ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd() + (i === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}

export const loads = (): string => loadavg().map((l) => l.toFixed(2)).join(' / ');

/** What the web app's leaderboard page asks for. */
export const LEADERBOARD = `query ($benchmark: String!, $model: String) {
  leaderboard(benchmark: $benchmark, model: $model) {
    rank method configHash isBaseline detector threshold
    model { name }
    run { id status finishedAt team { name } }
    metrics { key value low high }
  }
}`;

/** A GraphQL request to the API at `apiUrl`, with a bearer token when given; an HTTP error or a GraphQL error throws. */
export async function post(apiUrl: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Record<string, any>> {
  const response = await fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, any>; errors?: { message: string }[] };
  if (response.status !== 200 || body.errors?.length || !body.data) throw new Error(`GraphQL request failed (HTTP ${response.status}): ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

/** Stops what a bench started, whatever got started before a failure; a step that fails is logged and the rest still run. */
export async function closeBench(started: { api?: ApiServer; client?: pg.Client; redis?: RedisServer; postgres?: PostgresServer; scratch: string }, log: (line: string) => void): Promise<void> {
  await started.api?.close().catch((err: Error) => log(`closing the API: ${err.message}`));
  await started.client?.end().catch(() => {});
  await started.redis?.stop().catch((err: Error) => log(`stopping Redis: ${err.message}`));
  await started.postgres?.stop().catch((err: Error) => log(`stopping PostgreSQL: ${err.message}`));
  rmSync(started.scratch, { recursive: true, force: true });
}
