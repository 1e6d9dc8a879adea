/** GET /leaderboard/export?format=csv|json and the leaderboard's own filters: the rows as a file. */
import { ApiError } from '@/lib/graphql';
import { filtersFrom, leaderboardCsv, loadLeaderboard } from '@/lib/leaderboard';

export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const params = Object.fromEntries(url.searchParams);
  const format = params.format ?? 'csv';
  if (format !== 'csv' && format !== 'json') return Response.json({ error: `format must be csv or json, got "${format}"` }, { status: 400 });
  try {
    const board = await loadLeaderboard(filtersFrom(params));
    const name = `leaderboard-${board.benchmark.name}`;
    if (format === 'json') {
      return new Response(JSON.stringify({ benchmark: board.benchmark, rankedBy: board.rankedBy, rows: board.rows }, null, 2), {
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-disposition': `attachment; filename="${name}.json"` },
      });
    }
    return new Response(leaderboardCsv(board), {
      headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}.csv"` },
    });
  } catch (err) {
    const status = err instanceof ApiError && err.code === 'API_UNREACHABLE' ? 502 : 400;
    return Response.json({ error: (err as Error).message }, { status });
  }
}
