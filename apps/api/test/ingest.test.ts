/**
 * The run lifecycle through the real `results` queue and ingester, on real PostgreSQL and Redis:
 * chunks, status timeline, progress, aggregates equal to `scoreImages` on the same detections,
 * idempotent redelivery, rescoring, EVALUATE_ONLY runs of uploaded images, failure and retry,
 * comparison, reconciliation after Redis lost its data, deletion, and a database outage.
 *
 * A stand-in worker answers the jobs: it writes placeholder PNGs and reports detections it makes up
 * deterministically, scored with the workers' scorer as the evaluate stage does (the real stages
 * are the jobs' and end-to-end tests' business).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { getPriority } from 'node:os';
import { threadId } from 'node:worker_threads';
import { LocalArtifactStore } from '@infsplign/workers/artifacts';
import { type ChunkFailed, evaluateJobId, generateJobId, type ImagesEvaluated, type ImagesGenerated, type ResultMessage } from '@infsplign/workers/contracts';
import { BENCHMARK_METRICS, type Detection, metricDefined, scoreImages, type VisorImageResult } from '@infsplign/workers/benchmarks';
import { sendResult } from '@infsplign/workers/queues';
import { UnrecoverableError } from 'bullmq';
import { pino } from 'pino';
import { ingest, RunBatches } from '../src/ingest/ingester.ts';
import { INGEST_THREAD_NICE } from '../src/ingest/thread.ts';
import { createApiServer } from '../src/server.ts';
import { sweepStalledRuns } from '../src/runs/reconcile.ts';
import { mcnemarExact } from '../src/stats/paired.ts';
import { eventually, startHarness, type Harness } from './support/harness.ts';
import { evaluatedMessage, generatedMessage, madeUpCost, madeUpTrace, promptOfId, SHAPES_EVAL, type Detect } from './support/stand-in-worker.ts';

let h: Harness;
let store: LocalArtifactStore;
const VISOR_METRICS = BENCHMARK_METRICS['visor-shapes'].metrics;

before(async () => {
  // Every run here is small; all are ranked.
  h = await startHarness('ingest', { leaderboard: { minRankedImages: 1 } });
  store = new LocalArtifactStore(h.artifactDir);
});

after(async () => {
  await h?.close();
});

const SUBMIT = 'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id status } } }';

async function submit(extra: Record<string, unknown> = {}): Promise<string> {
  const input = {
    kind: 'GENERATE_AND_EVALUATE',
    benchmark: 'visor-shapes',
    promptSet: 'eval',
    model: 'tiny-test',
    method: 'baseline',
    detector: 'shapes',
    imagesPerPrompt: 2,
    limit: 10,
    ...extra,
  };
  const result = await h.gql(SUBMIT, { input }, h.tokens.alpha);
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data!.submitRun.run.id;
}

/**
 * Made-up detections of image k of a prompt: some images miss an object, some place them wrongly,
 * and some boxes score 0.2, between the thresholds 0.1 and 0.3 that the tests compare.
 */
function detectionsOf(prompt: { id: number; objects: string[] }, k: number): Detection[] {
  const [a, b] = prompt.objects;
  const n = prompt.id * 7 + k * 3;
  const detections: Detection[] = [];
  if (n % 5 !== 0) detections.push({ label: a, score: n % 4 === 0 ? 0.2 : 0.8, box: [10, 10, 20, 20] });
  const bx = n % 3 === 0 ? 0 : 30; // when 0, B's centre is left of A's: horizontal relations go wrong
  const by = n % 2 === 0 ? 0 : 30;
  if (n % 7 !== 0) detections.push({ label: b, score: n % 6 === 0 ? 0.2 : 0.7, box: [bx, by, bx + 10, by + 10] });
  return detections;
}

/** The generate stage's answer to a chunk job: placeholder PNGs in the store, their keys and, for InfSplign, made-up traces. */
function generated(runId: string, chunk: number, round = 0): Promise<ImagesGenerated> {
  return generatedMessage(h, runId, chunk, round);
}

/** The evaluate stage's answer to a chunk job: made-up detections, scored as the evaluate stage scores them. */
function evaluated(runId: string, chunk: number, round = 0, detect: Detect = detectionsOf): Promise<ImagesEvaluated> {
  return evaluatedMessage(h, runId, chunk, round, detect);
}

/** What `infsplign score` computes for the run's images at `threshold`. */
function expectedScore(externalIds: readonly number[], imagesPerPrompt: number, threshold: number) {
  const images = externalIds.flatMap((id) =>
    Array.from({ length: imagesPerPrompt }, (_, k) => ({ prompt: id, image: k, width: 64, height: 64, detections: detectionsOf(promptOfId.get(id)!, k) })),
  );
  return scoreImages('visor-shapes', SHAPES_EVAL, images, { threshold });
}

const spatialIds = SHAPES_EVAL.prompts.filter((p) => p.relation !== null).map((p) => p.id);

async function runRow(id: string) {
  return h.prisma.run.findUniqueOrThrow({ where: { id } });
}

/** Sends a result through the real queue and waits until the ingester has applied it. */
async function deliver(message: ResultMessage, until: (run: Awaited<ReturnType<typeof runRow>>) => boolean): Promise<void> {
  await sendResult(h.api.services.queues.results, message);
  await eventually(async () => (until(await runRow(message.runId)) ? true : undefined), `${message.type} of chunk ${message.chunk} ingested`);
}

