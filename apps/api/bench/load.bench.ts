/**
 * `npm run bench:load`: the whole platform under a burst of submissions while clients read the
 * leaderboard. Unlike bench:api (one piece at a time), every part runs at once on this machine: the
 * API (submissions, reads, the results ingester), the evaluate worker processes, PostgreSQL and Redis.
 * It is a test as well as a measurement: every run must end FINISHED with exactly its images scored,
 * else it exits non-zero.
 *
 * 1. A throwaway PostgreSQL and Redis (test/support), migrated and seeded; a team with a token; the
 *    API in-process with its rate limits on and their budgets raised to fit the burst (1,000
 *    submissions on one token is the point), and every run ranked (minRankedImages = PROMPTS), so
 *    that the board serves a paired test against its leader on every row.
 * 2. One uploaded image set: PROMPTS rendered Shapes scenes (one image each of the first scored
 *    prompts of visor-shapes eval) put into a local artifact directory as `infsplign upload` would,
 *    and registered with registerImageSet. WORKERS worker processes (`npm run worker -- --queues
 *    evaluate`) on that directory and the same Redis.
 * 3. The burst: RUNS EVALUATE_ONLY submitRun mutations of that set, SUBMIT_CONCURRENCY at a time, each
 *    with `force: true` (an identical FINISHED run would otherwise be reused, not run again). The
 *    submitters and the readers below run in client threads of their own (load-clients.ts), not in
 *    the API's event loop: parsing a 1,000-row leaderboard there would hold up every request. From
 *    the first submission until the last run is FINISHED, QUERY_CLIENTS clients read the leaderboard
 *    of visor-shapes as the web app's page asks for it (support.ts LEADERBOARD; every finished run
 *    joins it) and the first page of `runs`, one request after another.
 * 4. The check, in SQL: exactly RUNS runs, all FINISHED, none FAILED; each with exactly PROMPTS image
 *    rows and PROMPTS score rows (GROUP BY run); no failed job on the evaluate or results queue.
 *
 * On 2 shared cores the default burst first took about 30 minutes, nearly all of it in the evaluate
 * workers starting a fresh compute thread per job (about 1 s, to score 4 images in about 20 ms); they
 * now keep the thread (workers/src/jobs/run-in-thread.ts), and the API checks a token by its SHA-256
 * rather than with scrypt (auth/tokens.ts). The last table says where the time goes.
 *
 * Options: --runs N (1000), --query-clients N (4), --prompts N (4: images per run),
 * --submit-concurrency N (32), --workers N (2), --worker-concurrency N (1), --timeout-s N (3600).
 * Environment: BENCH_API_LOG (the API's log level, warn).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance as perfHooks } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LocalArtifactStore } from '@infsplign/workers/artifacts';
import { evaluateChunkJobSchema } from '@infsplign/workers/contracts';
import { loadPrompts, scoredPromptIds } from '@infsplign/workers/benchmarks';
import { encodePng, evaluateChunk, renderScene, runInThread, SHAPES_WORLD } from '@infsplign/workers/testing';
import pg from 'pg';
import { pino } from 'pino';
import { startPostgres, type PostgresServer } from '../../../test/support/postgres.ts';
import { startRedis, type RedisServer } from '../../../test/support/redis.ts';
import { startWorkerProcess, stopAllWorkers, type WorkerProcess } from '../../../test/support/worker-process.ts';
import { createToken, verifyToken } from '../src/auth/tokens.ts';
import { closePrisma, createPrisma } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { seed } from '../src/db/seed.ts';
import { DEFAULT_RATE_LIMITS, type RateLimits } from '../src/graphql/rate-limit.ts';
import { SUBMIT_STAGES, type SubmitStage } from '../src/metrics.ts';
import { createApiServer, type ApiServer } from '../src/server.ts';
import { typescriptThread } from '../src/typescript-thread.ts';
import type { ClientsMessage, ClientsTask, Submissions } from './load-clients.ts';
import { machineCpuSeconds, processCpuSeconds, threadCpuSeconds, treeCpuSeconds } from './cpu.ts';
import { closeBench, LEADERBOARD, LEADERBOARD_VARIABLES, loads, percentile, positive, post, primaryMetricOf, table } from './support.ts';

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    'query-clients': { type: 'string', default: '4' },
    prompts: { type: 'string', default: '4' },
    'submit-concurrency': { type: 'string', default: '32' },
    workers: { type: 'string', default: '2' },
    'worker-concurrency': { type: 'string', default: '1' },
    'timeout-s': { type: 'string', default: '3600' },
  },
});

const RUNS = positive(options.runs, '--runs');
const QUERY_CLIENTS = positive(options['query-clients'], '--query-clients');
const PROMPTS = positive(options.prompts, '--prompts');
const SUBMIT_CONCURRENCY = positive(options['submit-concurrency'], '--submit-concurrency');
const WORKERS = positive(options.workers, '--workers');
const WORKER_CONCURRENCY = positive(options['worker-concurrency'], '--worker-concurrency');
const TIMEOUT_MS = positive(options['timeout-s'], '--timeout-s') * 1000;

/** Budgets per minute that the burst (and its setup's two mutations) and the readers stay within. */
const BENCH_RATE_LIMITS: RateLimits = { ...DEFAULT_RATE_LIMITS, mutationsPerMinute: RUNS + 10, teamMutationsPerMinute: RUNS + 10, queryCostPerMinute: 1e12 };

