/**
 * GET /metrics of the API, on real PostgreSQL and Redis: the series and their values after a run's
 * results came through the real `results` queue, and a second API server in the same process that
 * counts only what it saw (each server has a registry of its own).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ChunkFailed } from '@infsplign/workers/contracts';
import { sendResult } from '@infsplign/workers/queues';
import { pino } from 'pino';
import { parseSamples, sampleValue, scrape } from '../../../test/support/prometheus.ts';
import { startRedis } from '../../../test/support/redis.ts';
import { migrate } from '../src/db/migrate.ts';
import { createApiServer } from '../src/server.ts';
import { SUBMIT_STAGES } from '../src/metrics.ts';
import { eventually, startHarness, type Harness } from './support/harness.ts';
import { generatedMessage } from './support/stand-in-worker.ts';

let h: Harness;

before(async () => {
  h = await startHarness('metrics');
});

after(async () => {
  await h?.close();
});

const SUBMIT = 'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } } }';
const INPUT = {
  kind: 'GENERATE_AND_EVALUATE',
  benchmark: 'visor-shapes',
  promptSet: 'eval',
  model: 'tiny-test',
  method: 'baseline',
  detector: 'shapes',
  imagesPerPrompt: 2,
  limit: 10,
};

/** The API's /metrics once `check` passes on it (HTTP durations are recorded as a response finishes, a moment after the client has it). */
async function metricsWhen(url: string, check: (text: string) => boolean): Promise<string> {
  return eventually(
    async () => {
      const { status, contentType, text } = await scrape(`${url}/metrics`);
      assert.equal(status, 200);
      assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/);
      return check(text) ? text : undefined;
    },
    'the expected metrics',
    5000,
  );
}