/** Every row the ingester writes for the run, digested: equal digests mean nothing changed. */
async function snapshot(runId: string): Promise<string> {
  const [row] = await h.prisma.$queryRaw<{ digest: string }[]>`
    SELECT md5(concat_ws('|',
      (SELECT string_agg(r::text, ',') FROM runs r WHERE r.id = ${runId}::uuid),
      (SELECT string_agg(e::text, ',' ORDER BY e.id) FROM run_events e WHERE e.run_id = ${runId}::uuid),
      (SELECT string_agg(i::text, ',' ORDER BY i.id) FROM images i WHERE i.run_id = ${runId}::uuid),
      (SELECT string_agg(d::text, ',' ORDER BY d.id) FROM detections d JOIN images i ON i.id = d.image_id WHERE i.run_id = ${runId}::uuid),
      (SELECT string_agg(s::text, ',' ORDER BY s.id) FROM image_scores s WHERE s.run_id = ${runId}::uuid),
      (SELECT string_agg(a::text, ',' ORDER BY a.id) FROM run_aggregates a WHERE a.run_id = ${runId}::uuid))) AS digest`;
  return row.digest;
}

const RUN_QUERY = `query ($id: ID!) { run(id: $id) {
  status error timeline { status } progress { prompts totalImages imagesGenerated imagesEvaluated fraction }
  aggregates { scorerVersion imagesScored metrics { key value low high } byRelation { relation metrics { key value low high } } } } }`;

function assertAggregatesEqual(aggregates: any, expected: ReturnType<typeof scoreImages>) {
  const figures = expected.aggregates as Record<string, any>;
  const intervals = expected.intervals as Record<string, any>;
  // VISOR_n needs n images per prompt: with fewer the API reports it undefined, whatever the scorer counted.
  const imagesPerPrompt = Math.max(...(expected.images as VisorImageResult[]).map((i) => i.image)) + 1;
  const defined = (key: string) => metricDefined(VISOR_METRICS.find((m) => m.key === key)?.minImagesPerPrompt, imagesPerPrompt);
  for (const metric of aggregates.metrics) {
    assert.equal(metric.value, defined(metric.key) ? figures[metric.key] : null, metric.key);
    assert.deepEqual([metric.low, metric.high], (defined(metric.key) && intervals[metric.key]) || [null, null], metric.key);
  }
  assert.equal(aggregates.metrics.length, 9);
  assert.deepEqual(
    aggregates.byRelation.map((r: any) => r.relation),
    Object.keys(figures.by_relation),
  );
  for (const split of aggregates.byRelation) {
    for (const metric of split.metrics) {
      assert.equal(metric.value, defined(metric.key) ? figures.by_relation[split.relation][metric.key] : null, `${split.relation} ${metric.key}`);
      assert.deepEqual([metric.low, metric.high], (defined(metric.key) && intervals.by_relation[split.relation][metric.key]) || [null, null]);
    }
  }
}

let finishedRun: string;

