/**
 * GET /compare/export?a=RUN&b=RUN&format=csv|json: every pair of a comparison as a file. Image pairs
 * (prompt, image index, each run's image id, verdict and score) when the runs pair image by image;
 * otherwise one line per shared prompt with each run's images, correct images and mean score. JSON
 * adds the pairing, the notes and every metric with its paired test.
 */
import { query } from '@/lib/api';
import { COMPARE_EXPORT, exportedPairs, PAIRING, type ExportedPair, type ExportPage } from '@/lib/compare';
import { download, recordsCsv } from '@/lib/csv';
import { ApiError, isMissing } from '@/lib/graphql';

export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const [a, b, format] = [url.searchParams.get('a'), url.searchParams.get('b'), url.searchParams.get('format') ?? 'csv'];
  if (!a || !b) return Response.json({ error: 'give the two runs as ?a=RUN&b=RUN' }, { status: 400 });
  if (format !== 'csv' && format !== 'json') return Response.json({ error: `format must be csv or json, got "${format}"` }, { status: 400 });
  try {
    const { compareRuns } = await query(PAIRING, { a, b });
    const imagePaired = compareRuns.pairing === 'IMAGE';
    const pairs: ExportedPair[] = [];
    let after: string | null = null;
    let first: ExportPage['compareRuns'] | undefined;
    for (;;) {
      const page: ExportPage['compareRuns'] = (await query(COMPARE_EXPORT, { a, b, after, imagePaired })).compareRuns;
      first ??= page;
      pairs.push(...exportedPairs(page));
      const info = (page.images ?? page.prompts)!.pageInfo;
      if (!info.hasNextPage || !info.endCursor) break;
      after = info.endCursor;
    }
    const name = `compare-${a.slice(0, 8)}-${b.slice(0, 8)}`;
    if (format === 'csv') return download(recordsCsv(pairs), `${name}.csv`, 'text/csv');
    const { images: _images, prompts: _prompts, ...summary } = first!;
    return download(JSON.stringify({ ...summary, pairs }, null, 2), `${name}.json`, 'application/json');
  } catch (err) {
    if (err instanceof ApiError) return Response.json({ error: err.message }, { status: isMissing(err) ? 404 : err.code === 'API_UNREACHABLE' ? 502 : 400 });
    throw err;
  }
}
