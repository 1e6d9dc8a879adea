/**
 * `npm run demo`, once the dependencies are there (scripts/demo.mjs): the whole platform on this
 * machine. PostgreSQL and Redis of its own under .demo/ (as root the cluster under
 * /var/lib/postgresql/infsplign-demo/; or DATABASE_URL / REDIS_URL), migrated and
 * seeded; the API, a worker and the web app as processes; a baseline and an InfSplign run of the
 * bundled model submitted through GraphQL, their progress shown; the leaderboard printed; the web
 * app left up until Ctrl-C, which stops everything the demo started. Data stays in .demo/, so a
 * second demo finds the finished runs and shows them at once.
 *
 * `--once` stops everything after printing the leaderboard (for timing it, or a smoke test).
 * Ports: DEMO_API_PORT (4000), DEMO_WEB_PORT (3000), DEMO_PG_PORT (54329), DEMO_REDIS_PORT (63790),
 * DEMO_WORKER_HEALTH_PORT (4100). DEMO_LIMIT (30) prompts x DEMO_IMAGES_PER_PROMPT (4) images per run (VISOR_4 needs 4).
 */
import { randomBytes } from 'node:crypto';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  graphqlClient,
  logsDir,
  prepareDatabase,
  startApiAndWorker,
  startDatabases,
  stopServices,
  type GraphQLClient,
  type LocalPlatform,
} from '../lib/local-platform.ts';
import { ensureWebBuild, startWebApp } from '../lib/web-app.ts';
import { requireFreePort, tail, waitHealthy } from './services.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DEMO_TOKEN_LABEL = 'npm run demo';

const port = z.coerce.number().int().min(1).max(65535);
const envSchema = z.object({
  DEMO_API_PORT: port.default(4000),
  DEMO_WEB_PORT: port.default(3000),
  DEMO_PG_PORT: port.default(54329),
  DEMO_REDIS_PORT: port.default(63790),
  DEMO_WORKER_HEALTH_PORT: port.default(4100),
  DEMO_LIMIT: z.coerce.number().int().min(1).max(240).default(30),
  DEMO_IMAGES_PER_PROMPT: z.coerce.number().int().min(1).max(8).default(4),
  DATABASE_URL: z.string().optional(),
  REDIS_URL: z.string().optional(),
});

let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await stopServices(platform.started);
  }
  process.exit(code);
}

function fail(message: string): Promise<never> {
  console.error(`\ndemo: ${message}`);
  return stopAll(1);
}

const platform: LocalPlatform = {
  state: join(ROOT, '.demo'),
  name: 'demo',
  started: [],
  onUnexpectedExit: (name, logFile) => void fail(`${name} stopped unexpectedly; its log ${relative(ROOT, logFile)} ends:\n${tail(logFile)}`),
};

function step(text: string): void {
  console.log(`\n== ${text}`);
}

