/**
 * GET /runs/ID/export?format=csv|jsonl: every scored image of a run, one per line: the prompt (id,
 * text, relation), the image index and id, the verdict, score and reason, and the detected boxes
 * (label, score, [x0, y0, x1, y1] in pixels). CSV carries the boxes as a JSON array in one cell.
 */
import { graphql } from '@/gql';
import type { RunImagesExportQuery } from '@/gql/graphql';
import { query } from '@/lib/api';
import { download, recordsCsv } from '@/lib/csv';
import { ApiError, isMissing } from '@/lib/graphql';

const IMAGES = graphql(`
  query RunImagesExport($id: ID!, $after: String) {
    images(runId: $id, first: 100, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          imageIndex
          correct
          score
          reason
          prompt {
            externalId
            text
            relation
          }
          detections {
            label
            score
            box
          }
        }
      }
    }
  }
`);

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const format = new URL(request.url).searchParams.get('format') ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') return Response.json({ error: `format must be csv or jsonl, got "${format}"` }, { status: 400 });
  try {
    const records: Record<string, unknown>[] = [];
    let after: string | null = null;
    for (;;) {
      const { images }: RunImagesExportQuery = await query(IMAGES, { id, after });
      for (const { node } of images.edges) {
        records.push({
          prompt_id: node.prompt.externalId,
          prompt: node.prompt.text,
          relation: node.prompt.relation,
          image_index: node.imageIndex,
          image_id: node.id,
          verdict: node.correct === null ? 'not scored' : node.correct ? 'correct' : 'incorrect',
          score: node.score,
          reason: node.reason,
          boxes: node.detections,
        });
      }
      if (!images.pageInfo.hasNextPage || !images.pageInfo.endCursor) break;
      after = images.pageInfo.endCursor;
    }
    const name = `run-${id.slice(0, 8)}-images`;
    return format === 'csv'
      ? download(recordsCsv(records), `${name}.csv`, 'text/csv')
      : download(records.map((r) => JSON.stringify(r)).join('\n') + '\n', `${name}.jsonl`, 'application/x-ndjson');
  } catch (err) {
    if (err instanceof ApiError) return Response.json({ error: err.message }, { status: isMissing(err) ? 404 : err.code === 'API_UNREACHABLE' ? 502 : 400 });
    throw err;
  }
}
