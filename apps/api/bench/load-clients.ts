/**
 * bench:load's clients, each kind in a thread of its own (load.bench.ts starts one for the
 * submitters and one for the readers), as real clients run in processes of their own: the time a
 * client spends on an answer (a leaderboard of 1,000 rows is a megabyte of JSON to parse) is not
 * spent in the event loop of the API, which the bench runs in its main thread, nor in the other
 * kind of client's. Latencies are measured here, from sending a request to having its answer parsed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LEADERBOARD, post } from './support.ts';

export type ClientsTask =
  | { role: 'submit'; apiUrl: string; token: string; input: Record<string, unknown>; runs: number; concurrency: number }
  | { role: 'read'; apiUrl: string; clients: number; board: Record<string, unknown>; benchmark: string };

export interface Submissions {
  ids: string[];
  latencies: number[];
  errors: string[];
  /** from the first request to the last answer */
  ms: number;
}

export interface Reads {
  leaderboard: number[];
  runs: number[];
  errors: string[];
  leaderboardRows: number;
}

/** What a client thread posts: progress (runs accepted so far), then its result. */
export type ClientsMessage = { accepted: number } | { submissions: Submissions } | { reads: Reads };

const SUBMIT = `mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id status } } }`;
const RUNS_PAGE = `query ($benchmark: String!) { runs(first: 20, filter: { benchmark: $benchmark }) { totalCount edges { node { id status progress { imagesEvaluated totalImages } } } } }`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `runs` submitRun mutations (`force: true`, so none is reused), `concurrency` in flight at any time. */
async function submit({ apiUrl, token, input, runs, concurrency }: Extract<ClientsTask, { role: 'submit' }>): Promise<Submissions> {
  const result: Submissions = { ids: [], latencies: [], errors: [], ms: 0 };
  const start = performance.now();
  let next = 0;
  const submitter = async () => {
    while (next < runs) {
      next++;
      const t0 = performance.now();
      try {
        const { submitRun } = await post(apiUrl, SUBMIT, { input }, token);
        if (submitRun.reused) throw new Error(`run ${submitRun.run.id} was reused despite force: true`);
        result.ids.push(submitRun.run.id);
        result.latencies.push(performance.now() - t0);
      } catch (err) {
        result.errors.push((err as Error).message);
      }
      if (result.ids.length % 100 === 0 && result.ids.length > 0) parentPort!.postMessage({ accepted: result.ids.length } satisfies ClientsMessage);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, runs) }, submitter));
  result.ms = performance.now() - start;
  return result;
}

/** `clients` clients, each reading one request after another until told to stop: three leaderboards, then the runs page. */
async function read({ apiUrl, clients, board, benchmark }: Extract<ClientsTask, { role: 'read' }>): Promise<Reads> {
  const reads: Reads = { leaderboard: [], runs: [], errors: [], leaderboardRows: 0 };
  let stop = false;
  parentPort!.once('message', () => (stop = true));
  const reader = async (client: number) => {
    for (let i = client; !stop; i++) {
      const leaderboard = i % 4 !== 3;
      const t0 = performance.now();
      try {
        const data = await post(apiUrl, leaderboard ? LEADERBOARD : RUNS_PAGE, leaderboard ? board : { benchmark });
        (leaderboard ? reads.leaderboard : reads.runs).push(performance.now() - t0);
        if (leaderboard) reads.leaderboardRows = data.leaderboard.length;
      } catch (err) {
        reads.errors.push((err as Error).message);
        // A failing API must not be hammered in a tight loop.
        await sleep(100);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => reader(c)));
  return reads;
}

const task = workerData as ClientsTask;
if (task.role === 'submit') parentPort!.postMessage({ submissions: await submit(task) } satisfies ClientsMessage);
else parentPort!.postMessage({ reads: await read(task) } satisfies ClientsMessage);