const pad = (text: string, width: number) => (text.length >= width ? text : text + ' '.repeat(width - text.length));
const padLeft = (text: string, width: number) => (text.length >= width ? text : ' '.repeat(width - text.length) + text);
const fixed = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(1));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { once: { type: 'boolean', default: false } } });
  const envParsed = envSchema.safeParse(process.env);
  if (!envParsed.success) return void (await fail(`environment: ${envParsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`));
  const env = envParsed.data;
  process.on('SIGINT', () => {
    console.log('\nCtrl-C: stopping everything the demo started (data stays in .demo/)');
    void stopAll(0);
  });
  process.on('SIGTERM', () => void stopAll(0));
  const t0 = performance.now();

  await requireFreePort(env.DEMO_API_PORT, 'the API', 'DEMO_API_PORT');
  await requireFreePort(env.DEMO_WEB_PORT, 'the web app', 'DEMO_WEB_PORT');
  await requireFreePort(env.DEMO_WORKER_HEALTH_PORT, "the worker's health endpoints", 'DEMO_WORKER_HEALTH_PORT');

  step('PostgreSQL and Redis');
  const urls = await startDatabases(platform, { pg: env.DEMO_PG_PORT, redis: env.DEMO_REDIS_PORT }, { databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL });

  step('Migrate and seed (benchmarks, prompt sets, models of models/registry.json, methods)');
  const token = await prepareDatabase(platform, urls.databaseUrl, 'demo', DEMO_TOKEN_LABEL);
  console.log('(sign in with it at /signin to submit and act on runs)');

  step('API, worker and web app');
  // The web app signs each browser's address with it and the API believes only what it signed, so
  // that every browser has its own rate limits (apps/api/src/proxy-contract.ts).
  const webProxySecret = randomBytes(32).toString('hex');
  const { api, worker, apiUrl } = startApiAndWorker(platform, urls, {
    apiPort: env.DEMO_API_PORT,
    workerHealthPort: env.DEMO_WORKER_HEALTH_PORT,
    workerConcurrency: 1,
    apiEnv: { WEB_PROXY_SECRET: webProxySecret, WEB_ORIGIN: `http://127.0.0.1:${env.DEMO_WEB_PORT},http://localhost:${env.DEMO_WEB_PORT}` },
  });
  process.stdout.write('building the web app (next build; skipped when the build is current) ... ');
  const building = ensureWebBuild().then(() => console.log('done'));
  await waitHealthy(`${apiUrl}/readyz`, api, 120_000);
  await waitHealthy(`http://127.0.0.1:${env.DEMO_WORKER_HEALTH_PORT}/readyz`, worker, 120_000);
  await building;
  const web = await startWebApp(apiUrl, env.DEMO_WEB_PORT, '127.0.0.1', webProxySecret);
  platform.started.push({ name: 'web app', stop: () => web.close() });
  web.child.once('exit', () => {
    if (!stopping) void fail(`the web app stopped unexpectedly:\n${web.output()}`);
  });
  console.log(`API      ${apiUrl}/graphql   (log ${relative(ROOT, api.logFile)})`);
  console.log(`worker   generate + evaluate on the CPU   (log ${relative(ROOT, worker.logFile)})`);
  console.log(`web app  ${web.url}`);

  step(
    `Submit a baseline and an InfSplign run of the bundled model: VISOR-Shapes eval, ${env.DEMO_LIMIT} prompts x ${env.DEMO_IMAGES_PER_PROMPT} images, seed 42`,
  );
  const gql = graphqlClient(apiUrl, token);
  const runs: Record<string, string> = {};
  for (const method of ['baseline', 'infsplign']) {
    const input = {
      kind: 'GENERATE_AND_EVALUATE',
      benchmark: 'visor-shapes',
      promptSet: 'eval',
      model: 'bundled',
      method,
      detector: 'shapes',
      seed: 42,
      imagesPerPrompt: env.DEMO_IMAGES_PER_PROMPT,
      limit: env.DEMO_LIMIT,
    };
    const { submitRun } = await gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id } } }', { input });
    runs[method] = submitRun.run.id;
    console.log(`${pad(method, 10)} run ${submitRun.run.id}${submitRun.reused ? '  (identical run finished earlier: reused)' : ''}`);
  }
  await watch(gql, runs);

  step('Leaderboard: visor-shapes, model bundled, ranked by VISOR_cond');
  await printLeaderboard(gql, runs);
  console.log(`\nDemo ready in ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
  console.log(`Web app:      ${web.url}   (leaderboard; runs, compare, sweep, submit and queue pages)`);
  console.log(`Compare:      ${web.url}/compare?a=${runs.baseline}&b=${runs.infsplign}`);
  console.log(`GraphQL API:  ${apiUrl}/graphql`);
  console.log(`Logs:         ${relative(ROOT, logsDir(platform))}/`);
  console.log('Arena:        npm run arena tunes and ranks every method (baseline, infsplign, attend-and-excite, divide-and-bind,');
  console.log("              conform, storm) on the bundled model; the README's arena section has the full run's table.");
  if (values.once) return void (await stopAll(0));
  console.log('\nPress Ctrl-C to stop everything the demo started.');
}

/** Progress until both runs are FINISHED: one line per change (or an updating line on a terminal). */
async function watch(gql: GraphQLClient, runs: Record<string, string>): Promise<void> {
  const QUERY = 'query ($id: ID!) { run(id: $id) { status error progress { totalImages imagesGenerated imagesEvaluated } } }';
  let last = '';
  for (;;) {
    const states = await Promise.all(Object.entries(runs).map(async ([method, id]) => [method, (await gql(QUERY, { id })).run] as const));
    const line = states
      .map(([method, r]) => `${method} ${r.status} ${r.progress.imagesGenerated}/${r.progress.totalImages} generated, ${r.progress.imagesEvaluated} scored`)
      .join('  |  ');
    if (line !== last) {
      if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${line}`);
      else console.log(line);
      last = line;
    }
    const failed = states.find(([, r]) => r.status === 'FAILED' || r.status === 'CANCELLED');
    if (failed) throw new Error(`the ${failed[0]} run ${failed[1].status}: ${failed[1].error}`);
    if (states.every(([, r]) => r.status === 'FINISHED')) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
}

