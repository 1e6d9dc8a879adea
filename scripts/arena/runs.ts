/**
 * The arena's runs through the GraphQL API: submitted as any client would (an identical run the team
 * finished before is reused, so a second arena resumes), watched until every one is FINISHED (a line
 * per finished run, and a heartbeat while long ones work), then read: aggregates, cost, and the
 * paired comparisons of the API's compareRuns.
 */
import type { GraphQLClient } from '../lib/local-platform.ts';

export type Split = 'tune' | 'eval';

export interface RunRequest {
  method: string;
  split: Split;
  /** the method's parameters replacing its defaults for the bundled model ({} for the defaults) */
  params: Record<string, number>;
  imagesPerPrompt: number;
  /** prompts of the split, in id order; null for all */
  limit: number | null;
}

export interface Interval {
  value: number | null;
  low: number | null;
  high: number | null;
}

/** Per image, as the API's Run.cost gives it (null until the API serves it; see `costQuery`). */
export interface RunCost {
  secondsPerImage: number | null;
  unetEvaluationsPerImage: number | null;
  backwardPassesPerImage: number | null;
  device: string | null;
}

export interface RunOutcome {
  id: string;
  request: RunRequest;
  promptsScored: number;
  imagesScored: number;
  metrics: Record<string, Interval>;
  cost: RunCost | null;
}

export interface PairedDifference {
  difference: number | null;
  low: number | null;
  high: number | null;
  test: string;
  p: number | null;
  beyondNoise: boolean;
}

export const ARENA_SEED = 42;

export const describeRequest = (r: RunRequest) =>
  `${r.method}${Object.entries(r.params)
    .map(([k, v]) => ` ${k}=${v}`)
    .join('')} on ${r.split}`;

/** Submits a GENERATE_AND_EVALUATE run of the bundled model on VISOR-Shapes; its id. */
export async function submit(gql: GraphQLClient, request: RunRequest): Promise<{ id: string; reused: boolean }> {
  const input = {
    kind: 'GENERATE_AND_EVALUATE',
    benchmark: 'visor-shapes',
    promptSet: request.split,
    model: 'bundled',
    method: request.method,
    params: request.params,
    detector: 'shapes',
    seed: ARENA_SEED,
    imagesPerPrompt: request.imagesPerPrompt,
    limit: request.limit,
  };
  try {
    const { submitRun } = await gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id } } }', { input });
    return { id: submitRun.run.id, reused: submitRun.reused };
  } catch (err) {
    throw new Error(`submitting ${describeRequest(request)}: ${(err as Error).message}`, { cause: err });
  }
}

const STATUS = 'query ($id: ID!) { run(id: $id) { status error progress { totalImages imagesGenerated imagesEvaluated } } }';

const minutes = (ms: number) => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
};

/**
 * Waits until every run is FINISHED, printing a line as each finishes (with the time since `since`)
 * and, every `heartbeatMs`, the images done so far; a FAILED or CANCELLED run is an error naming it.
 */
export async function waitForRuns(
  gql: GraphQLClient,
  runs: ReadonlyArray<{ id: string; request: RunRequest }>,
  since: number,
  heartbeatMs = 60_000,
): Promise<void> {
  const pending = new Map(runs.map((r) => [r.id, r.request]));
  let lastBeat = performance.now();
  while (pending.size) {
    let generated = 0;
    let evaluated = 0;
    let total = 0;
    for (const [id, request] of [...pending]) {
      const { run } = await gql(STATUS, { id });
      if (!run) throw new Error(`run ${id} (${describeRequest(request)}) is gone from the API`);
      if (run.status === 'FAILED' || run.status === 'CANCELLED')
        throw new Error(`run ${id} (${describeRequest(request)}) ${run.status}: ${run.error ?? 'no reason given'}`);
      if (run.status === 'FINISHED') {
        pending.delete(id);
        console.log(
          `[${minutes(performance.now() - since)}] finished ${describeRequest(request)} (run ${id.slice(0, 8)}, ${run.progress.totalImages} images); ${pending.size} of ${runs.length} to go`,
        );
        continue;
      }
      generated += run.progress.imagesGenerated;
      evaluated += run.progress.imagesEvaluated;
      total += run.progress.totalImages;
    }
    if (pending.size && performance.now() - lastBeat >= heartbeatMs) {
      console.log(`[${minutes(performance.now() - since)}] ${pending.size} runs in flight: ${generated}/${total} images generated, ${evaluated} scored`);
      lastBeat = performance.now();
    }
    if (pending.size) await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * The cost selection, or null when the API's schema has no Run.cost yet (asked once by
 * introspection, which the API the arena starts answers): the table then says "n/a".
 */
export async function costQuery(gql: GraphQLClient): Promise<string | null> {
  const { __type } = await gql('{ __type(name: "Run") { fields { name } } }');
  const served = (__type?.fields ?? []).some((f: { name: string }) => f.name === 'cost');
  return served ? 'cost { secondsPerImage unetEvaluationsPerImage backwardPassesPerImage device }' : null;
}

/** A FINISHED run's figures. */
export async function readOutcome(gql: GraphQLClient, id: string, request: RunRequest, cost: string | null): Promise<RunOutcome> {
  const { run } = await gql(
    `query ($id: ID!) { run(id: $id) { status aggregates { promptsScored imagesScored metrics { key value low high } } ${cost ?? ''} } }`,
    { id },
  );
  if (!run?.aggregates) throw new Error(`run ${id} (${describeRequest(request)}) has no aggregates (status ${run?.status ?? 'gone'})`);
  const metrics: Record<string, Interval> = {};
  for (const m of run.aggregates.metrics as Array<Interval & { key: string }>) metrics[m.key] = { value: m.value, low: m.low, high: m.high };
  return { id, request, promptsScored: run.aggregates.promptsScored, imagesScored: run.aggregates.imagesScored, metrics, cost: run.cost ?? null };
}

/** The API's paired test of `metric` between two runs (differences b - a). */
export async function compare(gql: GraphQLClient, a: string, b: string, metric: string): Promise<PairedDifference> {
  const { compareRuns } = await gql('query ($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { metrics { key difference low high test p beyondNoise } } }', {
    a,
    b,
  });
  const found = (compareRuns.metrics as Array<PairedDifference & { key: string }>).find((m) => m.key === metric);
  if (!found) throw new Error(`compareRuns(${a}, ${b}) has no ${metric}`);
  return found;
}