const CLIENTS_MODULE = join(import.meta.dirname, 'load-clients.ts');

const BENCHMARK = 'visor-shapes';
const PROMPT_SET = 'eval';
const PROMPTS_FILE = resolve(import.meta.dirname, '../../../json_files/visor_shapes_eval.json');
const TEAM = 'bench-load';

const started = performance.now();
function log(line: string): void {
  process.stderr.write(`[bench:load ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 50 leaderboard reads one after another, the first 10 not counted (warm-up). */
async function idleReads(api: ApiServer, board: Record<string, unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    await post(api.url, LEADERBOARD, board);
    if (i >= 10) times.push(performance.now() - t0);
  }
  return times;
}

// ---------------------------------------------------------------------------------------------
// Setup

/** One image (`{id}_0.png`, a rendered Shapes scene) for each of the first PROMPTS scored prompts, uploaded and registered. */
async function uploadImageSet(api: ApiServer, artifactDir: string, token: string): Promise<{ id: string; imageCount: number }> {
  // Only scored prompts: a run leaves out the others ("and" prompts), and each run must score every image of the set.
  const scored = scoredPromptIds(BENCHMARK, loadPrompts(BENCHMARK, PROMPTS_FILE));
  const ids = [...scored].sort((a, b) => a - b).slice(0, PROMPTS);
  if (ids.length < PROMPTS) throw new Error(`${PROMPTS_FILE} has ${ids.length} scored prompts; --prompts asks for ${PROMPTS}`);
  // Whether a scene matches its prompt does not matter here: every image of a scored prompt gets a score row.
  const { createUpload } = await post(api.url, 'mutation { createUpload { prefix } }', {}, token);
  const store = new LocalArtifactStore(artifactDir);
  for (const [n, id] of ids.entries()) await store.put(`${createUpload.prefix}/${id}_0.png`, encodePng(renderScene(SHAPES_WORLD, n).image));
  const { registerImageSet } = await post(
    api.url,
    `mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id imageCount } }`,
    { prefix: createUpload.prefix },
    token,
  );
  if (registerImageSet.imageCount !== PROMPTS) throw new Error(`registerImageSet counted ${registerImageSet.imageCount} images, expected ${PROMPTS}`);
  return registerImageSet;
}

/** The worker processes, once each has started its BullMQ workers; their 'job done' lines say how long each job took. */
async function startWorkers(redisUrl: string, artifactDir: string): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: WORKERS }, () => startWorkerProcess({ redisUrl, artifactDir, queues: 'evaluate', concurrency: WORKER_CONCURRENCY }));
  await Promise.all(workers.map((w) => w.waitForLog('worker ready', {}, 60_000)));
  return workers;
}

// ---------------------------------------------------------------------------------------------
// The burst

/** A client thread (load-clients.ts) doing `task`: its result, and a way to tell readers to stop. */
function clientThread<K extends 'submissions' | 'reads'>(
  task: ClientsTask,
  result: K,
): { done: Promise<Extract<ClientsMessage, Record<K, unknown>>[K]>; stop(): void } {
  const thread = typescriptThread(CLIENTS_MODULE, { workerData: task });
  const done = new Promise<Extract<ClientsMessage, Record<K, unknown>>[K]>((resolve, reject) => {
    thread.on('message', (message: ClientsMessage) => {
      if ('accepted' in message) log(`submitted ${message.accepted} / ${RUNS}`);
      else if (result in message) {
        resolve((message as Extract<ClientsMessage, Record<K, unknown>>)[result]);
        void thread.terminate();
      }
    });
    thread.on('error', reject);
    thread.on('exit', (code) => reject(new Error(`the ${task.role} client thread exited (code ${code}) without its result`)));
  });
  return { done, stop: () => thread.postMessage('stop') };
}

interface Progress {
  finished: number;
  failed: number;
  cancelled: number;
  imagesEvaluated: number;
  lastFinishedEpochMs: number | null;
}

async function progressOf(client: pg.Client, ids: readonly string[]): Promise<Progress> {
  const { rows } = await client.query(
    `SELECT count(*) FILTER (WHERE status = 'FINISHED')::int AS finished, count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
            count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled, coalesce(sum(images_evaluated), 0)::int AS "imagesEvaluated",
            (extract(epoch FROM max(finished_at)) * 1000)::float8 AS "lastFinishedEpochMs"
     FROM runs WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return rows[0];
}