async function printLeaderboard(gql: GraphQLClient, runs: Record<string, string>): Promise<void> {
  const { leaderboard } = await gql(`{ leaderboard(benchmark: "visor-shapes", model: "bundled", sort: { metric: "VISOR_cond" }) {
    rank method isBaseline run { id } metrics { key value low high }
    versusBaseline { beyondNoise primary { difference p } } } }`);
  const metric = (row: any, key: string) => row.metrics.find((m: any) => m.key === key);
  const header = ['#', 'method', 'run', 'OA', 'VISOR_cond [95% CI]', 'VISOR_uncond', 'VISOR_4', 'Δ VISOR_cond vs baseline'];
  const lines = leaderboard.map((row: any) => {
    const cond = metric(row, 'VISOR_cond');
    const versus = row.versusBaseline;
    // VISOR-Shapes' primary metric is VISOR_cond; its paired test is the bootstrap over prompts.
    const delta = versus
      ? `${versus.primary.difference >= 0 ? '+' : ''}${fixed(versus.primary.difference)} (bootstrap p ${versus.primary.p === null ? 'n/a' : `= ${versus.primary.p.toFixed(3)}`}${versus.beyondNoise ? ', beyond noise' : ''})`
      : row.isBaseline
        ? 'baseline'
        : '';
    const mine = Object.values(runs).includes(row.run.id) ? ' *' : '';
    return [
      row.rank === null ? '–' : String(row.rank),
      row.method ?? 'uploaded',
      row.run.id.slice(0, 8) + mine,
      fixed(metric(row, 'OA')?.value),
      `${fixed(cond?.value)} [${fixed(cond?.low)}, ${fixed(cond?.high)}]`,
      fixed(metric(row, 'VISOR_uncond')?.value),
      fixed(metric(row, 'VISOR_4')?.value),
      delta,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l: string[]) => l[i]!.length)));
  const numeric = new Set([0, 3, 4, 5, 6]);
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? padLeft(c, widths[i]!) : pad(c, widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
  console.log("(* this demo's runs; VISOR-Shapes scores with the Shapes detector at the benchmark threshold)");
  const of = (id: string) => leaderboard.find((r: any) => r.run.id === id);
  const [base, guided] = [of(runs.baseline!), of(runs.infsplign!)];
  const [b, g] = [metric(base, 'VISOR_cond')?.value, metric(guided, 'VISOR_cond')?.value];
  console.log(
    g > b
      ? `\nInfSplign beats the baseline: VISOR_cond ${fixed(g)} vs ${fixed(b)}${guided.versusBaseline?.beyondNoise ? ', beyond noise by the paired test' : ', though within noise on this few prompts'}.`
      : `\nOn these prompts InfSplign does not beat the baseline (VISOR_cond ${fixed(g)} vs ${fixed(b)}).`,
  );
}

main().catch((err: Error) => fail(err.message));