test("a run goes QUEUED → GENERATING → EVALUATING → FINISHED through the results queue, with the CLI scorer's aggregates", async () => {
  const id = await submit();
  const g0 = await generated(id, 0);
  await deliver(g0, (run) => run.imagesGenerated === 10);
  let view = (await h.gql(RUN_QUERY, { id })).data!.run;
  assert.equal(view.status, 'GENERATING');
  assert.deepEqual(view.progress, { prompts: 10, totalImages: 20, imagesGenerated: 10, imagesEvaluated: 0, fraction: 0 });

  await deliver(await evaluated(id, 0), (run) => run.imagesEvaluated === 10);
  view = (await h.gql(RUN_QUERY, { id })).data!.run;
  assert.equal(view.status, 'EVALUATING');
  assert.equal(view.progress.fraction, 0.5);
  assert.equal(view.aggregates, null);

  await deliver(await generated(id, 1), (run) => run.imagesGenerated === 20);
  await deliver(await evaluated(id, 1), (run) => run.status === 'FINISHED');
  // Written in the ingest thread: the API's main thread (here the test's own) is left to answer requests.
  const ingested = (await h.api.services.queues.results.getJobs(['completed'])).filter((job) => job.data.runId === id);
  assert.equal(ingested.length, 4);
  for (const job of ingested) {
    assert.ok(job.returnvalue.applied && job.returnvalue.threadId !== threadId, `result ${job.id} written in thread ${job.returnvalue.threadId}`);
    // ... at a lower CPU priority than the main thread's, which keeps its own.
    if (process.platform === 'linux') assert.equal(job.returnvalue.nice, Math.max(INGEST_THREAD_NICE, getPriority()));
  }
  view = (await h.gql(RUN_QUERY, { id })).data!.run;
  assert.deepEqual(
    view.timeline.map((e: any) => e.status),
    ['QUEUED', 'GENERATING', 'EVALUATING', 'FINISHED'],
  );
  assert.equal(view.aggregates.imagesScored, 20);
  assert.equal(view.aggregates.scorerVersion, 'visor/1');
  const expected = expectedScore(spatialIds.slice(0, 10), 2, 0.1);
  assertAggregatesEqual(view.aggregates, expected);

  // The failing images, exactly, with their reasons and URLs served by the API.
  const failing = (expected.images as VisorImageResult[]).filter((i) => !i.correct);
  const page = await h.gql(
    'query ($id: ID!) { images(runId: $id, filter: { correct: false }, first: 100) { totalCount edges { node { imageIndex correct reason url prompt { externalId } detections { label } guidance { step } } } } }',
    { id },
  );
  const nodes = page.data!.images.edges.map((e: any) => e.node);
  assert.equal(page.data!.images.totalCount, failing.length);
  assert.ok(
    nodes.every((n: any) => n.guidance === null),
    "a baseline's images have no guidance trace",
  );
  assert.deepEqual(
    nodes.map((n: any) => [n.prompt.externalId, n.imageIndex, n.reason]),
    failing.map((i) => [i.prompt, i.image, i.reason]),
  );
  assert.ok(nodes.every((n: any) => n.correct === false && n.reason));
  const png = await fetch(`${h.api.url}${nodes[0].url}`);
  assert.equal(png.status, 200);
  const byObject = await h.gql(
    'query ($id: ID!) { images(runId: $id, filter: { object: "tree", text: "APPLE" }) { edges { node { prompt { text objects } } } } }',
    { id },
  );
  assert.ok(byObject.data!.images.edges.length > 0);
  assert.ok(byObject.data!.images.edges.every((e: any) => e.node.prompt.objects.includes('tree') && /apple/i.test(e.node.prompt.text)));

  const board = await h.gql('{ leaderboard(benchmark: "visor-shapes") { rank isBaseline method run { id } metrics { key value } } }');
  assert.deepEqual(
    board.data!.leaderboard.map((r: any) => [r.rank, r.run.id, r.isBaseline]),
    [[1, id, true]],
  );
  assert.equal(board.data!.leaderboard[0].metrics[0].value, (expected.aggregates as any).OA);

  // The team's identical submission: its finished run comes back, unless forced.
  const identical = {
    kind: 'GENERATE_AND_EVALUATE',
    benchmark: 'visor-shapes',
    promptSet: 'eval',
    model: 'tiny-test',
    method: 'baseline',
    detector: 'shapes',
    imagesPerPrompt: 2,
    limit: 10,
  };
  const again = await h.gql(SUBMIT, { input: identical }, h.tokens.alpha);
  assert.deepEqual(again.data!.submitRun, { reused: true, run: { id, status: 'FINISHED' } });
  // ... but not when it was scored under an older version of the benchmark's rules.
  const { scorerVersion } = await h.prisma.run.update({ where: { id }, data: { scorerVersion: 'visor/0' }, select: { scorerVersion: true } });
  const rescoredRules = await h.gql(SUBMIT, { input: identical }, h.tokens.alpha);
  assert.equal(rescoredRules.data!.submitRun.reused, false, `a run scored by ${scorerVersion} was reused`);
  await h.gql('mutation ($id: ID!) { cancelRun(runId: $id) { id } }', { id: rescoredRules.data!.submitRun.run.id }, h.tokens.alpha);
  await h.prisma.run.update({ where: { id }, data: { scorerVersion: expected.scorer_version } });
  finishedRun = id;
});

test('a message delivered twice changes nothing: rows (guidance traces included), counts, events and the run row stay identical', async () => {
  // InfSplign guided on steps 1 and 2 of 4: every image carries a two-step trace.
  const id = await submit({ seed: 1, method: 'infsplign', params: { guide_steps: [1, 3] } });
  const messages: ResultMessage[] = [];
  for (const chunk of [0, 1]) {
    const g = await generated(id, chunk);
    assert.ok(g.images.every((i) => i.guidance?.loss.length === 2));
    messages.push(g);
    const first = await ingest(h.api.services, g);
    assert.equal(first.applied, true);
    const digest = await snapshot(id);
    await ingest(h.api.services, g);
    assert.equal(await snapshot(id), digest, `ImagesGenerated of chunk ${chunk} again`);
    // A redelivery never rewrites a row: a trace that (impossibly) differed would leave the first one.
    const changed = g.images.map((i) => ({ ...i, guidance: { loss: [9, 9], centroids: i.guidance!.centroids } }));
    await ingest(h.api.services, { ...g, images: changed });
    assert.equal(await snapshot(id), digest, `ImagesGenerated of chunk ${chunk} again, with other traces`);
    const e = await evaluated(id, chunk);
    messages.push(e);
    await ingest(h.api.services, e);
    const afterEvaluate = await snapshot(id);
    await ingest(h.api.services, e);
    assert.equal(await snapshot(id), afterEvaluate, `ImagesEvaluated of chunk ${chunk} again`);
  }
  const finished = await runRow(id);
  assert.equal(finished.status, 'FINISHED');
  assert.deepEqual([finished.imagesGenerated, finished.imagesEvaluated], [20, 20]);
  const digest = await snapshot(id);
  for (const message of messages) assert.equal((await ingest(h.api.services, message)).applied, false);
  assert.equal(await snapshot(id), digest);
  assert.equal(await h.prisma.imageScore.count({ where: { runId: id } }), 20);

  // The traces as stored, and through GraphQL numbered by denoising step from guide_steps' start.
  const stored = await h.prisma.image.findMany({ where: { runId: id }, include: { prompt: true } });
  assert.equal(stored.length, 20);
  for (const image of stored) assert.deepEqual(image.guidance, madeUpTrace(image.prompt.externalId, image.imageIndex, 2));
  const page = await h.gql(
    'query ($id: ID!) { images(runId: $id, first: 3) { edges { node { imageIndex prompt { externalId } guidance { step loss centroids } } } } }',
    { id },
  );
  assert.equal(page.errors, undefined, JSON.stringify(page.errors));
  for (const { node } of page.data!.images.edges) {
    const trace = madeUpTrace(node.prompt.externalId, node.imageIndex, 2);
    assert.deepEqual(
      node.guidance,
      [1, 2].map((step, k) => ({ step, loss: trace.loss[k], centroids: trace.centroids[k] })),
    );
  }

  // Deleting it removes its rows and the images it generated.
  const deleted = await h.gql('mutation ($id: ID!) { deleteRun(id: $id) { id artifactsDeleted } }', { id }, h.tokens.alpha);
  assert.deepEqual(deleted.data!.deleteRun, { id, artifactsDeleted: 20 });
  assert.equal(await h.prisma.image.count({ where: { runId: id } }), 0);
  assert.deepEqual(await store.list(`runs/${id}`), []);
});