/** Polls until every submitted run is FINISHED, logging the queues every 5 s; a FAILED or CANCELLED run, or the time limit, throws. */
async function waitForFinish(api: ApiServer, client: pg.Client, submissions: Submissions, t0: number): Promise<Progress> {
  let lastLogged = 0;
  for (;;) {
    const progress = await progressOf(client, submissions.ids);
    if (progress.failed || progress.cancelled) {
      const { rows } = await client.query(
        `SELECT id, status, error_reason FROM runs WHERE id = ANY($1::uuid[]) AND status IN ('FAILED', 'CANCELLED') LIMIT 3`,
        [submissions.ids],
      );
      throw new Error(`${progress.failed} runs FAILED and ${progress.cancelled} CANCELLED, e.g. ${JSON.stringify(rows)}`);
    }
    if (progress.finished === submissions.ids.length) return progress;
    const elapsed = performance.now() - t0;
    if (elapsed - lastLogged > 5000) {
      lastLogged = elapsed;
      const [evaluate, results] = await Promise.all([
        api.services.queues.evaluate.getJobCounts('waiting', 'active', 'delayed', 'failed'),
        api.services.queues.results.getJobCounts('waiting', 'active', 'delayed', 'failed'),
      ]);
      log(
        `${submissions.ids.length} accepted, ${progress.finished} finished, ${progress.imagesEvaluated} images scored; evaluate ${JSON.stringify(evaluate)}; results ${JSON.stringify(results)}; load ${loads()}`,
      );
    }
    if (elapsed > TIMEOUT_MS)
      throw new Error(`not every run FINISHED within ${TIMEOUT_MS / 1000} s: ${progress.finished} of ${submissions.ids.length} (${RUNS} submitted)`);
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// The check and where the time went

interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

/** What the database holds for the bench's runs, against what was submitted. */
async function integrity(client: pg.Client, submissions: Submissions): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (what: string, ok: boolean, detail: string) => checks.push({ what, ok, detail });
  add(
    'every submission accepted',
    submissions.ids.length === RUNS && submissions.errors.length === 0,
    `${submissions.ids.length} of ${RUNS} accepted${submissions.errors.length ? `; ${submissions.errors.length} refused, e.g. ${submissions.errors[0].slice(0, 300)}` : ''}`,
  );
  add('distinct run ids', new Set(submissions.ids).size === submissions.ids.length, `${new Set(submissions.ids).size} distinct`);
  // The database started empty of runs: whatever is in it, the burst made.
  const { rows: byStatus } = await client.query(`SELECT status::text AS status, count(*)::int AS n FROM runs GROUP BY status ORDER BY status`);
  const total = byStatus.reduce((n, r) => n + r.n, 0);
  const finished = byStatus.find((r) => r.status === 'FINISHED')?.n ?? 0;
  const statuses = byStatus.map((r) => `${r.n} ${r.status}`).join(', ');
  add(`exactly ${RUNS} runs in the database`, total === RUNS, `${total} runs (${statuses})`);
  add('every run FINISHED, none FAILED', finished === RUNS && finished === total, statuses);
  // One row per run: its image and score rows, distinct images, and the run's own counters.
  const { rows: wrong } = await client.query(
    `SELECT r.id, r.status::text, r.images_total, r.images_evaluated, coalesce(i.images, 0) AS images, coalesce(i.distinct_images, 0) AS distinct_images, coalesce(s.scores, 0) AS scores
     FROM runs r
     LEFT JOIN (SELECT run_id, count(*)::int AS images, count(DISTINCT (prompt_id, image_index))::int AS distinct_images FROM images GROUP BY run_id) i ON i.run_id = r.id
     LEFT JOIN (SELECT run_id, count(*)::int AS scores FROM image_scores GROUP BY run_id) s ON s.run_id = r.id
     WHERE coalesce(i.images, 0) <> $1 OR coalesce(i.distinct_images, 0) <> $1 OR coalesce(s.scores, 0) <> $1 OR r.images_total <> $1 OR r.images_evaluated <> $1`,
    [PROMPTS],
  );
  add(
    `each run: ${PROMPTS} images, ${PROMPTS} score rows`,
    wrong.length === 0,
    wrong.length ? `${wrong.length} runs differ, e.g. ${JSON.stringify(wrong.slice(0, 3))}` : `${RUNS} runs x ${PROMPTS} = ${RUNS * PROMPTS} score rows`,
  );
  const { rows: totals } = await client.query(
    `SELECT (SELECT count(*)::int FROM image_scores) AS scores, (SELECT count(*)::int FROM images) AS images, (SELECT count(DISTINCT run_id)::int FROM run_aggregates) AS aggregated`,
  );
  add(
    'no stray rows',
    totals[0].scores === RUNS * PROMPTS && totals[0].images === RUNS * PROMPTS,
    `${totals[0].images} images, ${totals[0].scores} score rows in all`,
  );
  add('aggregates for every run', totals[0].aggregated === RUNS, `${totals[0].aggregated} runs with aggregates`);
  return checks;
}

interface Stages {
  evaluateWait: number[];
  evaluateRun: number[];
  resultWait: number[];
  resultRun: number[];
  evaluateFailed: number;
  resultsFailed: number;
  retried: number;
}

/** Per job, from BullMQ's own timestamps (completed jobs are kept): waiting on the queue, then running. */
async function stages(api: ApiServer): Promise<Stages> {
  const { evaluate, results } = api.services.queues;
  const [evaluateJobs, resultJobs, evaluateFailed, resultsFailed] = await Promise.all([
    evaluate.getJobs(['completed'], 0, -1),
    results.getJobs(['completed'], 0, -1),
    evaluate.getJobCountByTypes('failed'),
    results.getJobCountByTypes('failed'),
  ]);
  const waits = (jobs: typeof evaluateJobs) => jobs.map((j) => (j.processedOn ?? 0) - j.timestamp).sort((a, b) => a - b);
  const runs = (jobs: typeof evaluateJobs) => jobs.map((j) => (j.finishedOn ?? 0) - (j.processedOn ?? 0)).sort((a, b) => a - b);
  return {
    evaluateWait: waits(evaluateJobs),
    evaluateRun: runs(evaluateJobs),
    resultWait: waits(resultJobs),
    resultRun: runs(resultJobs),
    evaluateFailed,
    resultsFailed,
    retried: [...evaluateJobs, ...resultJobs].filter((j) => j.attemptsMade > 1).length,
  };
}

/** Where submitRun's time went, from the API's own stage histogram (infsplign_submit_stage_seconds): per stage its count and total seconds. */
async function submitStages(api: ApiServer): Promise<{ stage: SubmitStage; count: number; seconds: number }[]> {
  const { values } = await api.services.metrics.submitStages.get();
  const of = (suffix: string, stage: string) =>
    values.find((v) => v.metricName === `infsplign_submit_stage_seconds_${suffix}` && v.labels.stage === stage)?.value ?? 0;
  return SUBMIT_STAGES.map((stage) => ({ stage, count: of('count', stage), seconds: of('sum', stage) }));
}

/**
 * One of the burst's evaluate jobs again, after the burst: its scoring in this process (warm), and
 * the same job through runInThread as the worker runs it (a compute thread, kept between jobs). The
 * difference is what each job pays besides scoring.
 */
async function jobAnatomy(api: ApiServer, artifactDir: string): Promise<{ inProcess: number[]; inThread: number[] } | null> {
  const [job] = await api.services.queues.evaluate.getJobs(['completed'], 0, 0);
  if (!job) return null;
  const parsed = evaluateChunkJobSchema.parse(job.data);
  const store = new LocalArtifactStore(artifactDir);
  const timeIt = async (times: number, task: () => Promise<unknown>) => {
    const result: number[] = [];
    for (let i = 0; i < times; i++) {
      const t0 = performance.now();
      await task();
      result.push(performance.now() - t0);
    }
    return result.sort((a, b) => a - b);
  };
  await evaluateChunk(parsed, store);
  const inProcess = await timeIt(5, () => evaluateChunk(parsed, store));
  const inThread = await timeIt(5, () =>
    runInThread(
      { store: { kind: 'local', dir: artifactDir }, stage: 'evaluate', job: parsed },
      { timeoutMs: 120_000, signal: new AbortController().signal, onProgress: () => {} },
    ),
  );
  return { inProcess, inThread };
}

/** CPU seconds so far of the machine and of each part of the platform (Linux /proc; null elsewhere). */
interface CpuSample {
  machine: number;
  apiMain: number;
  apiProcess: number;
  workers: number;
  postgres: number;
  redis: number;
}

function sampleCpu(workers: readonly WorkerProcess[], postgres: PostgresServer, redis: RedisServer): CpuSample | null {
  const machine = machineCpuSeconds();
  const apiMain = threadCpuSeconds(process.pid, process.pid);
  const apiProcess = processCpuSeconds(process.pid);
  if (machine === null || apiMain === null || apiProcess === null) return null;
  const pids = new Set(workers.map((w) => w.child.pid));
  return {
    machine,
    apiMain,
    apiProcess,
    workers: treeCpuSeconds((_, pid) => pids.has(pid)),
    postgres: treeCpuSeconds((cmd) => /(^|\/)postgres /.test(cmd) && cmd.includes(` -p ${postgres.port} `)),
    redis: treeCpuSeconds((cmd) => cmd.includes('redis-server') && cmd.includes(`:${redis.port}`)),
  };
}

/** Where the machine's CPU went between two samples: seconds, and the share of all cores over the wall time. */
function cpuRows(before: CpuSample, after: CpuSample, wallMs: number): string[][] {
  const d = (key: keyof CpuSample) => after[key] - before[key];
  const capacity = (cpus().length * wallMs) / 1000;
  const row = (what: string, seconds: number, notes: string) => [what, `${seconds.toFixed(1)} s`, `${((seconds / capacity) * 100).toFixed(0)}%`, notes];
  const ours = d('apiProcess') + d('workers') + d('postgres') + d('redis');
  return [
    ['CPU, first submission to last FINISHED', 'seconds', 'of all cores', 'notes'],
    row('API: main thread', d('apiMain'), 'GraphQL: submissions, the leaderboard, the runs list'),
    row('API process: other threads', d('apiProcess') - d('apiMain'), 'the ingest and planning threads, the client threads (submitters, readers), GC'),
    row('evaluate worker processes', d('workers'), `${WORKERS} processes with their compute threads`),
    row('PostgreSQL', d('postgres'), 'the server and its backends'),
    row('Redis', d('redis'), ''),
    row('everything else', d('machine') - ours, 'other processes on the machine'),
    row('the machine', d('machine'), `${cpus().length} cores x ${(wallMs / 1000).toFixed(1)} s = ${capacity.toFixed(0)} s`),
  ];
}

// ---------------------------------------------------------------------------------------------

const SUBMIT_STAGE_NOTES: Record<SubmitStage, string> = {
  token: 'the token checked (once per request)',
  catalogue: 'input parsed; benchmark, prompt set, image set (model, method, config upsert) read',
  plan: 'the run planned in the planning thread',
  reuse: "the team's identical run looked for (not with force)",
  write: 'the run and its first event written (with the advisory lock unless forced)',
  enqueue: 'its chunks put on the queues by the planning thread',
  reply: 'the answer made from the written run',
};

const ms = (v: number) => `${v.toFixed(1)} ms`;
const s = (v: number) => `${(v / 1000).toFixed(1)} s`;
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);