test('/metrics gives queue depths, runs by status, ingestion counts and lag, run failures by cause, HTTP durations by route and GraphQL errors by code', async () => {
  const submitted = await h.gql(SUBMIT, { input: INPUT }, h.tokens.alpha);
  assert.equal(submitted.errors, undefined, JSON.stringify(submitted.errors));
  const id: string = submitted.data!.submitRun.run.id;
  const { chunksTotal } = await h.prisma.run.findUniqueOrThrow({ where: { id }, select: { chunksTotal: true } });
  assert.ok(chunksTotal >= 2);

  await sendResult(h.api.services.queues.results, await generatedMessage(h, id, 0));
  await eventually(async () => ((await h.prisma.run.findUniqueOrThrow({ where: { id } })).imagesGenerated === 10 ? true : undefined), 'chunk 0 ingested');

  let text = await metricsWhen(h.api.url, (t) => sampleValue(t, 'infsplign_results_ingested_total', { type: 'ImagesGenerated', outcome: 'applied' }) === 1);
  // No worker takes jobs here: every generate chunk waits, and chunk 0's evaluate job since its images came in.
  assert.equal(sampleValue(text, 'infsplign_queue_jobs', { queue: 'generate', state: 'waiting' }), chunksTotal);
  assert.equal(sampleValue(text, 'infsplign_queue_jobs', { queue: 'evaluate', state: 'waiting' }), 1);
  for (const state of ['active', 'delayed', 'failed']) assert.equal(sampleValue(text, 'infsplign_queue_jobs', { queue: 'generate', state }), 0, state);
  assert.equal(sampleValue(text, 'infsplign_queue_jobs', { queue: 'results', state: 'waiting' }), 0);
  assert.ok(sampleValue(text, 'infsplign_queue_oldest_waiting_seconds', { queue: 'generate' })! >= 0);
  assert.equal(sampleValue(text, 'infsplign_runs', { status: 'GENERATING' }), 1);
  assert.equal(sampleValue(text, 'infsplign_runs', { status: 'FAILED' }), 0);
  assert.equal(sampleValue(text, 'infsplign_ingestion_lag_seconds_count', { type: 'ImagesGenerated' }), 1);
  const lag = sampleValue(text, 'infsplign_ingestion_lag_seconds_sum', { type: 'ImagesGenerated' })!;
  assert.ok(lag >= 0 && lag < 10, `lag ${lag} s`);
  assert.equal(sampleValue(text, 'infsplign_ingestion_lag_seconds_bucket', { type: 'ImagesGenerated', le: '+Inf' }), 1);

  // A chunk that ran past its time limit: its ChunkFailed reason becomes the cause `timeout`, never the text.
  const failure: ChunkFailed = {
    type: 'ChunkFailed',
    runId: id,
    chunk: 1,
    round: 0,
    stage: 'generate',
    reason: 'ran past its limit of 7200 s',
    attempt: 1,
    attempts: 3,
  };
  await sendResult(h.api.services.queues.results, failure);
  await eventually(async () => ((await h.prisma.run.findUniqueOrThrow({ where: { id } })).status === 'FAILED' ? true : undefined), 'the run failed');

  // GraphQL errors: an unknown field (validation) and a mutation without a token.
  assert.equal((await h.gql('{ noSuchField }')).errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  assert.equal((await h.gql(SUBMIT, { input: INPUT })).errors?.[0].extensions?.code, 'UNAUTHENTICATED');
  // Two artifacts that are not there, one route; and a path no route answers.
  for (const key of ['a/1.png', 'b/2.png']) assert.equal((await fetch(`${h.api.url}/artifacts/${key}`)).status, 404);
  assert.equal((await fetch(`${h.api.url}/no/such/path`)).status, 404);

  text = await metricsWhen(
    h.api.url,
    (t) => sampleValue(t, 'infsplign_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' }) === 1,
  );
  assert.equal(sampleValue(text, 'infsplign_results_ingested_total', { type: 'ChunkFailed', outcome: 'applied' }), 1);
  assert.equal(sampleValue(text, 'infsplign_run_failures_total', { reason: 'timeout', stage: 'generate' }), 1);
  assert.equal(sampleValue(text, 'infsplign_runs', { status: 'FAILED' }), 1);
  assert.equal(sampleValue(text, 'infsplign_runs', { status: 'GENERATING' }), 0);
  assert.equal(sampleValue(text, 'infsplign_queue_jobs', { queue: 'generate', state: 'waiting' }), 0, "the failed run's waiting jobs are removed");
  assert.equal(sampleValue(text, 'infsplign_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' }), 1);
  assert.equal(sampleValue(text, 'infsplign_graphql_errors_total', { code: 'UNAUTHENTICATED' }), 1);
  assert.equal(sampleValue(text, 'infsplign_http_request_duration_seconds_count', { method: 'GET', route: '/artifacts/*key', status: '404' }), 2);
  assert.equal(
    sampleValue(text, 'infsplign_http_request_duration_seconds_count', { method: 'POST', route: '/graphql', status: '200' }),
    1,
    'the one submitRun that went through',
  );
  assert.ok(sampleValue(text, 'infsplign_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status: '200' })! >= 1);
  // The submission that went through passed every stage once (the refused one none: it had no token).
  for (const stage of SUBMIT_STAGES) assert.equal(sampleValue(text, 'infsplign_submit_stage_seconds_count', { stage }), 1, stage);
  // Label values only: a sample's value (a duration sum such as 0.0172005) may contain any digits.
  const labelValues = parseSamples(text).flatMap((s) => Object.values(s.labels));
  assert.ok(!labelValues.some((v) => v.includes('no/such/path') || v.includes('a/1.png')), 'no URL is a label');
  assert.ok(!labelValues.some((v) => v.includes('7200') || v.includes('ran past')), 'no failure text is a label');
});

test('two API servers in one process each count only their own requests and results; process metrics only where asked for', async () => {
  const redis = await startRedis();
  const databaseUrl = await h.postgres.createDatabase('metrics_second');
  await migrate(databaseUrl);
  const second = await createApiServer({
    databaseUrl,
    redisUrl: redis.url,
    artifactDir: h.artifactDir,
    port: 0,
    logger: pino({ level: 'silent' }),
    sweepIntervalMs: 0,
    reconcileIntervalMs: 0,
    processMetrics: true,
  });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${second.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${h.api.url}/healthz`)).status, 200);
    const healthz = { method: 'GET', route: '/healthz', status: '200' };
    const own = await metricsWhen(second.url, (t) => sampleValue(t, 'infsplign_http_request_duration_seconds_count', healthz) === 3);
    assert.equal(
      sampleValue(own, 'infsplign_results_ingested_total', { type: 'ImagesGenerated', outcome: 'applied' }),
      undefined,
      "the first server's results are not counted here",
    );
    assert.equal(sampleValue(own, 'infsplign_runs', { status: 'FAILED' }), 0);
    assert.equal(sampleValue(own, 'infsplign_queue_jobs', { queue: 'generate', state: 'waiting' }), 0);
    assert.ok(sampleValue(own, 'process_resident_memory_bytes')! > 0, 'process metrics, where asked for');
    const first = await metricsWhen(h.api.url, (t) => sampleValue(t, 'infsplign_http_request_duration_seconds_count', healthz) === 1);
    assert.equal(sampleValue(first, 'infsplign_results_ingested_total', { type: 'ImagesGenerated', outcome: 'applied' }), 1);
    assert.equal(sampleValue(first, 'infsplign_runs', { status: 'FAILED' }), 1);
    assert.equal(sampleValue(first, 'process_resident_memory_bytes'), undefined);
  } finally {
    await second.close();
    await redis.stop();
  }
});
