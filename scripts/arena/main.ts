/**
 * `npm run arena` (scripts/arena.mjs installs what a fresh clone lacks first): every registered method
 * on the bundled model through the platform. It starts the platform as the demo does (PostgreSQL and
 * Redis of its own under .arena/, or DATABASE_URL / REDIS_URL; migrated and seeded; the API and a
 * worker as processes), then through GraphQL: each guided method's strength over its grid on the
 * VISOR-Shapes tune split (1 image per prompt), the pick (highest VISOR_cond) on the eval split
 * (4 images per prompt, seed 42) beside the baseline, the API's paired tests against the baseline and
 * InfSplign; prints the Markdown and writes it to --out. It stops what it started; exit 1 on failure.
 * Finished runs are reused by a second arena (data stays in .arena/).
 *
 *   npm run arena -- [--limit N] [--images-per-prompt N] [--out FILE]
 *
 * Ports: ARENA_API_PORT (4010), ARENA_PG_PORT (54339), ARENA_REDIS_PORT (63791),
 * ARENA_WORKER_HEALTH_PORT (4110); ARENA_WORKER_CONCURRENCY (1) jobs at a time in the worker;
 * ARENA_STATE (.arena) the state folder.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { graphqlClient, prepareDatabase, startApiAndWorker, startDatabases, stopServices, type LocalPlatform } from '../lib/local-platform.ts';
import { requireFreePort, tail, waitHealthy } from '../demo/services.ts';
import { BASELINE, entrants, INFSPLIGN, pickStrength } from './plan.ts';
import { arenaMarkdown, type EvalRow, type TuneRow } from './report.ts';
import { ARENA_SEED, compare, costQuery, describeRequest, readOutcome, submit, waitForRuns, type RunOutcome, type RunRequest } from './runs.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN_LABEL = 'npm run arena';
const TUNE_IMAGES_PER_PROMPT = 1;

const port = z.coerce.number().int().min(1).max(65535);
const envSchema = z.object({
  ARENA_API_PORT: port.default(4010),
  ARENA_PG_PORT: port.default(54339),
  ARENA_REDIS_PORT: port.default(63791),
  ARENA_WORKER_HEALTH_PORT: port.default(4110),
  ARENA_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  ARENA_STATE: z.string().min(1).default('.arena'),
  DATABASE_URL: z.string().optional(),
  REDIS_URL: z.string().optional(),
});

const positive = (name: string, max: number) =>
  z
    .string()
    .regex(/^[1-9]\d*$/, `--${name} must be a positive integer`)
    .transform(Number)
    .refine((n) => n <= max, `--${name} must be at most ${max}`);
const argsSchema = z.object({
  limit: positive('limit', 240).optional(),
  'images-per-prompt': positive('images-per-prompt', 8).default(4),
  out: z.string().min(1, '--out must name a file').optional(),
});

let platform: LocalPlatform | null = null;
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping && platform) {
    stopping = true;
    await stopServices(platform.started);
  }
  process.exit(code);
}

function fail(message: string): Promise<never> {
  console.error(`\narena: ${message}`);
  return stopAll(1);
}

function step(text: string): void {
  console.log(`\n== ${text}`);
}

/** Writes the file whole or not at all. */
function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

