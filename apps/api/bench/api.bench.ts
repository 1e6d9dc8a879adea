/**
 * `npm run bench:api`: the API's read latency on a database of 1,000,000 per-image scores, and the
 * ingester's throughput through the real `results` queue. A measurement, not a test: it prints the
 * figures next to the targets (leaderboard p95 under 50 ms; ingestion at least 2,000 image results
 * per second) and exits 0 either way; only an error exits non-zero.
 *
 * 1. A throwaway PostgreSQL and Redis (test/support), migrated and seeded as for the tests.
 * 2. Bulk data in plain SQL (INSERT ... SELECT over generate_series, FK triggers off for the load):
 *    RUNS finished VISOR runs of PROMPTS_PER_RUN prompts x 4 images across a few teams, models,
 *    methods, configurations and detectors, with their images, per-image scores, detections, status
 *    timeline and aggregates (overall and per relation); then VACUUM ANALYZE.
 * 3. The API in-process (createApiServer), queried over HTTP at /graphql: `leaderboard` (all runs of
 *    the benchmark, and one model's) and a run page (`run(id)` with progress, timeline and aggregates,
 *    plus the first page of `images(filter: {correct: false})` with prompts, detections and scores),
 *    sequentially, p50 and p95 over REQUESTS after WARMUP.
 * 4. A fresh EVALUATE_ONLY run of INGEST_IMAGES images: its ImagesEvaluated messages (one per chunk
 *    of CHUNK_PROMPTS prompts x 4 images, as evaluate workers send them) go onto `results` with
 *    sendResult; the clock runs from the first send until the ingester has written every score row
 *    (the run's progress count, polled, checked against the rows). The run has one chunk more: its
 *    message is sent after that and timed until the run is FINISHED (aggregates computed).
 *
 * Options: --runs N (250), --requests N (200), --ingest-images N (20000).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { canonicalConfig, canonicalJson, configHash, defaultParams, type ImagesEvaluated, resolveParams } from '@infsplign/workers/contracts';
import { sendResult } from '@infsplign/workers/queues';
import pg from 'pg';
import { pino } from 'pino';
import { startPostgres, type PostgresServer } from '../../../test/support/postgres.ts';
import { startRedis, type RedisServer } from '../../../test/support/redis.ts';
import { closePrisma, createPrisma } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { seed } from '../src/db/seed.ts';
import { CHUNK_PROMPTS } from '../src/runs/plan.ts';
import { createApiServer, type ApiServer } from '../src/server.ts';
import { closeBench, LEADERBOARD, LEADERBOARD_VARIABLES, loads, percentile, positive, post, primaryMetricOf, table } from './support.ts';

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '250' },
    requests: { type: 'string', default: '200' },
    'ingest-images': { type: 'string', default: '20000' },
  },
});

const RUNS = positive(options.runs, '--runs');
const REQUESTS = positive(options.requests, '--requests');
const INGEST_IMAGES = positive(options['ingest-images'], '--ingest-images');
const PROMPTS_PER_RUN = 1000;
const IMAGES_PER_PROMPT = 4;
const WARMUP = 20;
const MODELS = [
  { name: 'bench-sd15', family: 'sd1' },
  { name: 'bench-sd21', family: 'sd2' },
  { name: 'bench-sdxl', family: 'sdxl' },
] as const;
const TEAMS = ['bench-alpha', 'bench-beta', 'bench-gamma'];
/** One run in five is a baseline; the rest sweep InfSplign's guidance weight and loss settings. */
const CONFIGS = 40;
const DETECTORS = ['owlvit:models/owlv2-base-patch16-ensemble', 'owlvit:models/owlvit-large-patch14'];
const VISOR_KEYS = ['OA', 'OA_A', 'OA_B', 'VISOR_cond', 'VISOR_uncond', 'VISOR_1', 'VISOR_2', 'VISOR_3', 'VISOR_4'];
const RELATIONS = ['left of', 'right of', 'above', 'below'];

