/**
 * `npm run bench:attacks`: issue 14's attacks on the API's availability, each run against a stack
 * like the demo's (the API as its own process, `node apps/api/src/main.ts`, with its default limits and
 * a WEB_PROXY_SECRET; a throwaway PostgreSQL and Redis on 127.0.0.1, migrated and seeded), while a
 * prober in a thread of its own (so that the attack's own work here does not delay it) asks for
 * /healthz every 10 ms. Prints per attack what the API answered and the /healthz
 * latency during it (target: under 100 ms at p95 and max on 2 cores), then the artifact route's p50
 * idle and under 200 forged-token requests (target: under 2x idle).
 *
 * Every attack is a bounded loop that stops by itself:
 * - big plan: submitRun of the whole VISOR set x 4 images (25,280 scored prompts, 101,120 images,
 *   3,160 chunks), then the same x 16 (refused by the run-size cap), then cancelRun;
 * - introspection aliases: 1,000 aliases of `__schema { types { ... } }` (too long to parse), 250
 *   (priced and refused) and the standard whole-schema introspection (answered, charged), 20 each;
 * - costly queries: 400 aliases of `runs(first: 100)` and 100 of compareRuns, 20 times;
 * - forged tokens: 200 mutations with made-up tokens, 20 at once;
 * - spoofed X-Forwarded-For: 200 mutations without a token, each claiming another address;
 * - oversized bodies: 40 bodies of 5 MB to /graphql;
 * - junk values: 200 requests with NUL characters, garbage cursors and LIKE wildcards.
 *
 * Options: --probe-ms N (10). Environment: BENCH_API_LOG (the API's log level, warn).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getIntrospectionQuery } from 'graphql';
import { Worker } from 'node:worker_threads';
import { LocalArtifactStore } from '@infsplign/workers/artifacts';
import { freePort } from '../../../test/support/free-port.ts';
import { startPostgres, type PostgresServer } from '../../../test/support/postgres.ts';
import { startRedis, type RedisServer } from '../../../test/support/redis.ts';
import { createToken } from '../src/auth/tokens.ts';
import { closePrisma, createPrisma } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { seed } from '../src/db/seed.ts';
import { closeBench, loads, percentile, positive, table } from './support.ts';

const { values: options } = parseArgs({ options: { 'probe-ms': { type: 'string', default: '10' } } });
const PROBE_MS = positive(options['probe-ms'], '--probe-ms');
const ROOT = resolve(import.meta.dirname, '../../..');
const HEALTHZ_TARGET_MS = 100;
const ARTIFACT = 'uploads/bench/1_0.png';

const log = (line: string) => console.error(`bench:attacks: ${line}`);

interface Answer {
  status: number;
  code: string;
}

/** One request to /graphql; the answer's HTTP status and first error code (or 'data'). */
async function gql(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  let code: string;
  try {
    code = (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code ?? 'data';
  } catch {
    code = 'not JSON';
  }
  return { status: response.status, code };
}

const request = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });

