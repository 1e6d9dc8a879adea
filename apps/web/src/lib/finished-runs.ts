/** Recent finished runs, for the pickers of the compare page. */
import { graphql } from '../gql';
import type { RunChoiceFieldsFragment } from '../gql/graphql';
import { query } from './api';

export type RunChoice = RunChoiceFieldsFragment;

const FINISHED_RUNS = graphql(`
  query FinishedRuns {
    runs(first: 100, filter: { status: [FINISHED] }, sort: { field: CREATED_AT, direction: DESC }) {
      edges {
        node {
          ...RunChoiceFields
        }
      }
    }
  }
`);

export async function finishedRuns(): Promise<RunChoice[]> {
  const data = await query(FINISHED_RUNS);
  return data.runs.edges.map((e) => e.node);
}

export function describeRun(run: RunChoice): string {
  return `${run.id.slice(0, 8)} · ${run.method ?? 'uploaded'} · ${run.model?.name ?? 'image set'} · ${run.benchmark}/${run.promptSet.name} · ${run.detector}@${run.threshold} · seed ${run.seed}`;
}
