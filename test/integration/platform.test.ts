/**
 * The platform across processes, on a real PostgreSQL (migrated and seeded by `npm run db:migrate`
 * and `npm run db:seed`) and a real redis-server (append-only file on, as production Redis is
 * documented to run), with the worker as separate OS processes (`npm run worker`'s command line),
 * the CLI as processes (`npx infsplign upload|evaluate`), a token from `npm run token`, and the API
 * in this process (createApiServer, as `npm run api` starts it) on a free port.
 *
 * End to end: rendered Shapes scenes uploaded, registered and scored by an EVALUATE_ONLY run through
 * the GraphQL API, with the same figures as `infsplign evaluate`; rescored at another threshold. A
 * GENERATE_AND_EVALUATE run of the bundled model, with the figures and guidance traces of `infsplign experiment`;
 * another with official options of the method set, and one refused with the reference's defect.
 * Faults, each on a run of its own over one larger image set: a worker killed mid-job, redis-server
 * killed and restarted from its append-only file, Redis restarted empty, PostgreSQL stopped while
 * results come in. Each must end FINISHED, with one row per image and the CLI's figures.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { closePrisma, createPrisma, type PrismaClient } from '../../apps/api/src/db/client.ts';
import { createApiServer, type ApiServer } from '../../apps/api/src/server.ts';
import { LocalArtifactStore } from '../../workers/src/artifacts/store.ts';
import { evaluateJobId, resultJobId, type ImagesEvaluated } from '../../workers/src/contracts/jobs.ts';
import { MANIFEST_FILE, type Manifest } from '../../workers/src/diffusion/manifest.ts';
import { BENCHMARK_METRICS, metricDefined } from '../../workers/src/evaluation/metrics.ts';
import { writePng } from '../../workers/src/image/png.ts';
import { renderLayout, type LabelledBox } from '../../workers/src/shapes/render.ts';
import { SHAPES_WORLD } from '../../workers/src/shapes/world.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { startWorkerProcess, stopAllWorkers, type WorkerProcess } from '../support/worker-process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PROMPTS_FILE = join(ROOT, 'json_files/visor_shapes_eval.json');

interface VisorRecord {
  unique_id: number;
  obj_1_attributes: string[];
  obj_2_attributes: string[];
  rel_type: string;
  text: string;
}
const RECORDS = JSON.parse(readFileSync(PROMPTS_FILE, 'utf8')) as VisorRecord[];
const recordOf = (id: number) => RECORDS.find((r) => r.unique_id === id)!;

// ---------------------------------------------------------------------------------------------
// Scenes

type Variant = 'right' | 'wrong' | 'missing' | 'thin';

/** Where A and B go for each relation, so that "A <relation> B" holds. */
const PLACES: Record<string, [LabelledBox['box'], LabelledBox['box']]> = {
  'to the left of': [
    [2, 10, 12, 20],
    [20, 10, 30, 20],
  ],
  'to the right of': [
    [20, 10, 30, 20],
    [2, 10, 12, 20],
  ],
  above: [
    [10, 2, 20, 12],
    [10, 20, 20, 30],
  ],
  below: [
    [10, 20, 20, 30],
    [10, 2, 20, 12],
  ],
  and: [
    [2, 10, 12, 20],
    [20, 10, 30, 20],
  ],
};

/**
 * A scene for prompt `id`: `right` as the prompt says; `wrong` with the objects swapped (the relation
 * fails); `missing` without object B; `thin` as `right` but with A drawn 2 x 6 px, which the Shapes
 * detector finds with a score of about 0.3 (kept at threshold 0.1, dropped at 0.5).
 */
function scene(id: number, variant: Variant): LabelledBox[] {
  const record = recordOf(id);
  const [a, b] = [record.obj_1_attributes[0]!, record.obj_2_attributes[0]!];
  const [boxA, boxB] = PLACES[record.rel_type]!;
  if (variant === 'wrong')
    return [
      { label: a, box: boxB },
      { label: b, box: boxA },
    ];
  if (variant === 'missing') return [{ label: a, box: boxA }];
  if (variant === 'thin')
    return [
      { label: a, box: [boxA[0], boxA[1], boxA[0] + 2, boxA[1] + 6] },
      { label: b, box: boxB },
    ];
  return [
    { label: a, box: boxA },
    { label: b, box: boxB },
  ];
}