/** A run's generate stage done, and the evaluate stage's answers to its chunks, not yet delivered. */
async function evaluatedChunks(id: string): Promise<ImagesEvaluated[]> {
  const { chunksTotal } = await runRow(id);
  for (let chunk = 0; chunk < chunksTotal; chunk++) await ingest(h.api.services, await generated(id, chunk));
  return Promise.all(Array.from({ length: chunksTotal }, (_, chunk) => evaluated(id, chunk)));
}

test('ImagesEvaluated messages of one run that arrive together are written as one batch, with the rows, counts and figures of one at a time', async () => {
  const id = await submit({ seed: 11, limit: 40 });
  const messages = await evaluatedChunks(id);
  assert.equal(messages.length, 5);
  const batches = new RunBatches(h.api.services);
  // The first is written alone; the rest, a redelivery among them, wait for it and are written together.
  const outcomes = await Promise.all([...messages, messages[1]].map((m) => batches.apply(m)));
  assert.ok(outcomes.every((o) => o.applied));
  assert.ok(
    outcomes.slice(2).every((o) => o === outcomes[1]),
    'one outcome for the batch',
  );
  assert.deepEqual(outcomes[1], { applied: true, runId: id, finished: true, failed: false });

  const row = await runRow(id);
  assert.equal(row.status, 'FINISHED');
  assert.deepEqual([row.imagesGenerated, row.imagesEvaluated], [80, 80]);
  assert.equal(await h.prisma.imageScore.count({ where: { runId: id } }), 80);
  const detections = messages.flatMap((m) => m.images).reduce((n, image) => n + image.detections.length, 0);
  assert.equal(await h.prisma.detection.count({ where: { image: { runId: id } } }), detections);
  const view = (await h.gql(RUN_QUERY, { id })).data!.run;
  assertAggregatesEqual(view.aggregates, expectedScore(spatialIds.slice(0, 40), 2, 0.1));
});

test('a message that cannot be applied fails alone; the others of its batch are written', async () => {
  const id = await submit({ seed: 12, limit: 24 });
  const [m0, m1, m2] = await evaluatedChunks(id);
  const bad: ImagesEvaluated = { ...m2, images: m2.images.map((image, n) => (n === 0 ? { ...image, promptId: randomUUID() } : image)) };
  const batches = new RunBatches(h.api.services);
  const [r0, r1, r2] = await Promise.allSettled([m0, m1, bad].map((m) => batches.apply(m)));
  assert.equal(r0.status, 'fulfilled');
  assert.equal(r1.status, 'fulfilled');
  assert.equal(r2.status, 'rejected');
  assert.ok(r2.reason instanceof UnrecoverableError);
  assert.match(r2.reason.message, /does not exist/);
  const written = m0.images.length + m1.images.length;
  const row = await runRow(id);
  assert.deepEqual([row.status, row.imagesEvaluated], ['EVALUATING', written]);
  assert.equal(await h.prisma.imageScore.count({ where: { runId: id } }), written);
  assert.deepEqual(await batches.apply(m2), { applied: true, runId: id, finished: true, failed: false });
});