const TARGET_LEADERBOARD_P95_MS = 50;
const TARGET_INGEST_PER_S = 2000;
/** The most time ingestion may take before the bench gives up (an error, not a measurement). */
const INGEST_TIMEOUT_MS = 10 * 60 * 1000;

const started = performance.now();
function log(line: string): void {
  process.stderr.write(`[bench:api ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
}

async function timed<T>(what: string, task: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await task();
  const ms = performance.now() - t0;
  log(`${what}: ${(ms / 1000).toFixed(1)} s`);
  return { value, ms };
}

// ---------------------------------------------------------------------------------------------
// Bulk data

interface Seeded {
  runIds: string[];
  benchmark: string;
  modelFilter: string;
  phases: { what: string; ms: number }[];
  rows: Record<string, number>;
}

/** Method configurations: valid canonical configurations, as submitRun would store them. */
function benchConfigs(): { method: string; canonicalJson: string; hash: string }[] {
  return Array.from({ length: CONFIGS }, (_, i) => {
    const method = i % 5 === 0 ? 'baseline' : 'infsplign';
    const overrides = method === 'baseline' ? { cfg_scale: 5 + (i % 4), steps: 30 + i } : { guidance_weight: 0.5 + i * 0.25, steps: 50, cfg_scale: 7.5 };
    const config = canonicalConfig(method, resolveParams(defaultParams('sd1'), overrides, `bench config ${i}`));
    return { method, canonicalJson: canonicalJson(config), hash: configHash(config) };
  });
}

async function seedBulk(client: pg.Client): Promise<Seeded> {
  const phases: Seeded['phases'] = [];
  const phase = async (what: string, sql: string, params: unknown[] = []) => {
    const { value, ms } = await timed(what, () => client.query(sql, params));
    phases.push({ what, ms });
    return value;
  };
  // A throwaway database: the load skips foreign-key triggers (the rows are consistent by construction).
  await client.query(`SET session_replication_role = replica; SET work_mem = '256MB'; SET maintenance_work_mem = '512MB'`);
  await client.query('SELECT setseed(0.42)');

  await client.query(`INSERT INTO teams (name) SELECT unnest($1::text[])`, [TEAMS]);
  await client.query(
    `INSERT INTO models (name, family, location) SELECT m.name, m.family::model_family, '/nonexistent/' || m.name FROM unnest($1::text[], $2::text[]) AS m(name, family)`,
    [MODELS.map((m) => m.name), MODELS.map((m) => m.family)],
  );
  const configs = benchConfigs();
  await client.query(
    `INSERT INTO method_configs (method_id, canonical_json, hash)
     SELECT (SELECT id FROM methods WHERE name = c.method), c.json, c.hash FROM unnest($1::text[], $2::text[], $3::text[]) AS c(method, json, hash)`,
    [configs.map((c) => c.method), configs.map((c) => c.canonicalJson), configs.map((c) => c.hash)],
  );

  // The runs' prompts: the first PROMPTS_PER_RUN scored (relational) prompts of the full VISOR set.
  await client.query(`
    CREATE TEMP TABLE bench_prompts AS
    SELECT p.id, p.external_id, p.objects, p.relation, (row_number() OVER (ORDER BY p.external_id))::int - 1 AS n
    FROM prompts p JOIN prompt_sets s ON s.id = p.prompt_set_id JOIN benchmarks b ON b.id = s.benchmark_id
    WHERE b.name = 'visor' AND s.name = 'full' AND p.relation IS NOT NULL
    ORDER BY p.external_id LIMIT ${PROMPTS_PER_RUN}`);

  // Runs, one finished a minute apart; each with its generated image set. `quality` sets its figures.
  const t0 = performance.now();
  await client.query(
    `CREATE TEMP TABLE bench_runs AS
     SELECT gen_random_uuid() AS id, g.r,
            (SELECT id FROM teams WHERE name = ($2::text[])[1 + g.r % 3]) AS team_id,
            (SELECT id FROM models WHERE name = ($3::text[])[1 + g.r % 3]) AS model_id,
            c.id AS config_id, c.method_id,
            ($4::text[])[1 + (g.r / 7) % 2] AS detector,
            0.25 + 0.5 * random() AS quality,
            now() - make_interval(mins => $1::int - g.r) AS finished_at
     FROM generate_series(0, $1::int - 1) AS g(r)
     JOIN (SELECT id, method_id, (row_number() OVER (ORDER BY hash))::int - 1 AS n FROM method_configs) c ON c.n = g.r % ${CONFIGS}`,
    [RUNS, TEAMS, MODELS.map((m) => m.name), DETECTORS],
  );
  await client.query(
    `INSERT INTO image_sets (id, kind, team_id, artifact_prefix, image_count, created_at)
     SELECT id, 'GENERATED', team_id, 'runs/' || id, ${PROMPTS_PER_RUN * IMAGES_PER_PROMPT}, finished_at - interval '50 minutes' FROM bench_runs`,
  );
  const chunks = Math.ceil(PROMPTS_PER_RUN / CHUNK_PROMPTS);
  await client.query(
    `INSERT INTO runs (id, team_id, kind, status, model_id, method_config_id, method_id, prompt_set_id, benchmark_id, image_set_id, detector, threshold, seed,
                       images_per_prompt, prompt_limit, scorer_version, prompts_total, images_total, images_generated, images_evaluated,
                       chunks_total, chunks_generated, chunks_evaluated, queued_at, generating_at, evaluating_at, finished_at,
                       execution_provider, device, code_version, created_at, updated_at)
     SELECT r.id, r.team_id, 'GENERATE_AND_EVALUATE', 'FINISHED', r.model_id, r.config_id, r.method_id, s.id, s.benchmark_id, r.id, r.detector, 0.1, r.r,
            ${IMAGES_PER_PROMPT}, ${PROMPTS_PER_RUN}, 'visor/1', ${PROMPTS_PER_RUN}, ${PROMPTS_PER_RUN * IMAGES_PER_PROMPT}, ${PROMPTS_PER_RUN * IMAGES_PER_PROMPT},
            ${PROMPTS_PER_RUN * IMAGES_PER_PROMPT}, ${chunks}, ${chunks}, ${chunks}, r.finished_at - interval '60 minutes', r.finished_at - interval '59 minutes',
            r.finished_at - interval '20 minutes', r.finished_at, 'cuda', 'NVIDIA H100', 'bench', r.finished_at - interval '60 minutes', r.finished_at
     FROM bench_runs r, prompt_sets s JOIN benchmarks b ON b.id = s.benchmark_id
     WHERE b.name = 'visor' AND s.name = 'full'`,
  );
  await client.query(
    `INSERT INTO run_events (run_id, status, at)
     SELECT r.id, e.status::run_status, r.finished_at - e.before
     FROM bench_runs r
     CROSS JOIN (VALUES ('QUEUED', interval '60 minutes'), ('GENERATING', interval '59 minutes'), ('EVALUATING', interval '20 minutes'), ('FINISHED', interval '0')) AS e(status, before)`,
  );
  await client.query(
    `INSERT INTO run_aggregates (run_id, metric_key, relation, value, lower, upper)
     SELECT r.id, k.key, rel.relation, v.value, greatest(v.value - 1.5, 0), least(v.value + 1.5, 100)
     FROM bench_runs r
     CROSS JOIN unnest($1::text[]) WITH ORDINALITY AS k(key, n)
     CROSS JOIN unnest($2::text[]) AS rel(relation)
     CROSS JOIN LATERAL (SELECT round((100 * r.quality * (1 - k.n * 0.04) + 10 * random())::numeric, 4)::float8 AS value) v`,
    [VISOR_KEYS, ['', ...RELATIONS]],
  );
  phases.push({ what: 'runs', ms: performance.now() - t0 });

  // Per-image rows, a slice of runs per statement (each statement ~100,000 images).
  const slice = Math.max(1, Math.floor(100_000 / (PROMPTS_PER_RUN * IMAGES_PER_PROMPT)));
  let imagesMs = 0;
  let scoresMs = 0;
  let detectionsMs = 0;
  for (let from = 0; from < RUNS; from += slice) {
    const range = [from, Math.min(RUNS, from + slice) - 1];
    let t0 = performance.now();
    await client.query(
      `INSERT INTO images (run_id, prompt_id, image_index, artifact_key, width, height, generation_ms, created_at)
       SELECT r.id, p.id, k, 'runs/' || r.id || '/' || p.external_id || '_' || k || '.png', 512, 512, 900 + (random() * 400)::int, r.finished_at - interval '30 minutes'
       FROM bench_runs r CROSS JOIN bench_prompts p CROSS JOIN generate_series(0, ${IMAGES_PER_PROMPT - 1}) AS k
       WHERE r.r BETWEEN $1 AND $2`,
      range,
    );
    imagesMs += performance.now() - t0;
    t0 = performance.now();
    // VISOR outcomes: correct with the run's quality; the failing ones miss an object or get the relation wrong.
    await client.query(
      `INSERT INTO image_scores (image_id, run_id, correct, score, reason, details)
       SELECT i.id, i.run_id, o.correct, CASE WHEN o.correct THEN 1 ELSE 0 END,
              CASE WHEN o.correct THEN NULL WHEN o.a AND o.b THEN 'both objects detected, not ' || p.relation WHEN o.a THEN p.objects[2] || ' not detected' ELSE p.objects[1] || ' not detected' END,
              jsonb_build_object('relation', p.relation, 'a_detected', o.a, 'b_detected', o.b, 'sra', o.correct)
       -- random() in a subquery's select list: one draw per image (an uncorrelated LATERAL would be drawn once)
       FROM (SELECT i.id, i.run_id, i.prompt_id, random() AS u FROM images i JOIN bench_runs r ON r.id = i.run_id WHERE r.r BETWEEN $1 AND $2) i
       JOIN bench_runs r ON r.id = i.run_id
       JOIN bench_prompts p ON p.id = i.prompt_id
       CROSS JOIN LATERAL (SELECT i.u < r.quality AS correct, i.u < r.quality + 0.2 AS a, i.u < r.quality + 0.1 OR i.u > 0.95 AS b) o`,
      range,
    );
    scoresMs += performance.now() - t0;
    t0 = performance.now();
    // Two detections per image: the prompt's two objects.
    await client.query(
      `INSERT INTO detections (image_id, ordinal, label, score, x0, y0, x1, y1)
       SELECT i.id, i.ordinal, p.objects[i.ordinal + 1], round((0.1 + 0.9 * i.s)::numeric, 3)::float8, i.x, i.y, i.x + 80, i.y + 80
       FROM (SELECT i.id, i.prompt_id, d.ordinal, random() AS s, round((random() * 400)::numeric, 1)::float8 AS x, round((random() * 400)::numeric, 1)::float8 AS y
             FROM images i JOIN bench_runs r ON r.id = i.run_id CROSS JOIN generate_series(0, 1) AS d(ordinal) WHERE r.r BETWEEN $1 AND $2) i
       JOIN bench_prompts p ON p.id = i.prompt_id`,
      range,
    );
    detectionsMs += performance.now() - t0;
    log(`per-image rows: runs ${range[1] + 1} / ${RUNS}`);
  }
  phases.push({ what: 'images', ms: imagesMs }, { what: 'image_scores', ms: scoresMs }, { what: 'detections', ms: detectionsMs });
  await client.query('SET session_replication_role = DEFAULT');
  await phase('VACUUM ANALYZE', 'VACUUM (ANALYZE) runs, run_events, run_aggregates, images, image_scores, detections, prompts, image_sets');

  const rows: Record<string, number> = {};
  for (const table of ['runs', 'images', 'image_scores', 'detections', 'run_aggregates', 'prompts']) {
    rows[table] = Number((await client.query(`SELECT count(*)::bigint AS n FROM ${table}`)).rows[0].n);
  }
  const runIds = (await client.query('SELECT id::text AS id FROM bench_runs ORDER BY r')).rows.map((row) => row.id as string);
  return { runIds, benchmark: 'visor', modelFilter: MODELS[1].name, phases, rows };
}

// ---------------------------------------------------------------------------------------------
// Query latency

interface Latency {
  what: string;
  p50: number;
  p95: number;
  max: number;
  detail: string;
}

async function latency(
  api: ApiServer,
  what: string,
  query: string,
  variables: (i: number) => Record<string, unknown>,
  check: (data: Record<string, any>) => string,
): Promise<Latency> {
  let detail = '';
  for (let i = 0; i < WARMUP; i++) detail = check(await post(api.url, query, variables(i)));
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const data = await post(api.url, query, variables(WARMUP + i));
    times.push(performance.now() - t0);
    if (i === 0) detail = check(data);
  }
  times.sort((a, b) => a - b);
  const result = { what, p50: percentile(times, 50), p95: percentile(times, 95), max: times.at(-1)!, detail };
  log(`${what}: p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms (${detail})`);
  return result;
}

const RUN_PAGE = `query ($id: ID!) {
  run(id: $id) {
    id kind status method configHash benchmark detector threshold seed imagesPerPrompt createdAt finishedAt
    team { name } model { name } promptSet { name promptCount }
    progress { prompts totalImages imagesGenerated imagesEvaluated fraction }
    timeline { status at reason }
    aggregates { scorerVersion promptsScored imagesScored metrics { key value low high } byRelation { relation metrics { key value low high } } }
  }
  images(runId: $id, filter: { correct: false }, first: 20) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id imageIndex url width height score correct reason prompt { externalId text objects relation } detections { label score box } } }
  }
}`;

// ---------------------------------------------------------------------------------------------
// Ingestion

interface Ingestion {
  images: number;
  messages: number;
  /** from the first send until the ingester had written every score of the measured messages */
  writtenMs: number;
  /** until the last send returned */
  sentMs: number;
  /** the final message: from its send until the run was FINISHED (its aggregates computed over all images) */
  finishMs: number;
  finishImages: number;
}

/** A fresh EVALUATE_ONLY run of `images` images of the VISOR set's relational prompts, with its ImagesEvaluated messages. */
async function freshRun(client: pg.Client, images: number): Promise<{ runId: string; messages: ImagesEvaluated[] }> {
  const promptCount = Math.ceil(images / IMAGES_PER_PROMPT);
  const prompts = (
    await client.query(
      `SELECT p.id::text AS id, p.objects, p.relation FROM prompts p JOIN prompt_sets s ON s.id = p.prompt_set_id JOIN benchmarks b ON b.id = s.benchmark_id
       WHERE b.name = 'visor' AND s.name = 'full' AND p.relation IS NOT NULL ORDER BY p.external_id LIMIT $1`,
      [promptCount],
    )
  ).rows as { id: string; objects: string[]; relation: string }[];
  if (prompts.length < promptCount) throw new Error(`the VISOR set has ${prompts.length} relational prompts; --ingest-images needs ${promptCount}`);
  const chunks = Math.ceil(promptCount / CHUNK_PROMPTS);
  const { rows } = await client.query(
    `WITH team AS (SELECT id FROM teams WHERE name = $1),
          set AS (INSERT INTO image_sets (kind, team_id, artifact_prefix, image_count) SELECT 'UPLOADED', id, 'uploads/bench-ingest-' || gen_random_uuid(), $2 FROM team RETURNING id, team_id),
          ps AS (SELECT s.id, s.benchmark_id FROM prompt_sets s JOIN benchmarks b ON b.id = s.benchmark_id WHERE b.name = 'visor' AND s.name = 'full'),
          run AS (INSERT INTO runs (team_id, kind, status, prompt_set_id, benchmark_id, image_set_id, detector, threshold, seed, images_per_prompt, prompt_limit, prompts_total, images_total, chunks_total)
                  SELECT set.team_id, 'EVALUATE_ONLY', 'QUEUED', ps.id, ps.benchmark_id, set.id, $5, 0.1, 0, $6, $3, $3, $2, $4 FROM set, ps RETURNING id)
     INSERT INTO run_events (run_id, status) SELECT id, 'QUEUED' FROM run RETURNING run_id::text AS id`,
    [TEAMS[0], images, promptCount, chunks, DETECTORS[0], IMAGES_PER_PROMPT],
  );
  const runId = rows[0].id as string;
  let seedState = 7;
  const random = () => (seedState = (Math.imul(seedState, 1664525) + 1013904223) >>> 0) / 4294967296;
  const messages: ImagesEvaluated[] = [];
  let left = images;
  for (let chunk = 0; chunk < chunks; chunk++) {
    const chunkImages: ImagesEvaluated['images'] = [];
    for (const prompt of prompts.slice(chunk * CHUNK_PROMPTS, (chunk + 1) * CHUNK_PROMPTS)) {
      for (let k = 0; k < IMAGES_PER_PROMPT && left > 0; k++, left--) {
        const [a, b] = prompt.objects;
        const ax = random() * 400;
        const bx = random() * 400;
        const foundB = random() < 0.8;
        const detections = [{ label: a, score: 0.5 + random() / 2, box: [ax, 100, ax + 80, 180] as [number, number, number, number] }];
        if (foundB) detections.push({ label: b, score: 0.3 + random() / 2, box: [bx, 120, bx + 80, 200] });
        const correct = foundB && (prompt.relation === 'left of' ? ax < bx : prompt.relation === 'right of' ? ax > bx : random() < 0.5);
        chunkImages.push({
          promptId: prompt.id,
          imageIndex: k,
          width: 512,
          height: 512,
          detections,
          score: {
            scored: true,
            correct,
            value: correct ? 1 : 0,
            reason: correct ? null : foundB ? `both objects detected, not ${prompt.relation}` : `${b} not detected`,
            details: { relation: prompt.relation, a_detected: true, b_detected: foundB, sra: correct },
          },
        });
      }
    }
    messages.push({
      type: 'ImagesEvaluated',
      runId,
      chunk,
      round: 0,
      detector: DETECTORS[0],
      threshold: 0.1,
      scorerVersion: 'visor/1',
      worker: 'bench:1',
      images: chunkImages,
    });
  }
  return { runId, messages };
}

async function runProgress(client: pg.Client, runId: string): Promise<{ evaluated: number; status: string; reason: string | null }> {
  const { rows } = await client.query(`SELECT images_evaluated AS evaluated, status::text AS status, error_reason AS reason FROM runs WHERE id = $1`, [runId]);
  return rows[0];
}

/** Polls (every 25 ms) until `done` says so; a FAILED run, a failed result message or the time limit is an error. */
async function waitFor(
  api: ApiServer,
  client: pg.Client,
  runId: string,
  t0: number,
  done: (p: { evaluated: number; status: string }) => boolean,
  what: string,
): Promise<number> {
  let lastLogged = 0;
  for (;;) {
    const progress = await runProgress(client, runId);
    const elapsed = performance.now() - t0;
    if (progress.status === 'FAILED') throw new Error(`the ingestion run FAILED: ${progress.reason}`);
    if (done(progress)) return elapsed;
    const [failed] = await api.services.queues.results.getJobs(['failed'], 0, 0);
    if (failed) throw new Error(`the ingester failed result message ${failed.id}: ${failed.failedReason}`);
    if (elapsed > INGEST_TIMEOUT_MS)
      throw new Error(`${what}: not done in ${INGEST_TIMEOUT_MS / 1000} s (${progress.evaluated} images scored, run ${progress.status})`);
    if (elapsed - lastLogged > 5000) {
      lastLogged = elapsed;
      log(`${what}: ${progress.evaluated} images scored`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Sends a fresh run's ImagesEvaluated messages for `images` images through `results` and times the
 * ingester until their scores are written; the run has one chunk more, whose message is sent after
 * that and timed until the run is FINISHED (its aggregates computed over all its images), so that
 * the throughput figure holds writing only.
 */
async function measureIngestion(api: ApiServer, client: pg.Client, images: number): Promise<Ingestion> {
  const chunkImages = CHUNK_PROMPTS * IMAGES_PER_PROMPT;
  const measured = Math.ceil(images / chunkImages) * chunkImages;
  const { runId, messages } = await freshRun(client, measured + chunkImages);
  const last = messages.pop()!;
  log(
    `ingestion: run ${runId}, ${measured} images in ${messages.length} ImagesEvaluated messages of ${CHUNK_PROMPTS} prompts x ${IMAGES_PER_PROMPT} images, then one more to finish it`,
  );
  const results = api.services.queues.results;
  const t0 = performance.now();
  // Several senders at once, as several evaluate workers would be.
  let next = 0;
  const sender = async () => {
    while (next < messages.length) await sendResult(results, messages[next++]);
  };
  const sending = Promise.all(Array.from({ length: 8 }, sender)).then(() => performance.now() - t0);
  const writtenMs = await waitFor(api, client, runId, t0, (p) => p.evaluated >= measured, 'ingestion');
  const sentMs = await sending;
  // The progress count is written with the rows, in their transaction; the rows themselves say the same.
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM image_scores WHERE run_id = $1`, [runId]);
  if (rows[0].n !== measured) throw new Error(`the run reports ${measured} images scored but has ${rows[0].n} score rows`);

  const t1 = performance.now();
  await sendResult(results, last);
  const finishMs = await waitFor(api, client, runId, t1, (p) => p.status === 'FINISHED', 'finishing');
  return { images: measured, messages: messages.length, writtenMs, sentMs, finishMs, finishImages: measured + last.images.length };
}