/** Runs `tasks` with at most `concurrency` in flight; answers their results in order. */
async function pooled<T>(tasks: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

/** The prober: a thread that fetches /healthz every `ms` until told to stop, then posts the latencies. */
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const latencies = [];
let running = true;
parentPort.once('message', () => { running = false; });
(async () => {
  while (running) {
    const started = performance.now();
    const response = await fetch(workerData.url + '/healthz');
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, workerData.ms));
  }
  parentPort.postMessage(latencies);
})();
`;

/** /healthz every PROBE_MS, from a thread of its own, until stopped: its latencies in ms. */
function probe(url: string): { stop(): Promise<number[]> } {
  const thread = new Worker(PROBER, { eval: true, workerData: { url, ms: PROBE_MS } });
  return {
    async stop() {
      const [latencies] = (await Promise.all([once(thread, 'message'), thread.postMessage('stop')]))[0] as [number[]];
      await thread.terminate();
      return latencies;
    },
  };
}

interface Measured {
  attack: string;
  ms: number;
  answers: string;
  healthz: number[];
}

/** Runs the attack with the prober going; what it answered, counted by HTTP status and code. */
async function measure(url: string, attack: string, run: () => Promise<Answer[]>): Promise<Measured> {
  log(`${attack} ...`);
  const prober = probe(url);
  const started = performance.now();
  const answers = await run();
  const ms = performance.now() - started;
  const healthz = (await prober.stop()).sort((a, b) => a - b);
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(`${a.status} ${a.code}`, (counts.get(`${a.status} ${a.code}`) ?? 0) + 1);
  return { attack, ms, answers: [...counts].map(([k, n]) => `${n}x ${k}`).join(', '), healthz };
}

/** Artifact GETs, 4 at a time: their latencies in ms, sorted. */
async function artifactLatencies(url: string, count: number): Promise<number[]> {
  const latencies = await pooled(
    Array.from({ length: count }, () => async () => {
      const started = performance.now();
      const response = await fetch(`${url}/artifacts/${ARTIFACT}`);
      if (response.status !== 200) throw new Error(`/artifacts answered HTTP ${response.status}`);
      await response.arrayBuffer();
      return performance.now() - started;
    }),
    4,
  );
  return latencies.sort((a, b) => a - b);
}

async function startApi(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/api/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: process.env.BENCH_API_LOG ?? 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { child, url };
    if (Date.now() > deadline) throw new Error('the API was not ready within 120 s');
    await new Promise((r) => setTimeout(r, 250));
  }
}

const started: { postgres?: PostgresServer; redis?: RedisServer; scratch: string } = { scratch: mkdtempSync(join(tmpdir(), 'infsplign-bench-attacks-')) };
let api: ChildProcess | undefined;
try {
  started.postgres = await startPostgres();
  started.redis = await startRedis();
  const databaseUrl = await started.postgres.createDatabase('attacks');
  await migrate(databaseUrl);
  const prisma = createPrisma(databaseUrl);
  const registryFile = join(started.scratch, 'registry.json');
  writeFileSync(registryFile, '{}');
  let token: string;
  try {
    log('seeding the catalogue and the prompt sets (the whole VISOR set among them) ...');
    await seed(prisma, { registryFile });
    await prisma.model.create({
      data: {
        name: 'bench-model',
        family: 'custom',
        location: '/nonexistent',
        defaultParams: { sampler: { cfg_scale: 7.5, steps: 4 }, methods: { infsplign: { layers: ['up_blocks.1.attentions.0.transformer_blocks.0.attn2'] } } },
      },
    });
    const team = await prisma.team.create({ data: { name: 'bench' } });
    token = (await createToken(prisma, team.id, 'bench:attacks')).token;
  } finally {
    await closePrisma(prisma);
  }
  const artifactDir = join(started.scratch, 'artifacts');
  await new LocalArtifactStore(artifactDir).put(ARTIFACT, new Uint8Array(24 * 1024).fill(7));
  const secret = 'b'.repeat(64);
  const spawned = await startApi({ DATABASE_URL: databaseUrl, REDIS_URL: started.redis.url, ARTIFACT_DIR: artifactDir, WEB_PROXY_SECRET: secret });
  api = spawned.child;
  const url = spawned.url;
  const auth = { authorization: `Bearer ${token}` };
  const loadBefore = loads();

  const idleHealthz = await measure(url, 'idle (nothing but the prober, 2 s)', async () => {
    await new Promise((r) => setTimeout(r, 2000));
    return [];
  });
  const idleArtifacts = await artifactLatencies(url, 200);

  const results: Measured[] = [idleHealthz];
  const SUBMIT = 'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id progress { totalImages } } } }';
  const visor = {
    kind: 'GENERATE_AND_EVALUATE',
    benchmark: 'visor',
    promptSet: 'full',
    model: 'bench-model',
    method: 'baseline',
    detector: 'shapes',
    imagesPerPrompt: 4,
  };
  let bigRun: string | undefined;
  results.push(
    await measure(url, 'big plan: submitRun VISOR full x 4 (101,120 images), then x 16 (over the cap), then cancelRun', async () => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: request(SUBMIT, { input: visor }),
      });
      const body = (await response.json()) as { data?: { submitRun: { run: { id: string } } }; errors?: { extensions?: { code?: string } }[] };
      bigRun = body.data?.submitRun.run.id;
      const first = { status: response.status, code: body.errors?.[0]?.extensions?.code ?? 'data' };
      const capped = await gql(url, request(SUBMIT, { input: { ...visor, imagesPerPrompt: 16 } }), auth);
      const cancelled = bigRun
        ? await gql(url, request('mutation ($id: ID!) { cancelRun(id: $id) { id } }', { id: bigRun }), auth)
        : { status: 0, code: 'no run' };
      return [first, capped, cancelled];
    }),
  );

  const aliases = (n: number) =>
    `{ ${Array.from({ length: n }, (_, i) => `a${i}: __schema { types { name kind fields { name type { name } } } }`).join(' ')} }`;
  const introspections = [aliases(1000), aliases(250), getIntrospectionQuery()];
  results.push(
    await measure(url, 'introspection: 1,000 and 250 aliases of __schema { types { ... } }, the whole schema; 20 each, 4 at once', () =>
      pooled(
        Array.from({ length: 60 }, (_, i) => () => gql(url, request(introspections[i % 3]))),
        4,
      ),
    ),
  );

  const costly = `{ ${Array.from({ length: 400 }, (_, i) => `r${i}: runs(first: 100) { totalCount edges { node { id timeline { status } } } }`).join(' ')} }`;
  const comparisons = `{ ${Array.from({ length: 100 }, (_, i) => `c${i}: compareRuns(a: "${bigRun ?? '00000000-0000-4000-8000-000000000000'}", b: "${bigRun ?? '00000000-0000-4000-8000-000000000000'}") { pairs mcnemarP }`).join(' ')} }`;
  results.push(
    await measure(url, 'costly queries: 400 aliases of runs(first: 100), 100 of compareRuns, 20 requests, 4 at once', () =>
      pooled(
        Array.from({ length: 20 }, (_, i) => () => gql(url, request(i % 2 ? costly : comparisons))),
        4,
      ),
    ),
  );

  const forged = (i: number) => `isa_${i.toString(16).padStart(12, '0')}_${'f'.repeat(43)}`;
  const forgedRequests = Array.from(
    { length: 200 },
    (_, i) => () => gql(url, request('mutation { createUpload { prefix } }'), { authorization: `Bearer ${forged(i)}` }),
  );
  let underForgery: number[] = [];
  results.push(
    await measure(url, 'forged tokens: 200 mutations with made-up tokens, 20 at once (artifact GETs alongside)', async () => {
      const [answers, artifacts] = await Promise.all([pooled(forgedRequests, 20), artifactLatencies(url, 200)]);
      underForgery = artifacts;
      return answers;
    }),
  );

  results.push(
    await measure(url, 'spoofed X-Forwarded-For: 200 mutations without a token, each claiming another address', () =>
      pooled(
        Array.from(
          { length: 200 },
          (_, i) => () =>
            gql(url, request('mutation ($id: ID!) { cancelRun(id: $id) { id } }', { id: '00000000-0000-4000-8000-000000000000' }), {
              'x-forwarded-for': `203.0.113.${i % 250}`,
              'x-real-ip': `203.0.113.${i % 250}`,
            }),
        ),
        10,
      ),
    ),
  );

  const big = 'x'.repeat(5 * 1024 * 1024);
  results.push(
    await measure(url, 'oversized bodies: 40 bodies of 5 MB, 4 at once', () =>
      pooled(
        Array.from({ length: 40 }, () => () => gql(url, JSON.stringify({ query: '{ models { name } }', variables: { junk: big } }))),
        4,
      ),
    ),
  );

  const junk = [
    request('query ($t: String) { images(runId: "00000000-0000-4000-8000-000000000000", filter: { text: $t }) { totalCount } }', { t: 'a\u0000' }),
    request('{ runs(after: "WzIxNDc0ODM2NDgsMF0") { totalCount } }'),
    request('query ($id: ID!) { images(runId: $id, filter: { text: "%" }) { totalCount } }', { id: bigRun }),
    request('{ runs(filter: { team: "%\\u0000" }) { totalCount } }'),
  ];
  results.push(
    await measure(url, 'junk values: 200 requests with NUL characters, garbage cursors, LIKE wildcards', () =>
      pooled(
        Array.from({ length: 200 }, (_, i) => () => gql(url, junk[i % junk.length])),
        10,
      ),
    ),
  );

  const p = (sorted: number[], q: number) => (sorted.length ? percentile(sorted, q).toFixed(1) : '-');
  const rows = [['attack', 'took s', '/healthz n', 'p50 ms', 'p95 ms', 'max ms', `over ${HEALTHZ_TARGET_MS} ms`, 'answers']];
  for (const r of results) {
    const max = r.healthz.at(-1) ?? 0;
    rows.push([
      r.attack,
      (r.ms / 1000).toFixed(1),
      String(r.healthz.length),
      p(r.healthz, 50),
      p(r.healthz, 95),
      max.toFixed(1),
      String(r.healthz.filter((ms) => ms >= HEALTHZ_TARGET_MS).length),
      r.answers || '-',
    ]);
  }
  console.log(
    `\nThe API as a process (default limits, WEB_PROXY_SECRET set), PostgreSQL and Redis on 127.0.0.1; /healthz probed every ${PROBE_MS} ms from a thread of this process (target: under ${HEALTHZ_TARGET_MS} ms; the idle row shows what the machine's other load adds); load average before ${loadBefore}, after ${loads()}.\n`,
  );
  console.log(table(rows));
  const idleP50 = percentile(idleArtifacts, 50);
  const forgedP50 = underForgery.length ? percentile(underForgery, 50) : NaN;
  console.log(
    `\nartifact GET p50: idle ${idleP50.toFixed(1)} ms, under 200 forged-token requests ${forgedP50.toFixed(1)} ms: ${(forgedP50 / idleP50).toFixed(2)}x (target under 2x)`,
  );
} catch (err) {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
} finally {
  if (api && api.exitCode === null) {
    api.kill('SIGTERM');
    await once(api, 'exit');
  }
  await closeBench(started, log);
}