test("rescoreRun with another threshold gives the scorer's figures for that threshold; the same settings reuse the run", async () => {
  const same = await h.gql('mutation ($id: ID!) { rescoreRun(runId: $id) { reused run { id } } }', { id: finishedRun }, h.tokens.alpha);
  assert.deepEqual(same.data!.rescoreRun, { reused: true, run: { id: finishedRun } });
  const rescored = await h.gql(
    'mutation ($id: ID!) { rescoreRun(runId: $id, threshold: 0.3) { reused run { id kind threshold sourceRun { id } } } }',
    { id: finishedRun },
    h.tokens.alpha,
  );
  assert.equal(rescored.errors, undefined, JSON.stringify(rescored.errors));
  const run = rescored.data!.rescoreRun.run;
  assert.deepEqual({ ...run, id: undefined }, { id: undefined, kind: 'EVALUATE_ONLY', threshold: 0.3, sourceRun: { id: finishedRun } });
  await deliver(await evaluated(run.id, 0), (r) => r.imagesEvaluated === 10);
  await deliver(await evaluated(run.id, 1), (r) => r.status === 'FINISHED');
  const view = (await h.gql(RUN_QUERY, { id: run.id })).data!.run;
  assert.deepEqual(
    view.timeline.map((e: any) => e.status),
    ['QUEUED', 'EVALUATING', 'FINISHED'],
  );
  assertAggregatesEqual(view.aggregates, expectedScore(spatialIds.slice(0, 10), 2, 0.3));

  // compareRuns pairs the two runs' images by prompt and index.
  const a = expectedScore(spatialIds.slice(0, 10), 2, 0.1).images as VisorImageResult[];
  const b = expectedScore(spatialIds.slice(0, 10), 2, 0.3).images as VisorImageResult[];
  const onlyA = a.filter((x, i) => x.correct && !b[i].correct).length;
  const onlyB = a.filter((x, i) => !x.correct && b[i].correct).length;
  const compared = await h.gql(
    'query ($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { pairs onlyA onlyB mcnemarP meanDifference meanDifferenceLow meanDifferenceHigh images(disagreeing: true) { edges { node { imageIndex prompt { externalId } a { correct } b { correct } } } } } }',
    { a: finishedRun, b: run.id },
  );
  const c = compared.data!.compareRuns;
  assert.deepEqual([c.pairs, c.onlyA, c.onlyB], [20, onlyA, onlyB]);
  assert.ok(onlyA > 0, 'the thresholds disagree on some images');
  assert.equal(c.mcnemarP, mcnemarExact(onlyA, onlyB));
  assert.equal(c.meanDifference, (onlyB - onlyA) / 20);
  assert.ok(c.meanDifferenceLow <= c.meanDifference && c.meanDifference <= c.meanDifferenceHigh);
  assert.equal(c.images.edges.length, onlyA + onlyB);
  assert.ok(c.images.edges.every((e: any) => e.node.a.correct !== e.node.b.correct));
});

test('an EVALUATE_ONLY run scores an uploaded image set; prompts the benchmark does not score are left out', async () => {
  const ids = spatialIds.slice(20, 26);
  const andPrompt = SHAPES_EVAL.prompts.find((p) => p.relation === null)!;
  const prefix = await h.upload(
    h.tokens.alpha,
    Object.fromEntries([...ids, andPrompt.id].flatMap((id) => [0, 1].map((k) => [`${id}_${k}.png`, new Uint8Array([137, 80, 78, 71])]))),
  );
  const set = await h.gql('mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id imageCount } }', { prefix }, h.tokens.alpha);
  assert.equal(set.data!.registerImageSet.imageCount, 14);
  const input = { kind: 'EVALUATE_ONLY', benchmark: 'visor-shapes', promptSet: 'eval', imageSet: set.data!.registerImageSet.id, detector: 'shapes' };
  const submitted = await h.gql(
    'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id progress { prompts totalImages } } } }',
    { input },
    h.tokens.alpha,
  );
  assert.equal(submitted.errors, undefined, JSON.stringify(submitted.errors));
  const run = submitted.data!.submitRun.run;
  assert.deepEqual(run.progress, { prompts: 6, totalImages: 12 });
  await deliver(await evaluated(run.id, 0), (r) => r.status === 'FINISHED');
  const view = (await h.gql(RUN_QUERY, { id: run.id })).data!.run;
  assertAggregatesEqual(view.aggregates, expectedScore(ids, 2, 0.1));
  const images = await h.gql('query ($id: ID!) { images(runId: $id, first: 1) { edges { node { url guidance { step } } } } }', { id: run.id });
  assert.equal(images.data!.images.edges[0].node.url, `/artifacts/${prefix}/${ids[0]}_0.png`);
  assert.equal(images.data!.images.edges[0].node.guidance, null, 'uploaded images have no guidance trace');

  const again = await h.gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id } } }', { input }, h.tokens.alpha);
  assert.deepEqual(again.data!.submitRun, { reused: true, run: { id: run.id } });
  const forced = await h.gql(
    'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id } } }',
    { input: { ...input, force: true } },
    h.tokens.alpha,
  );
  assert.equal(forced.data!.submitRun.reused, false);
  const other = await h.gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } } }', { input }, h.tokens.beta);
  assert.equal(other.errors?.[0].extensions?.code, 'FORBIDDEN');
});

test('a chunk that fails for good fails the run with its reason; retryRun enqueues only what is missing, as a new round', async () => {
  const id = await submit({ seed: 2 });
  await ingest(h.api.services, await generated(id, 0));
  assert.ok(await h.api.services.queues.evaluate.getJob(evaluateJobId(id, 0, 0)));
  const failure: ChunkFailed = { type: 'ChunkFailed', runId: id, chunk: 1, round: 0, stage: 'generate', reason: 'CUDA out of memory', attempt: 3, attempts: 3 };
  await deliver(failure, (run) => run.status === 'FAILED');
  const failed = await runRow(id);
  assert.match(failed.errorReason!, /generate of chunk 1 failed \(attempt 3 of 3\): CUDA out of memory/);
  // Removed after the transaction that failed the run, so possibly a moment after FAILED shows.
  await eventually(
    async () => ((await h.api.services.queues.evaluate.getJob(evaluateJobId(id, 0, 0))) === undefined ? true : undefined),
    "the failed run's waiting jobs are removed",
  );

  const retried = await h.gql('mutation ($id: ID!) { retryRun(id: $id) { status error timeline { status } } }', { id }, h.tokens.alpha);
  assert.equal(retried.errors, undefined, JSON.stringify(retried.errors));
  assert.deepEqual(
    retried.data!.retryRun.timeline.map((e: any) => e.status),
    ['QUEUED', 'GENERATING', 'FAILED', 'QUEUED'],
  );
  assert.equal(retried.data!.retryRun.error, null);
  assert.ok(await h.api.services.queues.evaluate.getJob(evaluateJobId(id, 0, 1)), 'chunk 0 needs only its evaluation');
  assert.ok(await h.api.services.queues.generate.getJob(generateJobId(id, 1, 1)), 'chunk 1 is generated again');
  assert.equal(await h.api.services.queues.generate.getJob(generateJobId(id, 0, 1)), undefined);
  // A late failure of the earlier round no longer counts.
  assert.equal((await ingest(h.api.services, { ...failure, chunk: 0 })).applied, false);
});