// ---------------------------------------------------------------------------------------------

const ms = (v: number) => `${v.toFixed(1)} ms`;

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'infsplign-bench-api-'));
  let postgres: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  let api: ApiServer | undefined;
  let client: pg.Client | undefined;
  try {
    log(`${cpus().length} CPUs, load average ${loads()}`);
    postgres = await startPostgres();
    redis = await startRedis();
    const databaseUrl = await postgres.createDatabase('bench');
    await timed('migrate', () => migrate(databaseUrl));
    const prisma = createPrisma(databaseUrl);
    const registryFile = join(scratch, 'registry.json');
    writeFileSync(registryFile, '{}');
    try {
      await timed('seed (catalogue and prompts)', () => seed(prisma, { registryFile }));
    } finally {
      await closePrisma(prisma);
    }
    client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const seedStart = performance.now();
    const seeded = await seedBulk(client);
    const seedMs = performance.now() - seedStart;
    log(`bulk data: ${seeded.rows.image_scores.toLocaleString('en')} image scores in ${(seedMs / 1000).toFixed(1)} s`);

    api = await createApiServer({
      databaseUrl,
      redisUrl: redis.url,
      artifactDir: join(scratch, 'artifacts'),
      port: 0,
      logger: pino({ level: process.env.BENCH_API_LOG ?? 'warn' }),
      sweepIntervalMs: 0,
      reconcileIntervalMs: 0,
    });
    // The start's reconciliation runs in the background; let it finish before timing anything.
    await api.reconcile();

    const loadBefore = loads();
    const board = LEADERBOARD_VARIABLES(seeded.benchmark, await primaryMetricOf(api.url, seeded.benchmark));
    const leaderboardAll = await latency(
      api,
      `leaderboard(benchmark: "${seeded.benchmark}")`,
      LEADERBOARD,
      () => board,
      (data) => `${data.leaderboard.length} rows`,
    );
    const leaderboardModel = await latency(
      api,
      `leaderboard(benchmark: "${seeded.benchmark}", model: "${seeded.modelFilter}")`,
      LEADERBOARD,
      () => ({ ...board, model: seeded.modelFilter }),
      (data) => `${data.leaderboard.length} rows`,
    );
    const runPage = await latency(
      api,
      'run page: run(id) + images(correct: false, first: 20)',
      RUN_PAGE,
      (i) => ({ id: seeded.runIds[(i * 37) % seeded.runIds.length] }),
      (data) =>
        `${data.images.edges.length} of ${data.images.totalCount} failing images, ${data.run.aggregates.metrics.length} metrics x ${data.run.aggregates.byRelation.length + 1}`,
    );
    const loadQueries = loads();

    const ingestion = await measureIngestion(api, client, INGEST_IMAGES);
    const perSecond = ingestion.images / (ingestion.writtenMs / 1000);
    const loadIngest = loads();
    log(
      `ingestion: ${ingestion.images} image results written in ${(ingestion.writtenMs / 1000).toFixed(2)} s (${perSecond.toFixed(0)}/s); the final message and the aggregates over ${ingestion.finishImages} images took ${(ingestion.finishMs / 1000).toFixed(2)} s`,
    );

    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(`\nbench:api  ${new Date().toISOString()}  ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
    console.log(
      `data: ${RUNS} finished runs x ${PROMPTS_PER_RUN} prompts x ${IMAGES_PER_PROMPT} images = ${seeded.rows.image_scores.toLocaleString('en')} image scores, ` +
        `${seeded.rows.detections.toLocaleString('en')} detections, ${seeded.rows.run_aggregates.toLocaleString('en')} aggregates, ${seeded.rows.prompts.toLocaleString('en')} prompts; ` +
        `bulk load ${(seedMs / 1000).toFixed(1)} s (${seeded.phases.map((p) => `${p.what} ${(p.ms / 1000).toFixed(1)} s`).join(', ')})\n`,
    );
    const rows: string[][] = [['measure', 'p50', 'p95', 'max', 'target', 'result', 'notes']];
    rows.push([
      leaderboardAll.what,
      ms(leaderboardAll.p50),
      ms(leaderboardAll.p95),
      ms(leaderboardAll.max),
      `p95 < ${TARGET_LEADERBOARD_P95_MS} ms`,
      verdict(leaderboardAll.p95 < TARGET_LEADERBOARD_P95_MS),
      leaderboardAll.detail,
    ]);
    rows.push([
      leaderboardModel.what,
      ms(leaderboardModel.p50),
      ms(leaderboardModel.p95),
      ms(leaderboardModel.max),
      `p95 < ${TARGET_LEADERBOARD_P95_MS} ms`,
      verdict(leaderboardModel.p95 < TARGET_LEADERBOARD_P95_MS),
      leaderboardModel.detail,
    ]);
    rows.push([runPage.what, ms(runPage.p50), ms(runPage.p95), ms(runPage.max), '-', '-', runPage.detail]);
    rows.push([
      'ingestion through `results` (image results/s)',
      `${perSecond.toFixed(0)}/s`,
      '',
      '',
      `>= ${TARGET_INGEST_PER_S}/s`,
      verdict(perSecond >= TARGET_INGEST_PER_S),
      `${ingestion.images} images in ${ingestion.messages} messages written in ${(ingestion.writtenMs / 1000).toFixed(2)} s (all sent after ${(ingestion.sentMs / 1000).toFixed(2)} s)`,
    ]);
    rows.push([
      'finishing: last message + aggregates',
      ms(ingestion.finishMs),
      '',
      '',
      '-',
      '-',
      `aggregates with bootstrap intervals over ${ingestion.finishImages} images`,
    ]);
    console.log(table(rows));
    console.log(
      `\n${REQUESTS} sequential requests per query after ${WARMUP} warm-up, over HTTP to the in-process API (PostgreSQL ${postgres.port}, Redis ${redis.port} on this machine).`,
    );
    console.log(`load average (1 / 5 / 15 min): before the queries ${loadBefore}; after them ${loadQueries}; after ingestion ${loadIngest}`);
  } finally {
    await closeBench({ api, client, redis, postgres, scratch }, log);
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:api failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
