/** Recent finished runs, for the pickers of the compare page. */
import { query } from './api';

export interface RunChoice {
  id: string;
  method: string | null;
  benchmark: string;
  detector: string;
  threshold: number;
  seed: number;
  model: { name: string } | null;
  promptSet: { name: string };
}

const FINISHED_RUNS = /* GraphQL */ `
  query FinishedRuns {
    runs(first: 100, filter: { status: [FINISHED] }, sort: { field: CREATED_AT, direction: DESC }) {
      edges { node { id method benchmark detector threshold seed model { name } promptSet { name } } }
    }
  }
`;

export async function finishedRuns(): Promise<RunChoice[]> {
  const data = await query<{ runs: { edges: { node: RunChoice }[] } }>(FINISHED_RUNS);
  return data.runs.edges.map((e) => e.node);
}

export function describeRun(run: RunChoice): string {
  return `${run.id.slice(0, 8)} · ${run.method ?? 'uploaded'} · ${run.model?.name ?? 'image set'} · ${run.benchmark}/${run.promptSet.name} · ${run.detector}@${run.threshold} · seed ${run.seed}`;
}