test('after Redis lost its data, reconciliation re-enqueues exactly the chunks with no results', async () => {
  const id = await submit({ seed: 3 });
  await ingest(h.api.services, await generated(id, 0));
  await h.api.services.redis.flushall();
  const report = await h.api.reconcile();
  assert.ok(report.reenqueued >= 2, JSON.stringify(report));
  assert.ok(await h.api.services.queues.evaluate.getJob(evaluateJobId(id, 0, 0)), 'chunk 0 is generated: its evaluation');
  assert.ok(await h.api.services.queues.generate.getJob(generateJobId(id, 1, 0)), 'chunk 1: its generation');
  assert.equal(await h.api.services.queues.generate.getJob(generateJobId(id, 0, 0)), undefined);
  const second = await h.api.reconcile();
  assert.equal(second.reenqueued, 0);
});

test('while PostgreSQL is down, results wait in Redis and are written once it is back', async () => {
  const id = await submit({ seed: 4 });
  const message = await generated(id, 0);
  await h.postgres.pause();
  try {
    await sendResult(h.api.services.queues.results, message);
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    await h.postgres.resume();
  }
  await eventually(async () => ((await runRow(id)).imagesGenerated === 10 ? true : undefined), 'the delayed result written', 20_000);
});

test('queueHealth reports the queues and stuck runs; the timeout sweep fails runs with no progress past the limit', async () => {
  const id = await submit({ seed: 5 });
  const lifecycle = h.api.services.lifecycle;
  const stuckAfterMs = lifecycle.stuckAfterMs;
  lifecycle.stuckAfterMs = 0;
  try {
    const health = (await h.gql('{ queueHealth { queues { name waiting active failed delayed oldestWaitingSeconds } stuckRuns { run { id } reason } } }')).data!
      .queueHealth;
    assert.deepEqual(
      health.queues.map((q: any) => q.name),
      ['generate', 'evaluate', 'results'],
    );
    const generate = health.queues[0];
    assert.ok(generate.waiting >= 2 && generate.oldestWaitingSeconds >= 0, JSON.stringify(generate));
    const stuck = health.stuckRuns.find((r: any) => r.run.id === id);
    assert.match(stuck.reason, /no progress for \d+ min while QUEUED \(0 of 20 images scored\)/);
  } finally {
    lifecycle.stuckAfterMs = stuckAfterMs;
  }

  assert.equal(await sweepStalledRuns(h.api.services), 0, 'nothing has waited 6 h yet');
  const later = new Date(Date.now() + lifecycle.failAfterMs + 60_000);
  assert.ok((await sweepStalledRuns(h.api.services, later)) >= 1);
  const failed = await runRow(id);
  assert.equal(failed.status, 'FAILED');
  assert.match(failed.errorReason!, /^no result for 6\.0 h while QUEUED \(the generate queue has \d+ waiting/);
  assert.equal(await h.api.services.queues.generate.getJob(generateJobId(id, 0, 0)), undefined, 'its waiting jobs are removed');
  const health = (await h.gql('{ queueHealth { failedRuns { run { id } reason } } }')).data!.queueHealth;
  assert.equal(health.failedRuns.find((r: any) => r.run.id === id).reason, failed.errorReason);
});

test('the leaderboard ranks the finished runs by their stored figures, filtered by model and detector', async () => {
  const finished = await h.prisma.run.findMany({
    where: { status: 'FINISHED', benchmark: { name: 'visor-shapes' } },
    include: { model: true, team: true, aggregates: { where: { relation: '' } } },
  });
  assert.ok(finished.length >= 4, `${finished.length} finished runs`);
  const FIELDS = 'rank run { id team { name } } model { name } detector threshold metrics { key value low high }';
  const board = (await h.gql(`{ leaderboard(benchmark: "visor-shapes", sort: { metric: "VISOR_uncond", direction: ASC }) { ${FIELDS} } }`)).data!.leaderboard;
  // Each model's runs (rescored ones have none) are ranked apart, from 1.
  for (const model of new Set(board.map((r: any) => r.model?.name ?? null))) {
    const ranks = board.filter((r: any) => (r.model?.name ?? null) === model).map((r: any) => r.rank);
    assert.deepEqual(
      ranks,
      ranks.map((_: number, i: number) => i + 1),
      `model ${model}`,
    );
  }
  assert.deepEqual(board.map((r: any) => r.run.id).sort(), finished.map((r) => r.id).sort());
  const figure = (row: any, key: string) => row.metrics.find((m: any) => m.key === key).value;
  const values = board.map((r: any) => figure(r, 'VISOR_uncond'));
  assert.deepEqual(
    values,
    [...values].sort((a, b) => a - b),
    'ascending',
  );
  for (const row of board) {
    const run = finished.find((r) => r.id === row.run.id)!;
    assert.deepEqual(
      row.metrics.map((m: any) => [m.key, m.value, m.low, m.high]),
      VISOR_METRICS.map(({ key, minImagesPerPrompt }) => {
        const a = run.aggregates.find((x) => x.metricKey === key)!;
        return metricDefined(minImagesPerPrompt, run.imagesPerPrompt) ? [key, a.value, a.lower, a.upper] : [key, null, null, null];
      }),
    );
    assert.deepEqual(
      [row.model?.name ?? null, row.detector, row.threshold, row.run.team.name],
      [run.model?.name ?? null, run.detector, run.threshold, run.team.name],
    );
  }
  const best = (await h.gql('{ leaderboard(benchmark: "visor-shapes") { run { id } metrics { key value } } }')).data!.leaderboard;
  // By default the benchmark's primary metric, VISOR_cond, best first; undefined figures last.
  const byPrimary = best.map((r: any) => figure(r, 'VISOR_cond'));
  assert.deepEqual(
    byPrimary,
    [...byPrimary].sort((a: number | null, b: number | null) => (a === null ? 1 : b === null ? -1 : b - a)),
    'best first by default',
  );

  const withModel = (await h.gql('{ leaderboard(benchmark: "visor-shapes", model: "tiny-test") { run { id } } }')).data!.leaderboard;
  assert.deepEqual(
    withModel.map((r: any) => r.run.id).sort(),
    finished
      .filter((r) => r.model?.name === 'tiny-test')
      .map((r) => r.id)
      .sort(),
  );
  assert.ok(withModel.length > 0 && withModel.length < finished.length, 'rescored runs have no model');
  const byDetector = (await h.gql('{ leaderboard(benchmark: "visor-shapes", detector: "shapes") { run { id } } }')).data!.leaderboard;
  assert.equal(byDetector.length, finished.filter((r) => r.detector === 'shapes').length);
  assert.deepEqual((await h.gql('{ leaderboard(benchmark: "visor-shapes", model: "no-such-model") { rank } }')).data!.leaderboard, []);
});

test("each image's cost is stored as the worker reported it; Run.cost and LeaderboardRow.cost are its means per image, null without generated images", async () => {
  // InfSplign guided on steps 1 and 2: the stand-in reports 2 U-Net passes per step plus one per guided step, with its backward pass.
  const id = await submit({ seed: 2, method: 'infsplign', params: { guide_steps: [1, 3] } });
  const messages = await evaluatedChunks(id);
  for (const message of messages) await ingest(h.api.services, message);
  assert.equal((await runRow(id)).status, 'FINISHED');
  const run = (
    await h.gql('query ($id: ID!) { run(id: $id) { config cost { secondsPerImage unetEvaluationsPerImage backwardPassesPerImage device images } } }', { id })
  ).data!.run;
  const steps = run.config.params.steps as number;
  const stored = await h.prisma.image.findMany({
    where: { runId: id },
    select: { imageIndex: true, generationMs: true, unetEvaluations: true, backwardPasses: true, device: true },
  });
  assert.equal(stored.length, 20);
  for (const image of stored) {
    const cost = madeUpCost(image.imageIndex, steps, 2);
    assert.deepEqual(
      [image.generationMs, image.unetEvaluations, image.backwardPasses, image.device],
      [cost.seconds * 1000, cost.unet_evaluations, cost.backward_passes, 'cpu'],
    );
  }
  // Images 0 and 1 of each prompt take 10 and 14 ms: 12 ms on average.
  const expected = { secondsPerImage: 0.012, unetEvaluationsPerImage: 2 * steps + 2, backwardPassesPerImage: 2, device: 'cpu', images: 20 };
  assert.deepEqual(run.cost, expected);

  const COST = 'cost { secondsPerImage unetEvaluationsPerImage backwardPassesPerImage device images }';
  const board = (await h.gql(`{ leaderboard(benchmark: "visor-shapes") { run { id kind } ${COST} } }`)).data!.leaderboard;
  assert.deepEqual(board.find((r: any) => r.run.id === id).cost, expected);
  const baseline = board.find((r: any) => r.run.id === finishedRun);
  assert.equal(baseline.cost.backwardPassesPerImage, 0, 'the baseline runs no backward pass');
  assert.equal(baseline.cost.unetEvaluationsPerImage, 2 * steps);
  const uploaded = board.filter((r: any) => r.run.kind === 'EVALUATE_ONLY');
  assert.ok(uploaded.length > 0 && uploaded.every((r: any) => r.cost === null), 'uploaded images and their rescores have no cost');
  // Run.cost through the leaderboard (a field the board's kept answers do not cover) agrees.
  const viaRuns = (await h.gql(`{ leaderboard(benchmark: "visor-shapes") { cost { secondsPerImage } run { ${COST} } } }`)).data!.leaderboard;
  for (const row of viaRuns) assert.equal(row.run.cost?.secondsPerImage ?? null, row.cost?.secondsPerImage ?? null);
});

test('the leaderboard is never stale: a run that finishes, a better one, a rescore and a deletion show at once, in every API process', async () => {
  // A second API process on the same database, with its own boards in memory.
  const other = await createApiServer({
    databaseUrl: h.postgres.url('ingest'),
    redisUrl: h.redis.url,
    artifactDir: h.artifactDir,
    port: 0,
    logger: pino({ level: 'silent' }),
    sweepIntervalMs: 0,
    reconcileIntervalMs: 0,
  });
  try {
    const QUERY =
      'query ($model: String) { leaderboard(benchmark: "visor-shapes", model: $model, sort: { metric: "OA" }) { rank run { id } metrics { key value } } }';
    const board = async (url: string, model?: string) => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: QUERY, variables: { model } }),
      });
      const body = (await response.json()) as {
        data: { leaderboard: { rank: number; run: { id: string }; metrics: { key: string; value: number | null }[] }[] };
      };
      return body.data.leaderboard.map((row) => ({ id: row.run.id, OA: row.metrics.find((m) => m.key === 'OA')?.value ?? null }));
    };
    /** The finished runs by their stored OA, best first (ties: the earlier finished first), as both APIs must rank them now. */
    const expected = async (model?: string) => {
      const runs = await h.prisma.run.findMany({
        where: { status: 'FINISHED', benchmark: { name: 'visor-shapes' }, ...(model && { model: { name: model } }) },
        include: { aggregates: { where: { relation: '', metricKey: 'OA' } } },
      });
      return runs
        .map((run) => ({ id: run.id, OA: run.aggregates[0]?.value ?? null, finishedAt: run.finishedAt!.getTime() }))
        .sort((a, b) => (a.OA === null || b.OA === null ? (a.OA === null ? 1 : 0) - (b.OA === null ? 1 : 0) : b.OA - a.OA || a.finishedAt - b.finishedAt))
        .map(({ id, OA }) => ({ id, OA }));
    };
    const check = async (what: string) => {
      for (const model of [undefined, 'tiny-test']) {
        const want = await expected(model);
        // Twice each: the second answer comes from memory where nothing changed.
        for (const url of [h.api.url, other.url, h.api.url, other.url])
          assert.deepEqual(await board(url, model), want, `${what} (${url}, model ${model ?? 'any'})`);
      }
      return board(h.api.url);
    };

    const before = await check('before');
    assert.ok(before.length >= 4);
    // Arguments that name nothing are refused, every time (nothing of them is kept).
    for (let i = 0; i < 2; i++) {
      const unknown = await h.gql('{ leaderboard(benchmark: "no-such-benchmark") { rank } }');
      assert.deepEqual(unknown.errors?.[0].extensions?.fieldErrors, [{ path: ['benchmark'], message: "unknown benchmark 'no-such-benchmark'" }]);
      const metric = await h.gql('{ leaderboard(benchmark: "visor-shapes", sort: { metric: "nope" }) { rank } }');
      assert.deepEqual(metric.errors?.[0].extensions?.fieldErrors?.[0].path, ['sort', 'metric']);
    }

    // A run whose every image has both objects detected: OA 100, better than any so far.
    const detected = (prompt: { objects: string[] }): Detection[] => [
      { label: prompt.objects[0], score: 0.9, box: [10, 10, 20, 20] },
      { label: prompt.objects[1], score: 0.9, box: [30, 30, 40, 40] },
    ];
    const best = await submit({ seed: 21 });
    for (const chunk of [0, 1]) await deliver(await generated(best, chunk), (run) => run.imagesGenerated === 10 * (chunk + 1));
    await deliver(await evaluated(best, 0, 0, detected), (run) => run.imagesEvaluated === 10);
    await deliver(await evaluated(best, 1, 0, detected), (run) => run.status === 'FINISHED');
    const withBest = await check('after a better run finished');
    assert.deepEqual(withBest[0], { id: best, OA: 100 });
    assert.equal(withBest.length, before.length + 1);

    // Rescored at another threshold: the new run ranks next to it (same figure, finished later).
    const rescore = await h.gql('mutation ($id: ID!) { rescoreRun(runId: $id, threshold: 0.5) { run { id } } }', { id: best }, h.tokens.alpha);
    assert.equal(rescore.errors, undefined, JSON.stringify(rescore.errors));
    const rescored = rescore.data!.rescoreRun.run.id;
    await deliver(await evaluated(rescored, 0, 0, detected), (run) => run.imagesEvaluated === 10);
    await deliver(await evaluated(rescored, 1, 0, detected), (run) => run.status === 'FINISHED');
    const withRescore = await check('after a rescore finished');
    assert.deepEqual(withRescore.slice(0, 2), [
      { id: best, OA: 100 },
      { id: rescored, OA: 100 },
    ]);

    // Deleted, through one API: gone from both at once.
    const deleted = await h.gql('mutation ($id: ID!) { deleteRun(id: $id) { id } }', { id: best }, h.tokens.alpha);
    assert.equal(deleted.errors, undefined, JSON.stringify(deleted.errors));
    const afterDelete = await check('after the best run was deleted');
    assert.ok(!afterDelete.some((row) => row.id === best));
    assert.deepEqual(afterDelete[0], { id: rescored, OA: 100 });
  } finally {
    await other.close();
  }
});