async function main(): Promise<void> {
  let parsedArgs;
  try {
    parsedArgs = parseArgs({ options: { limit: { type: 'string' }, 'images-per-prompt': { type: 'string' }, out: { type: 'string' } } }).values;
  } catch (err) {
    console.error(`arena: ${(err as Error).message}\nusage: npm run arena -- [--limit N] [--images-per-prompt N] [--out FILE]`);
    process.exit(2);
  }
  const args = argsSchema.safeParse(parsedArgs);
  if (!args.success) {
    console.error(`arena: ${args.error.issues.map((i) => i.message).join('; ')}\nusage: npm run arena -- [--limit N] [--images-per-prompt N] [--out FILE]`);
    process.exit(2);
  }
  const envParsed = envSchema.safeParse(process.env);
  if (!envParsed.success) return void (await fail(`environment: ${envParsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`));
  const env = envParsed.data;
  const limit = args.data.limit ?? null;
  const imagesPerPrompt = args.data['images-per-prompt'];
  const state = resolve(ROOT, env.ARENA_STATE);
  const out = resolve(args.data.out ?? join(state, 'arena.md'));
  const field = entrants(); // before anything starts: a method without a grid is named at once

  platform = {
    state,
    name: 'arena',
    started: [],
    onUnexpectedExit: (name, logFile) => void fail(`${name} stopped unexpectedly; its log ${relative(ROOT, logFile)} ends:\n${tail(logFile)}`),
  };
  process.on('SIGINT', () => {
    console.log(`\nCtrl-C: stopping everything the arena started (finished runs stay in ${relative(ROOT, state)}/)`);
    void stopAll(130);
  });
  process.on('SIGTERM', () => void stopAll(143));
  const t0 = performance.now();

  await requireFreePort(env.ARENA_API_PORT, 'the API', 'ARENA_API_PORT');
  await requireFreePort(env.ARENA_WORKER_HEALTH_PORT, "the worker's health endpoints", 'ARENA_WORKER_HEALTH_PORT');
  step('PostgreSQL and Redis');
  const urls = await startDatabases(
    platform,
    { pg: env.ARENA_PG_PORT, redis: env.ARENA_REDIS_PORT },
    { databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL },
  );
  step('Migrate and seed');
  const token = await prepareDatabase(platform, urls.databaseUrl, 'arena', TOKEN_LABEL);
  step('API and worker');
  const { api, worker, apiUrl } = startApiAndWorker(platform, urls, {
    apiPort: env.ARENA_API_PORT,
    workerHealthPort: env.ARENA_WORKER_HEALTH_PORT,
    workerConcurrency: env.ARENA_WORKER_CONCURRENCY,
  });
  await waitHealthy(`${apiUrl}/readyz`, api, 120_000);
  await waitHealthy(`http://127.0.0.1:${env.ARENA_WORKER_HEALTH_PORT}/readyz`, worker, 120_000);
  console.log(
    `API ${apiUrl}/graphql, worker (generate + evaluate, ${env.ARENA_WORKER_CONCURRENCY} at a time); logs in ${relative(ROOT, join(state, 'logs'))}/`,
  );
  const gql = graphqlClient(apiUrl, token);
  const cost = await costQuery(gql);
  if (!cost) console.log('note: this API serves no Run.cost: seconds and evaluations per image read n/a');

  const scope = limit === null ? 'all prompts' : `the first ${limit} prompts`;
  const tuneRequests: RunRequest[] = field.flatMap((e) =>
    e.tuning
      ? e.tuning.grid.map((value) => ({
          method: e.method,
          split: 'tune' as const,
          params: { [e.tuning!.strength]: value },
          imagesPerPrompt: TUNE_IMAGES_PER_PROMPT,
          limit,
        }))
      : [],
  );
  const baselineEval: RunRequest = { method: BASELINE, split: 'eval', params: {}, imagesPerPrompt, limit };
  step(
    `Tune: ${tuneRequests.length} runs on the tune split (${scope} x ${TUNE_IMAGES_PER_PROMPT} image), and the baseline on the eval split (${scope} x ${imagesPerPrompt} images), seed ${ARENA_SEED}`,
  );
  const first = [...tuneRequests, baselineEval];
  const firstRuns = [];
  for (const request of first) {
    const { id, reused } = await submit(gql, request);
    console.log(`submitted ${describeRequest(request)}: run ${id.slice(0, 8)}${reused ? ' (identical run finished or in flight: reused)' : ''}`);
    firstRuns.push({ id, request });
  }
  await waitForRuns(gql, firstRuns, t0);
  const outcomes = new Map<RunRequest, RunOutcome>();
  for (const { id, request } of firstRuns) outcomes.set(request, await readOutcome(gql, id, request, cost));

  const evalRequests: RunRequest[] = [];
  const tuneRows: TuneRow[] = [];
  for (const entrant of field) {
    if (!entrant.tuning) continue;
    const { strength } = entrant.tuning;
    const tried = tuneRequests.filter((r) => r.method === entrant.method).map((r) => outcomes.get(r)!);
    const pick = pickStrength(
      entrant.method,
      tried.map((o) => ({ value: o.request.params[strength]!, visorCond: o.metrics.VISOR_cond?.value ?? null })),
    );
    for (const o of tried) tuneRows.push({ outcome: o, strength: `${strength} = ${o.request.params[strength]}`, picked: o.request.params[strength] === pick });
    console.log(
      `${entrant.method}: ${strength} = ${pick} (VISOR_cond on tune: ${tried.map((o) => `${o.request.params[strength]}: ${o.metrics.VISOR_cond?.value?.toFixed(1) ?? 'n/a'}`).join(', ')})`,
    );
    evalRequests.push({ method: entrant.method, split: 'eval', params: { [strength]: pick }, imagesPerPrompt, limit });
  }

  step(`Eval: each guided method at its pick on the eval split (${scope} x ${imagesPerPrompt} images), seed ${ARENA_SEED}`);
  const evalRuns = [];
  for (const request of evalRequests) {
    const { id, reused } = await submit(gql, request);
    console.log(`submitted ${describeRequest(request)}: run ${id.slice(0, 8)}${reused ? ' (identical run finished or in flight: reused)' : ''}`);
    evalRuns.push({ id, request });
  }
  await waitForRuns(gql, evalRuns, t0);
  for (const { id, request } of evalRuns) outcomes.set(request, await readOutcome(gql, id, request, cost));

  const evalOutcomes = [baselineEval, ...evalRequests].map((r) => outcomes.get(r)!);
  const baselineId = outcomes.get(baselineEval)!.id;
  const infsplignId = evalOutcomes.find((o) => o.request.method === INFSPLIGN)!.id;
  const evalRows: EvalRow[] = [];
  for (const outcome of evalOutcomes) {
    const [name, value] = Object.entries(outcome.request.params)[0] ?? [];
    evalRows.push({
      outcome,
      strength: name === undefined ? null : `${name} = ${value}`,
      versusBaseline: outcome.id === baselineId ? null : await compare(gql, baselineId, outcome.id, 'VISOR_cond'),
      versusInfsplign: outcome.id === infsplignId ? null : await compare(gql, infsplignId, outcome.id, 'VISOR_cond'),
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  const devices = [...new Set([...outcomes.values()].map((o) => o.cost?.device).filter((d): d is string => !!d))];
  const markdown = arenaMarkdown(
    {
      evalPrompts: evalOutcomes[0]!.promptsScored,
      imagesPerPrompt,
      tunePrompts: tuneRows[0]?.outcome.promptsScored ?? 0,
      seed: ARENA_SEED,
      devices,
      date: new Date().toISOString().slice(0, 10),
      seconds,
    },
    evalRows,
    tuneRows,
  );
  step('Result');
  console.log(markdown);
  writeAtomically(out, markdown);
  console.log(`written to ${relative(process.cwd(), out) || out}; the arena took ${(seconds / 60).toFixed(1)} min`);
  await stopAll(0);
}

main().catch((err: Error) => fail(err.message));