function latencyRow(what: string, values: readonly number[], notes: string): string[] {
  if (values.length === 0) return [what, '0', '-', '-', '-', '-', notes];
  const v = sorted(values);
  return [what, String(v.length), ms(percentile(v, 50)), ms(percentile(v, 95)), ms(percentile(v, 99)), ms(v.at(-1)!), notes];
}

async function main(): Promise<boolean> {
  const scratch = mkdtempSync(join(tmpdir(), 'infsplign-bench-load-'));
  const artifactDir = join(scratch, 'artifacts');
  let postgres: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  let api: ApiServer | undefined;
  let client: pg.Client | undefined;
  let readers: ReturnType<typeof clientThread<'reads'>> | undefined;
  try {
    log(`${cpus().length} CPUs, load average ${loads()}`);
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    const databaseUrl = await postgres.createDatabase('bench');
    await migrate(databaseUrl);
    const prisma = createPrisma(databaseUrl);
    const registryFile = join(scratch, 'registry.json');
    writeFileSync(registryFile, '{}');
    let token: string;
    try {
      await seed(prisma, { registryFile });
      const team = await prisma.team.create({ data: { name: TEAM } });
      token = (await createToken(prisma, team.id, 'bench')).token;
    } finally {
      await closePrisma(prisma);
    }
    client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();

    api = await createApiServer({
      databaseUrl,
      redisUrl: redis.url,
      artifactDir,
      port: 0,
      logger: pino({ level: process.env.BENCH_API_LOG ?? 'warn' }),
      sweepIntervalMs: 0,
      reconcileIntervalMs: 0,
      // The rate limits stay on (every request pays their Redis charges, as in production), with
      // budgets raised to fit the bench: one token submits the whole burst within a minute or two,
      // and the readers are one address (the defaults, 60 mutations a minute per token and 120 per
      // team, would refuse most of it).
      rateLimits: BENCH_RATE_LIMITS,
      // Every run of the burst is ranked, so that each row's paired test against its table's leader
      // (versusLeader) is computed and served, as for full-size runs.
      leaderboard: { minRankedImages: PROMPTS },
    });
    await api.reconcile();
    const imageSet = await uploadImageSet(api, artifactDir, token);
    const workers = await startWorkers(redis.url, artifactDir);
    log(
      `setup done: API ${api.url}, image set ${imageSet.id} (${imageSet.imageCount} images), ${WORKERS} worker processes (concurrency ${WORKER_CONCURRENCY}); load ${loads()}`,
    );

    // Before the burst, for comparison: the same reads with nothing else going on.
    const board = LEADERBOARD_VARIABLES(BENCHMARK, await primaryMetricOf(api.url, BENCHMARK));
    const idle = await idleReads(api, board);

    // A token check is a row read and a SHA-256: what it costs, idle.
    const tokenChecks: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      if (!('team' in (await verifyToken(api.services.prisma, token)))) throw new Error('the bench token does not verify');
      if (i > 0) tokenChecks.push(performance.now() - t);
    }

    const t0 = performance.now();
    const t0Epoch = Date.now();
    const cpuBefore = sampleCpu(workers, postgres, redis);
    const loopBefore = perfHooks.eventLoopUtilization();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    readers = clientThread({ role: 'read', apiUrl: api.url, clients: QUERY_CLIENTS, board, benchmark: BENCHMARK }, 'reads');
    const input = { kind: 'EVALUATE_ONLY', benchmark: BENCHMARK, promptSet: PROMPT_SET, imageSet: imageSet.id, detector: 'shapes', force: true };
    const submissions = await clientThread({ role: 'submit', apiUrl: api.url, token, input, runs: RUNS, concurrency: SUBMIT_CONCURRENCY }, 'submissions').done;
    log(`${submissions.ids.length} runs accepted in ${s(submissions.ms)} (${submissions.errors.length} refused)`);
    const progress = submissions.ids.length ? await waitForFinish(api, client, submissions, t0) : null;
    const finishedAt = performance.now();
    const cpuAfter = sampleCpu(workers, postgres, redis);
    const loopBusy = perfHooks.eventLoopUtilization(loopBefore).utilization;
    loopDelay.disable();
    readers.stop();
    const reads = await readers.done;
    const loadAfter = loads();
    // From the first submission to the last run's finished_at (written by the ingester, on this machine's clock).
    const completionMs = progress?.lastFinishedEpochMs ? progress.lastFinishedEpochMs - t0Epoch : finishedAt - t0;
    log(`all ${progress?.finished ?? 0} runs FINISHED ${s(completionMs)} after the first submission`);

    const checks = await integrity(client, submissions);
    const stageTimes = await stages(api);
    checks.push({
      what: 'no failed job',
      ok: stageTimes.evaluateFailed === 0 && stageTimes.resultsFailed === 0,
      detail: `evaluate ${stageTimes.evaluateFailed} failed, results ${stageTimes.resultsFailed} failed; ${stageTimes.retried} jobs needed more than one attempt`,
    });
    checks.push({
      what: 'every read answered',
      ok: reads.errors.length === 0,
      detail: reads.errors.length
        ? `${reads.errors.length} failed, e.g. ${reads.errors[0].slice(0, 300)}`
        : `${reads.leaderboard.length + reads.runs.length} reads`,
    });
    const submitTimes = await submitStages(api);
    const jobsDone = workers.flatMap((w) => w.logs.filter((l) => l.msg === 'job done'));
    await stopAllWorkers();
    // The whole board again, nothing else going on: what one read of all of it costs.
    const idleAfter = await idleReads(api, board);
    log('timing one job in-process and in a compute thread');
    const anatomy = await jobAnatomy(api, artifactDir);

    const accepted = submissions.ids.length;
    const submitSeconds = submissions.ms / 1000;
    const images = accepted * PROMPTS;
    const evaluateBusy = sum(stageTimes.evaluateRun);
    const slots = WORKERS * WORKER_CONCURRENCY;

    console.log(`\nbench:load  ${new Date().toISOString()}  ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
    console.log(
      `${RUNS} EVALUATE_ONLY runs (force: true) of one uploaded set of ${PROMPTS} visor-shapes images, ${SUBMIT_CONCURRENCY} submissions in flight; ` +
        `${WORKERS} worker processes (--queues evaluate, concurrency ${WORKER_CONCURRENCY}); ${QUERY_CLIENTS} read clients; ` +
        `API in-process, rate limits on with budgets raised (${BENCH_RATE_LIMITS.mutationsPerMinute} mutations a minute per token and team), every run ranked (minRankedImages ${PROMPTS}); PostgreSQL and Redis on 127.0.0.1\n`,
    );
    console.log(
      table([
        ['throughput', 'value', 'notes'],
        ['submission (runs accepted/s)', `${(accepted / submitSeconds).toFixed(1)}/s`, `${accepted} accepted in ${submitSeconds.toFixed(1)} s`],
        ['completion (runs/s)', `${(accepted / (completionMs / 1000)).toFixed(2)}/s`, `first submission to last FINISHED: ${s(completionMs)}`],
        ['completion (images/s)', `${(images / (completionMs / 1000)).toFixed(1)}/s`, `${images} images scored`],
      ]),
    );
    console.log('');
    console.log(
      table([
        ['latency', 'count', 'p50', 'p95', 'p99', 'max', 'notes'],
        latencyRow('leaderboard, idle', idle, 'before the burst, one client'),
        latencyRow('leaderboard, idle after', idleAfter, `after the burst, one client; ${reads.leaderboardRows} rows`),
        latencyRow('leaderboard, during the burst', reads.leaderboard, `first submission to last FINISHED; ${reads.leaderboardRows} rows at the end`),
        latencyRow('runs(first: 20), during the burst', reads.runs, 'every 4th read'),
        latencyRow('submitRun', submissions.latencies, `${SUBMIT_CONCURRENCY} in flight`),
        latencyRow('token check, idle', tokenChecks, 'verifyToken in-process before the burst, after its first check'),
      ]),
    );
    console.log('');
    const stageRow = (what: string, values: readonly number[], notes: string) => {
      const v = values.length ? values : [0];
      return [what, String(values.length), ms(percentile(v, 50)), ms(percentile(v, 95)), ms(v.at(-1)!), notes];
    };
    console.log(
      table([
        ['where the time went', 'jobs', 'p50', 'p95', 'max', 'notes'],
        stageRow('evaluate job: waiting', stageTimes.evaluateWait, 'added by submitRun to taken by a worker'),
        stageRow(
          'evaluate job: running',
          stageTimes.evaluateRun,
          `${s(evaluateBusy)} in all over ${slots} slots = ${((evaluateBusy / slots / completionMs) * 100).toFixed(0)}% of the completion time busy`,
        ),
        stageRow('result message: waiting', stageTimes.resultWait, 'sent by a worker to taken by the ingester'),
        stageRow('result message: ingesting', stageTimes.resultRun, `${s(sum(stageTimes.resultRun))} in all (the ingester's concurrency overlaps them)`),
      ]),
    );
    const submitted = submissions.latencies.length;
    const stagesTotal = sum(submitTimes.map((t) => t.seconds)) * 1000;
    console.log('');
    console.log(
      table([
        ['submitRun: where the time went', 'calls', 'mean', 'share', 'notes'],
        ...submitTimes.map(({ stage, count, seconds }) => [
          stage,
          String(count),
          ms(count ? (seconds * 1000) / count : 0),
          `${((seconds * 1000 * 100) / (sum(submissions.latencies) || 1)).toFixed(0)}%`,
          SUBMIT_STAGE_NOTES[stage],
        ]),
        [
          'outside the resolver',
          String(submitted),
          ms(submitted ? (sum(submissions.latencies) - stagesTotal) / submitted : 0),
          `${(((sum(submissions.latencies) - stagesTotal) * 100) / (sum(submissions.latencies) || 1)).toFixed(0)}%`,
          'HTTP, parsing, validation, limits and rate limits, the response',
        ],
      ]),
    );
    console.log('');
    const delayMs = (p: number) => ms(loopDelay.percentile(p) / 1e6);
    console.log(
      `API event loop (the bench's main thread), first submission to last FINISHED: ${(loopBusy * 100).toFixed(0)}% busy; delay p50 ${delayMs(50)}, p99 ${delayMs(99)}, max ${ms(loopDelay.max / 1e6)}`,
    );
    if (cpuBefore && cpuAfter) console.log(table(cpuRows(cpuBefore, cpuAfter, finishedAt - t0)));
    const compute = sorted(jobsDone.map((l) => Number(l.ms)));
    if (compute.length)
      console.log(
        `worker logs: ${compute.length} 'job done', p50 ${ms(percentile(compute, 50))} (the compute thread: start, scoring ${PROMPTS} images, result sent)`,
      );
    if (anatomy) {
      console.log(
        `one job after the burst (workers stopped), 5 times each: scoring in-process p50 ${ms(percentile(anatomy.inProcess, 50))}; ` +
          `through runInThread, as the worker runs it, p50 ${ms(percentile(anatomy.inThread, 50))}: ${ms(percentile(anatomy.inThread, 50) - percentile(anatomy.inProcess, 50))} a job is the thread round trip`,
      );
    }
    console.log(`load average (1 / 5 / 15 min) at the end of the burst: ${loadAfter}; wall time so far ${s(performance.now() - started)}\n`);
    console.log(table([['check', 'result', 'detail'], ...checks.map((c) => [c.what, c.ok ? 'ok' : 'FAILED', c.detail])]));
    const ok = checks.every((c) => c.ok);
    console.log(`\nintegrity: ${ok ? 'ok' : 'FAILED'}`);
    return ok;
  } finally {
    readers?.stop();
    await readers?.done.catch(() => {});
    await stopAllWorkers();
    await closeBench({ api, client, redis, postgres, scratch }, log);
  }
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err: Error) => {
    console.error(`bench:load failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