function renderTo(dir: string, scenes: Record<string, LabelledBox[]>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, layout] of Object.entries(scenes)) writePng(join(dir, name), renderLayout(SHAPES_WORLD, layout).image);
}

/**
 * The end-to-end set: prompts 0 "an apple to the left of a tree", 4 "an apple above a tree", 21 "a
 * lemon to the left of an apple", 26 "an apple below a lemon", and 8 "an apple and a tree" (VISOR
 * scores no "and" prompt: left out of the run, as `evaluate` leaves it unscored).
 */
const E2E_SCENES: Record<string, LabelledBox[]> = {
  '0_0.png': scene(0, 'right'),
  '0_1.png': scene(0, 'wrong'),
  '0_2.png': scene(0, 'thin'),
  '4_0.png': scene(4, 'right'),
  '4_1.png': scene(4, 'missing'),
  '21_0.png': scene(21, 'right'),
  '21_1.png': scene(21, 'wrong'),
  '26_0.png': scene(26, 'right'),
  '26_1.png': scene(26, 'wrong'),
  '8_0.png': scene(8, 'right'),
};

/**
 * The fault tests' set: the first 16 scored prompts, so two chunks of 8 (plan.ts). Chunk 0's prompts
 * have 2 images each, chunk 1's many: chunk 1 is the long job the faults interrupt, and it is still
 * running when chunk 0's results are in. Long enough (a few seconds) that it cannot finish while
 * Redis restarts: a kept compute thread starts it at once.
 */
const FAULT_PROMPTS = RECORDS.filter((r) => r.rel_type in PLACES && r.rel_type !== 'and')
  .slice(0, 16)
  .map((r) => r.unique_id);
const LONG_CHUNK_IMAGES_PER_PROMPT = 150;
const FAULT_SCENES: Record<string, LabelledBox[]> = Object.fromEntries(
  FAULT_PROMPTS.flatMap((id, n) =>
    Array.from({ length: n < 8 ? 2 : LONG_CHUNK_IMAGES_PER_PROMPT }, (_, k) => [
      `${id}_${k}.png`,
      scene(id, (['right', 'wrong', 'right', 'missing'] as const)[k % 4]),
    ]),
  ),
);
const FAULT_IMAGES = Object.keys(FAULT_SCENES).length;

// ---------------------------------------------------------------------------------------------
// Processes

interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runProcess(command: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ProcessResult> {
  return new Promise((done) => {
    execFile(command, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

async function mustRun(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await runProcess(command, args, env);
  assert.equal(result.code, 0, `${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-3000)}`);
  return result.stdout;
}

interface CliImage {
  prompt: number;
  image: number;
  correct: boolean;
  reason: string | null;
}
interface CliResult {
  threshold: number;
  scorer_version: string;
  prompts_scored: number;
  images_scored: number;
  aggregates: Record<string, any>;
  intervals: Record<string, any>;
  images: CliImage[];
}
interface CliDetections {
  prompt: number;
  image: number;
  detections: { label: string; score: number; box: number[] }[];
}

/** `npx infsplign evaluate` on a folder: what it printed, its RESULT.json and its detections. */
async function evaluateWithCli(imagesDir: string, threshold: number, outDir: string) {
  const out = join(outDir, `result-${threshold}.json`);
  const detectionsOut = join(outDir, `detections-${threshold}.jsonl`);
  const printed = await mustRun('npx', [
    '--no-install',
    'infsplign',
    'evaluate',
    '--benchmark',
    'visor-shapes',
    '--prompts',
    PROMPTS_FILE,
    '--images',
    imagesDir,
    '--detector',
    'shapes',
    '--threshold',
    String(threshold),
    '--out',
    out,
    '--detections-out',
    detectionsOut,
  ]);
  const result = JSON.parse(readFileSync(out, 'utf8')) as CliResult;
  const detections = readFileSync(detectionsOut, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as CliDetections);
  return { printed, result, detections };
}

// ---------------------------------------------------------------------------------------------
// The services

let scratch: string;
let postgres: PostgresServer;
let redis: RedisServer;
let databaseUrl: string;
let prisma: PrismaClient;
let api: ApiServer;
let token: string;
let artifactDir: string;
let faultSetId: string;
/** what `infsplign evaluate` says about the fault set */
let faultReference: Promise<Awaited<ReturnType<typeof evaluateWithCli>>>;

/** A worker process as `npm run worker -- --queues evaluate,generate` starts it, with short lock times so that a dead worker's job is taken over within seconds. */
function startWorker(): WorkerProcess {
  return startWorkerProcess({
    redisUrl: redis.url,
    artifactDir,
    queues: 'evaluate,generate',
    env: { WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', WORKER_SHUTDOWN_GRACE_MS: '0' },
  });
}

interface GraphQLResponse {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** A GraphQL request with the team's token; its errors fail the test. */
async function gql(query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResponse;
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data!;
}

async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const RUN = `query ($id: ID!) { run(id: $id) {
  id kind status error threshold imagesPerPrompt timeline { status reason }
  progress { prompts totalImages imagesGenerated imagesEvaluated fraction }
  aggregates { scorerVersion promptsScored imagesScored metrics { key value low high } byRelation { relation metrics { key value low high } } } } }`;

async function submitEvaluateOnly(imageSet: string, extra: Record<string, unknown> = {}): Promise<{ id: string; status: string }> {
  const input = { kind: 'EVALUATE_ONLY', benchmark: 'visor-shapes', promptSet: 'eval', imageSet, detector: 'shapes', ...extra };
  const data = await gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id status } } }', { input });
  assert.equal(data.submitRun.reused, false);
  return data.submitRun.run;
}

/** The run once it is FINISHED (a FAILED run fails the test with its reason). */
async function finished(id: string, timeoutMs = 60_000): Promise<any> {
  return eventually(
    async () => {
      const { run } = await gql(RUN, { id });
      if (run.status === 'FAILED' || run.status === 'CANCELLED') assert.fail(`run ${id} is ${run.status}: ${run.error}`);
      return run.status === 'FINISHED' ? run : undefined;
    },
    `run ${id} to finish`,
    timeoutMs,
    200,
  );
}

const VISOR_METRIC_SPECS = new Map(BENCHMARK_METRICS['visor-shapes'].metrics.map((m) => [m.key, m]));

/** The CLI's figure for a metric as the API reports it: null where the run's images per prompt leave it undefined (VISOR_2..4 at one image). */
function asReported<T>(run: any, key: string, value: T): T | null {
  return metricDefined(VISOR_METRIC_SPECS.get(key)?.minImagesPerPrompt, run.imagesPerPrompt) ? value : null;
}

/** The run's aggregates and intervals (overall and per relation) are the CLI's. */
function assertSameFigures(run: any, cli: CliResult): void {
  const { aggregates } = run;
  assert.equal(aggregates.scorerVersion, cli.scorer_version);
  assert.equal(aggregates.imagesScored, cli.images_scored);
  assert.equal(aggregates.promptsScored, cli.prompts_scored);
  const metricKeys = Object.keys(cli.aggregates).filter((k) => k !== 'by_relation');
  assert.deepEqual(
    aggregates.metrics.map((m: any) => m.key),
    metricKeys,
  );
  const expected = (key: string, value: unknown, interval: unknown[] | undefined) => [value, ...(interval ?? [null, null])].map((v) => asReported(run, key, v));
  for (const m of aggregates.metrics) assert.deepEqual([m.value, m.low, m.high], expected(m.key, cli.aggregates[m.key], cli.intervals[m.key]), m.key);
  assert.deepEqual(
    aggregates.byRelation.map((r: any) => r.relation),
    Object.keys(cli.aggregates.by_relation),
  );
  for (const split of aggregates.byRelation) {
    for (const m of split.metrics) {
      assert.deepEqual(
        [m.value, m.low, m.high],
        expected(m.key, cli.aggregates.by_relation[split.relation][m.key], cli.intervals.by_relation[split.relation][m.key]),
        `${split.relation} ${m.key}`,
      );
    }
  }
}

/** `evaluate`'s printed summary (`  OA 45.2 [41.1, 49.3]`) says what the run's aggregates say, for the metrics the run defines. */
function assertSamePrinted(run: any, printed: string): void {
  const figure = (v: number | null) => (v === null ? 'n/a' : String(Number(v.toFixed(4))));
  const defined = run.aggregates.metrics.filter((m: any) => asReported(run, m.key, true));
  const lines = defined.map((m: any) => `  ${m.key} ${figure(m.value)}${m.low === null ? '' : ` [${figure(m.low)}, ${figure(m.high)}]`}`);
  const printedLines = printed
    .split('\n')
    .filter((l) => /^ {2}\S+ /.test(l) && !l.startsWith('  note:') && defined.some((m: any) => l.startsWith(`  ${m.key} `)));
  assert.deepEqual(lines, printedLines);
}

/** The rows the ingester wrote for a run: images, their scores and their detections. */
async function rowCounts(runId: string) {
  const [images, scores, detections] = await Promise.all([
    prisma.image.count({ where: { runId } }),
    prisma.imageScore.count({ where: { runId } }),
    prisma.detection.count({ where: { image: { runId } } }),
  ]);
  return { images, scores, detections };
}

/**
 * A fault run ended as a clean run would: FINISHED through EVALUATING; one image row and one score
 * per image and each of the detector's boxes once (a chunk ingested twice would add rows); the CLI's figures.
 */
async function assertCleanFinish(runId: string, timeoutMs = 60_000): Promise<void> {
  const run = await finished(runId, timeoutMs);
  const reference = await faultReference;
  assert.deepEqual(
    run.timeline.map((e: any) => e.status),
    ['QUEUED', 'EVALUATING', 'FINISHED'],
  );
  assert.deepEqual(run.progress, { prompts: 16, totalImages: FAULT_IMAGES, imagesGenerated: FAULT_IMAGES, imagesEvaluated: FAULT_IMAGES, fraction: 1 });
  const detections = reference.detections.reduce((n, d) => n + d.detections.length, 0);
  assert.deepEqual(await rowCounts(runId), { images: FAULT_IMAGES, scores: FAULT_IMAGES, detections });
  assertSameFigures(run, reference.result);
}

describe('the platform across processes: GraphQL API, worker processes, CLI, PostgreSQL and Redis', () => {
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'infsplign-integration-'));
    artifactDir = join(scratch, 'artifacts');
    [postgres, redis] = await Promise.all([startPostgres(), startRedis({ appendonly: true })]);
    databaseUrl = await postgres.createDatabase('integration');
    const dbEnv = { DATABASE_URL: databaseUrl };
    await mustRun('npm', ['run', '--silent', 'db:migrate'], dbEnv);
    const [, printed] = await Promise.all([
      mustRun('npm', ['run', '--silent', 'db:seed'], dbEnv),
      mustRun('npm', ['run', '--silent', 'token', '--', '--team', 'integration'], dbEnv),
    ]);
    token = printed.trim().split('\n').at(-1)!.trim();
    assert.match(token, /^\S{20,}$/, `npm run token printed: ${printed}`);
    prisma = createPrisma(databaseUrl);
    api = await createApiServer({
      databaseUrl,
      redisUrl: redis.url,
      artifactDir,
      port: 0,
      logger: pino({ level: process.env.API_TEST_LOG ?? 'silent' }),
      // Reconciliation is the Redis test's to call; no timeout sweep.
      sweepIntervalMs: 0,
      reconcileIntervalMs: 0,
    });
  });

  // Each test starts from idle queues and services that are up, whatever the test before it left.
  afterEach(async () => {
    await stopAllWorkers();
    await redis.restart().catch(() => {}); // after a failed Redis test; throws when it is running
    // Jobs a killed worker left active (a finished run's redundant retry, say) would otherwise be
    // taken over by the next test's worker and compete with its run.
    await api.services.queues.evaluate.obliterate({ force: true });
  });

  after(async () => {
    await stopAllWorkers();
    await api?.close().catch(() => {});
    if (prisma) await closePrisma(prisma).catch(() => {});
    await redis?.stop();
    await postgres?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test("end to end: uploaded Shapes scenes are scored by an EVALUATE_ONLY run with the CLI's figures; the failing images with their reasons; rescored at another threshold", async () => {
    const worker = startWorker();
    const imagesDir = join(scratch, 'e2e-images');
    renderTo(imagesDir, E2E_SCENES);
    const cli = Promise.all([evaluateWithCli(imagesDir, 0.1, scratch), evaluateWithCli(imagesDir, 0.5, scratch)]);
    cli.catch(() => {}); // awaited below

    // The API hands out the team's prefix and the CLI registers the images there.
    const uploaded = (
      await mustRun('npx', ['--no-install', 'infsplign', 'upload', imagesDir, '--api', api.url], { ARTIFACT_DIR: artifactDir, INFSPLIGN_TOKEN: token })
    )
      .trim()
      .split('\n');
    assert.match(uploaded[0], /^uploads\/[0-9a-f]{32}$/);
    assert.equal(uploaded[1], `10 images uploaded to local:${artifactDir}`);
    const setId = /^image set (\S+) \(10 images\) registered for the token's team$/.exec(uploaded[2])?.[1];
    assert.ok(setId, uploaded.join('\n'));
    const set = await prisma.imageSet.findUniqueOrThrow({ where: { id: setId }, select: { id: true, imageCount: true, kind: true, artifactPrefix: true } });
    assert.deepEqual(set, { id: setId, imageCount: 10, kind: 'UPLOADED', artifactPrefix: uploaded[0] });

    const submitted = await submitEvaluateOnly(set.id);
    assert.equal(submitted.status, 'QUEUED');
    const run = await finished(submitted.id);
    assert.deepEqual(
      run.timeline.map((e: any) => e.status),
      ['QUEUED', 'EVALUATING', 'FINISHED'],
    );
    assert.deepEqual(run.progress, { prompts: 4, totalImages: 9, imagesGenerated: 9, imagesEvaluated: 9, fraction: 1 });
    const done = await worker.waitForLog('job done', { runId: run.id });
    assert.equal(done.images, 9);

    const [at01, at05] = await cli;
    assertSameFigures(run, at01.result);
    assertSamePrinted(run, at01.printed);

    // The failing images, exactly, with the CLI's reasons and detections.
    const IMAGES =
      'query ($id: ID!, $correct: Boolean) { images(runId: $id, filter: { correct: $correct }, first: 100) { totalCount edges { node { imageIndex correct reason url prompt { externalId } detections { label score box } } } } }';
    const failingOf = async (id: string) => (await gql(IMAGES, { id, correct: false })).images;
    const expectFailing = (cli: CliResult) => cli.images.filter((i) => !i.correct).map((i) => [i.prompt, i.image, i.reason]);
    const failing = await failingOf(run.id);
    assert.ok(expectFailing(at01.result).length >= 4, 'the wrong and missing scenes fail');
    assert.equal(failing.totalCount, expectFailing(at01.result).length);
    assert.deepEqual(
      failing.edges.map((e: any) => [e.node.prompt.externalId, e.node.imageIndex, e.node.reason]),
      expectFailing(at01.result),
    );
    assert.ok(failing.edges.every((e: any) => e.node.correct === false && e.node.reason));
    for (const { node } of failing.edges) {
      const found = at01.detections.find((d) => d.prompt === node.prompt.externalId && d.image === node.imageIndex)!;
      assert.deepEqual(node.detections, found.detections, `detections of ${node.prompt.externalId}_${node.imageIndex}`);
    }
    const passing = (await gql(IMAGES, { id: run.id, correct: true })).images;
    assert.equal(passing.totalCount + failing.totalCount, 9);
    const png = await fetch(`${api.url}${failing.edges[0].node.url}`);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');

    // Rescored at 0.5: the thin apple (score about 0.3) is no longer seen.
    const rescored = await gql('mutation ($id: ID!) { rescoreRun(runId: $id, threshold: 0.5) { reused run { id kind threshold status sourceRun { id } } } }', {
      id: run.id,
    });
    assert.equal(rescored.rescoreRun.reused, false);
    assert.deepEqual(
      { ...rescored.rescoreRun.run, id: undefined },
      { id: undefined, kind: 'EVALUATE_ONLY', threshold: 0.5, status: 'QUEUED', sourceRun: { id: run.id } },
    );
    const second = await finished(rescored.rescoreRun.run.id);
    assert.deepEqual(
      second.timeline.map((e: any) => e.status),
      ['QUEUED', 'EVALUATING', 'FINISHED'],
    );
    assertSameFigures(second, at05.result);
    assertSamePrinted(second, at05.printed);
    const oa = (r: any) => r.aggregates.metrics.find((m: any) => m.key === 'OA').value;
    assert.ok(oa(second) < oa(run), `OA at 0.5 (${oa(second)}) is below OA at 0.1 (${oa(run)})`);
    const failingLater = await failingOf(second.id);
    assert.deepEqual(
      failingLater.edges.map((e: any) => [e.node.prompt.externalId, e.node.imageIndex, e.node.reason]),
      expectFailing(at05.result),
    );
    assert.ok(failingLater.totalCount > failing.totalCount);
    // A rescore reuses the images: no image files of its own, its rows point at the uploaded set.
    assert.ok(failingLater.edges.every((e: any) => e.node.url.startsWith(`/artifacts/${uploaded[0]}/`)));
    await worker.kill();
  });

  test("the bundled model: a GENERATE_AND_EVALUATE run goes QUEUED, GENERATING, EVALUATING, FINISHED, with `experiment`'s figures and guidance traces for the same prompts and seed", async () => {
    const out = join(scratch, 'experiment');
    const reference = mustRun('npx', [
      '--no-install',
      'infsplign',
      'experiment',
      '--model',
      'bundled',
      '--benchmark',
      'visor-shapes',
      '--configs',
      'infsplign',
      '--limit',
      '4',
      '--images-per-prompt',
      '2',
      '--seed',
      '7',
      '--out',
      out,
    ]);
    startWorker();
    const input = {
      kind: 'GENERATE_AND_EVALUATE',
      benchmark: 'visor-shapes',
      promptSet: 'eval',
      model: 'bundled',
      method: 'infsplign',
      detector: 'shapes',
      seed: 7,
      imagesPerPrompt: 2,
      limit: 4,
    };
    const { submitRun } = await gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id status } } }', { input });
    const run = await finished(submitRun.run.id, 240_000);
    assert.deepEqual(
      run.timeline.map((e: any) => e.status),
      ['QUEUED', 'GENERATING', 'EVALUATING', 'FINISHED'],
    );
    assert.deepEqual(run.progress, { prompts: 4, totalImages: 8, imagesGenerated: 8, imagesEvaluated: 8, fraction: 1 });
    await reference;
    assertSameFigures(run, JSON.parse(readFileSync(join(out, 'infsplign', 'result.json'), 'utf8')) as CliResult);

    // Every image carries its guidance trace: one step per guided step, numbered from guide_steps' start,
    // with the very loss and centroids that `experiment` recorded in its manifest.
    const {
      run: { config },
    } = await gql('query ($id: ID!) { run(id: $id) { config } }', { id: run.id });
    const [start, end] = config.params.guide_steps as [number, number];
    assert.ok(end > start, 'the bundled model guides some steps');
    const { images } = await gql(
      'query ($id: ID!) { images(runId: $id, first: 100) { edges { node { imageIndex prompt { externalId } guidance { step loss centroids } } } } }',
      { id: run.id },
    );
    const manifest = JSON.parse(readFileSync(join(out, 'infsplign', MANIFEST_FILE), 'utf8')) as Manifest;
    assert.equal(images.edges.length, 8);
    for (const { node } of images.edges) {
      const record = manifest.images.find((r) => r.prompt === node.prompt.externalId && r.index === node.imageIndex)!;
      assert.ok(record.guided);
      assert.deepEqual(
        node.guidance.map((s: any) => s.step),
        Array.from({ length: end - start }, (_, k) => start + k),
      );
      assert.deepEqual(
        node.guidance.map((s: any) => [s.loss, s.centroids]),
        record.loss.map((loss, k) => [loss, record.centroids[k]]),
        `trace of ${node.prompt.externalId}_${node.imageIndex}`,
      );
    }
  });

  test('the bundled model with official options: a run with loss_type relu, strategy both, gaussian_smoothing, no_wt off and sg_t_start finishes; a refused option names its defect', async () => {
    startWorker();
    const params = { loss_type: 'relu', strategy: 'both', gaussian_smoothing: true, no_wt: false, sg_t_start: 2 };
    const input = {
      kind: 'GENERATE_AND_EVALUATE',
      benchmark: 'visor-shapes',
      promptSet: 'eval',
      model: 'bundled',
      method: 'infsplign',
      detector: 'shapes',
      seed: 3,
      imagesPerPrompt: 1,
      limit: 2,
    };
    const { submitRun } = await gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id status } } }', {
      input: { ...input, params },
    });
    const run = await finished(submitRun.run.id, 240_000);
    assert.deepEqual(run.progress, { prompts: 2, totalImages: 2, imagesGenerated: 2, imagesEvaluated: 2, fraction: 1 });
    const {
      run: { config },
    } = await gql('query ($id: ID!) { run(id: $id) { config } }', { id: run.id });
    const { steps } = config.params;
    assert.deepEqual(
      [config.params.loss_type, config.params.strategy, config.params.gaussian_smoothing, config.params.no_wt, config.params.guide_steps],
      ['relu', 'both', true, false, [2, steps]],
    );
    assert.ok(!('sg_t_start' in config.params), 'the alias is stored as guide_steps');
    const { images } = await gql('query ($id: ID!) { images(runId: $id, first: 10) { edges { node { guidance { step loss } } } } }', { id: run.id });
    for (const { node } of images.edges)
      assert.deepEqual(
        node.guidance.map((s: any) => s.step),
        Array.from({ length: steps - 2 }, (_, k) => 2 + k),
      );

    const response = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: 'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } } }',
        variables: { input: { ...input, params: { sg_grad_wt: 5 } } },
      }),
    });
    const refused = (await response.json()) as GraphQLResponse;
    assert.match(refused.errors?.[0]?.message ?? '', /'sg_grad_wt' is refused: the reference overwrites it with 1000/);
  });

  test('fault: a worker killed with SIGKILL mid-job; a second worker process runs the job again; no duplicate rows', async () => {
    await registerFaultSet();
    const first = startWorker();
    const run = await submitEvaluateOnly(faultSetId, { force: true });
    await first.waitForLog('job started', { runId: run.id, chunk: 1 });
    await first.kill();
    assert.ok(!first.logs.some((l) => l.msg === 'job done' && l.runId === run.id && l.chunk === 1), 'killed before it finished');

    const second = startWorker();
    await second.waitForLog('job done', { runId: run.id, chunk: 1 }, 60_000);
    await assertCleanFinish(run.id);
    assert.equal(await api.services.queues.evaluate.getJobState(evaluateJobId(run.id, 1)), 'completed');
    assert.ok(
      second.logs.some((l) => l.msg === 'stalled job put back to wait'),
      'the second worker found the job stalled',
    );
    const result = await api.services.queues.results.getJob(resultJobId({ type: 'ImagesEvaluated', runId: run.id, chunk: 1, round: 0 } as ImagesEvaluated));
    assert.equal((result?.data as ImagesEvaluated).worker, second.name, 'the second worker sent the result');
    await second.kill();
  });

  test('fault: redis-server killed with SIGKILL mid-run and restarted from its append-only file; the run finishes', async () => {
    await registerFaultSet();
    const worker = startWorker();
    const run = await submitEvaluateOnly(faultSetId, { force: true });
    await worker.waitForLog('job started', { runId: run.id, chunk: 1 });
    await redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    await redis.restart();
    const state = await api.services.queues.evaluate.getJobState(evaluateJobId(run.id, 1));
    assert.ok(['active', 'waiting', 'completed'].includes(state), `the job outlived the crash in the append-only file (${state})`);
    await assertCleanFinish(run.id);
    await worker.kill();
  });

  test('fault: Redis restarted empty mid-run; reconciliation re-enqueues the chunks with no results and the run finishes', async () => {
    await registerFaultSet();
    const worker = startWorker();
    const run = await submitEvaluateOnly(faultSetId, { force: true });
    await worker.waitForLog('job started', { runId: run.id, chunk: 1 });
    await redis.kill('SIGKILL');
    await redis.restart({ empty: true });
    assert.equal(await api.services.queues.evaluate.getJobState(evaluateJobId(run.id, 1)), 'unknown', "the job is gone with Redis' data");
    const report = await api.reconcile();
    assert.ok(report.reenqueued >= 1, JSON.stringify(report));
    await assertCleanFinish(run.id);
    await worker.kill();
  });

  test('fault: PostgreSQL stopped while results come in; they wait in Redis and are written once it is back', async () => {
    await registerFaultSet();
    const worker = startWorker();
    const run = await submitEvaluateOnly(faultSetId, { force: true });
    // Chunk 0 is in; chunk 1, the long one, is running.
    await eventually(async () => ((await prisma.run.findUniqueOrThrow({ where: { id: run.id } })).imagesEvaluated > 0 ? true : undefined), 'chunk 0 ingested');
    await postgres.pause();
    const pausedAt = Date.now();
    let resumed = false;
    try {
      const done = await worker.waitForLog('job done', { runId: run.id, chunk: 1 });
      assert.ok((done.time as number) > pausedAt, 'chunk 1 was sent while PostgreSQL was down');
      const resultId = resultJobId({ type: 'ImagesEvaluated', runId: run.id, chunk: 1, round: 0 } as ImagesEvaluated);
      // The ingester could not write it: it waits, delayed, on the results queue.
      await eventually(async () => ((await api.services.queues.results.getJobState(resultId)) === 'delayed' ? true : undefined), 'the result delayed', 10_000);
      const ready = await fetch(`${api.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(await ready.json()), /PostgreSQL/);
      await postgres.resume();
      resumed = true;
    } finally {
      if (!resumed) await postgres.resume();
    }
    await assertCleanFinish(run.id);
    await worker.kill();
  });
});

/** Renders and uploads the fault tests' set once, and starts the CLI on it for the reference figures. */
async function registerFaultSet(): Promise<void> {
  if (faultSetId) return;
  const dir = join(scratch, 'fault-images');
  renderTo(dir, FAULT_SCENES);
  mkdirSync(join(scratch, 'fault-cli'), { recursive: true });
  faultReference = evaluateWithCli(dir, 0.1, join(scratch, 'fault-cli'));
  faultReference.catch(() => {});
  const { createUpload } = await gql('mutation { createUpload { prefix } }');
  const store = new LocalArtifactStore(artifactDir);
  for (const name of Object.keys(FAULT_SCENES)) await store.put(`${createUpload.prefix}/${name}`, readFileSync(join(dir, name)));
  const { registerImageSet } = await gql('mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id imageCount } }', {
    prefix: createUpload.prefix,
  });
  assert.equal(registerImageSet.imageCount, FAULT_IMAGES);
  faultSetId = registerImageSet.id;
}
