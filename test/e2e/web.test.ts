/**
 * The web app end to end in Debian's Chromium (playwright-core), against its server (apps/web/server.mjs)
 * on a real `next build`, sharing a WEB_PROXY_SECRET with the API in this process on a real PostgreSQL (migrated, seeded with the repository's
 * models) and a real Redis, and a worker process generating with the bundled model. Before the
 * browser opens, a baseline and two InfSplign runs (guidance_weight 30 and 60) of the same prompts
 * are submitted through GraphQL and finish. Each test saves a screenshot of the page it checks to
 * test-results/screenshots/. The proxy's own bounds are checked over HTTP: the body limit, and the
 * browser's address signed for the API's rate limits whatever X-Forwarded-For a client sends.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { createToken } from '../../apps/api/src/auth/tokens.ts';
import { closePrisma, createPrisma, type PrismaClient } from '../../apps/api/src/db/client.ts';
import { migrate } from '../../apps/api/src/db/migrate.ts';
import { seed } from '../../apps/api/src/db/seed.ts';
import { createApiServer, type ApiServer } from '../../apps/api/src/server.ts';
import { launchChromium } from '../support/browser.ts';
import { freePort } from '../support/free-port.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { ensureWebBuild, startWebApp, type WebApp } from '../../scripts/lib/web-app.ts';
import { startWorkerProcess, stopAllWorkers } from '../support/worker-process.ts';

const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
/** prompts of visor-shapes/eval and images each: small enough for seconds of CPU per run */
const LIMIT = 6;
const IMAGES_PER_PROMPT = 2;

let scratch: string;
let postgres: PostgresServer;
let redis: RedisServer;
let prisma: PrismaClient;
let api: ApiServer;
let web: WebApp;
let browser: Browser;
let token: string;
let artifactDir: string;
let databaseUrl: string;
const webProxySecret = randomBytes(32).toString('hex');
const runs: { baseline: string; infsplign: string; strong: string } = { baseline: '', infsplign: '', strong: '' };

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data!;
}

async function submit(method: string, params: Record<string, unknown> = {}): Promise<string> {
  const input = { kind: 'GENERATE_AND_EVALUATE', benchmark: 'visor-shapes', promptSet: 'eval', model: 'bundled', method, params, detector: 'shapes', seed: 42, imagesPerPrompt: IMAGES_PER_PROMPT, limit: LIMIT };
  const data = await gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } } }', { input });
  return data.submitRun.run.id;
}

async function waitFinished(id: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { run } = await gql('query ($id: ID!) { run(id: $id) { status error } }', { id });
    if (run.status === 'FINISHED') return;
    if (run.status === 'FAILED' || run.status === 'CANCELLED') assert.fail(`run ${id} is ${run.status}: ${run.error}`);
    if (Date.now() > deadline) assert.fail(`run ${id} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function openPage(path: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport, acceptDownloads: true });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  (page as Page & { problems?: string[] }).problems = problems;
  const response = await page.goto(`${web.url}${path}`);
  assert.ok(response, `no response for ${path}`);
  assert.equal(response.status(), 200, `${path} answered ${response.status()}`);
  return page;
}

/** Screenshot for the artifacts, and no script error on the page meanwhile. */
async function finish(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  assert.deepEqual((page as Page & { problems?: string[] }).problems, [], `script errors on ${name}`);
  await page.close();
}

const LEADERBOARD = `query ($sort: LeaderboardSort) { leaderboard(benchmark: "visor-shapes", sort: $sort) {
  rank run { id } method isBaseline metrics { key value low high } versusBaseline { baseline { id } beyondNoise deltas { key value } } } }`;

describe('the web app in Chromium against the API, PostgreSQL, Redis and a worker on the bundled model', { timeout: 600_000 }, () => {
  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    scratch = mkdtempSync(join(tmpdir(), 'infsplign-web-e2e-'));
    artifactDir = join(scratch, 'artifacts');
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    databaseUrl = await postgres.createDatabase('web_e2e');
    await migrate(databaseUrl);
    prisma = createPrisma(databaseUrl);
    await seed(prisma);
    token = (await createToken(prisma, (await prisma.team.create({ data: { name: 'e2e' } })).id, 'e2e')).token;
    api = await createApiServer({ databaseUrl, redisUrl: redis.url, artifactDir, port: 0, logger: pino({ level: 'silent' }), sweepIntervalMs: 0, reconcileIntervalMs: 0, webProxySecret });
    startWorkerProcess({ redisUrl: redis.url, artifactDir, queues: 'evaluate,generate' });
    runs.baseline = await submit('baseline');
    runs.infsplign = await submit('infsplign');
    runs.strong = await submit('infsplign', { guidance_weight: 60 });
    // The build and the runs share two cores; the build is the longer.
    await ensureWebBuild();
    for (const id of Object.values(runs)) await waitFinished(id);
    web = await startWebApp(api.url, await freePort(), '127.0.0.1', webProxySecret);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    await stopAllWorkers();
    await api?.close();
    if (prisma) await closePrisma(prisma);
    await redis?.stop();
    await postgres?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the leaderboard lists the three runs with intervals and the baseline delta, and sorts by a column', async () => {
    const page = await openPage('/?benchmark=visor-shapes');
    const rows = page.locator('tbody tr[data-run]');
    assert.equal(await rows.count(), 3);
    assert.equal(await page.locator('tr', { has: page.locator('.tag.baseline') }).count(), 1);
    assert.match((await page.locator(`tr[data-run="${runs.infsplign}"]`).innerText()), /p [=<]/, 'the InfSplign row shows its paired test');

    const byVisor = async (direction: 'ASC' | 'DESC') => (await gql(LEADERBOARD, { sort: { metric: 'VISOR_cond', direction } })).leaderboard.map((r: any) => r.run.id);
    await page.locator('a[data-sort="VISOR_cond"]').click();
    await page.waitForURL(/sort=VISOR_cond&dir=desc/);
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run'))), await byVisor('DESC'));
    await page.locator('a[data-sort="VISOR_cond"]').click();
    await page.waitForURL(/sort=VISOR_cond&dir=asc/);
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run'))), await byVisor('ASC'));

    await page.locator(`tr[data-run="${runs.infsplign}"] summary`).click();
    assert.match(await page.locator(`tr[data-run="${runs.infsplign}"] pre`).innerText(), /"guidance_weight": 30/);
    await finish(page, 'leaderboard');
  });

  test('the leaderboard sorts from the keyboard alone and reads on a phone', async () => {
    const page = await openPage('/?benchmark=visor-shapes', { width: 390, height: 844 });
    let reached = false;
    for (let i = 0; i < 60 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.getAttribute('data-sort') === 'OA');
    }
    assert.ok(reached, 'Tab reaches the OA sort link');
    await page.keyboard.press('Enter');
    await page.waitForURL(/sort=OA/);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page itself scrolls sideways by ${overflow} px on a phone (tables scroll inside their frame)`);
    await finish(page, 'leaderboard-phone');
  });

  test('the CSV export has the API leaderboard rows', async () => {
    const page = await openPage('/?benchmark=visor-shapes');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByText('Export CSV').click()]);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    const header = csv[0]!.split(',');
    const rows = csv.slice(1).map((line) => Object.fromEntries(line.split(',').map((cell, i) => [header[i], cell])));
    const { leaderboard } = await gql(LEADERBOARD, {});
    assert.equal(rows.length, leaderboard.length);
    leaderboard.forEach((expected: any, i: number) => {
      const row = rows[i]!;
      assert.equal(row.run_id, expected.run.id);
      assert.equal(row.rank, String(expected.rank));
      assert.equal(row.method, expected.method);
      assert.equal(row.is_baseline, String(expected.isBaseline));
      assert.equal(row.baseline_run_id, expected.versusBaseline?.baseline.id ?? '');
      for (const m of expected.metrics) {
        for (const [suffix, value] of [['', m.value], ['_low', m.low], ['_high', m.high]] as const) assert.equal(row[`${m.key}${suffix}`], value === null ? '' : String(value), `${m.key}${suffix}`);
        const delta = expected.versusBaseline?.deltas.find((d: any) => d.key === m.key)?.value;
        assert.equal(row[`${m.key}_delta`], delta === undefined || delta === null ? '' : String(delta), `${m.key}_delta`);
      }
    });
    await page.close();
  });

  test('a run page draws the detected boxes over its images, toggles them, and filters failures', async () => {
    const page = await openPage(`/runs/${runs.baseline}`);
    assert.match(await page.locator('[data-testid="run-status"]').innerText(), /FINISHED/);
    const { images } = await gql('query ($id: ID!) { images(runId: $id, first: 100) { totalCount edges { node { detections { label } } } } }', { id: runs.baseline });
    const boxes = images.edges.reduce((n: number, e: any) => n + e.node.detections.length, 0);
    assert.ok(boxes > 0, 'the detector found objects');
    assert.equal(await page.locator('.card').count(), images.totalCount);
    assert.equal(await page.locator('.card .box').count(), boxes);
    assert.ok(await page.locator('.card .box').first().isVisible());
    await page.getByLabel('Show detected boxes').uncheck();
    assert.equal(await page.locator('.card .box').first().isVisible(), false);
    await page.getByLabel('Show detected boxes').check();
    assert.ok(await page.locator('svg[aria-label$="by relation"]').isVisible(), 'the per-relation chart');
    await finish(page, 'run');

    const failed = (await gql('query ($id: ID!) { images(runId: $id, filter: { correct: false }) { totalCount } }', { id: runs.baseline })).images.totalCount;
    const filtered = await openPage(`/runs/${runs.baseline}`);
    await filtered.getByLabel('Which images').selectOption('1');
    await filtered.getByRole('button', { name: 'Filter' }).click();
    await filtered.waitForURL(/failed=1/);
    assert.equal(await filtered.locator('.card').count(), failed);
    assert.equal(await filtered.locator('.card[data-correct="true"]').count(), 0);
    await finish(filtered, 'run-failed-only');
  });

  test('an image permalink shows the guided image with its loss and centroids over the steps', async () => {
    const { images } = await gql('query ($id: ID!) { images(runId: $id, first: 1) { edges { node { id prompt { text } } } } }', { id: runs.infsplign });
    const image = images.edges[0].node;
    const page = await openPage(`/runs/${runs.infsplign}/images/${image.id}`);
    assert.equal(await page.locator('h1').innerText(), image.prompt.text);
    assert.ok(await page.locator('svg[aria-label="InfSplign loss per guided step"] circle').count() > 1);
    assert.ok(await page.locator('svg[aria-label="Object centroids per guided step"] polyline').count() === 4);
    await finish(page, 'image');
  });

  test('compare shows two runs image by image, disagreements first, with the paired test', async () => {
    const page = await openPage(`/compare?a=${runs.baseline}&b=${runs.infsplign}`);
    const { compareRuns } = await gql('query ($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { pairs onlyA onlyB mcnemarP } }', { a: runs.baseline, b: runs.infsplign });
    assert.equal(compareRuns.pairs, LIMIT * IMAGES_PER_PROMPT);
    assert.equal(await page.locator('[data-testid="compared-pair"]').count(), compareRuns.onlyA + compareRuns.onlyB);
    assert.match(await page.locator('[data-testid="mcnemar"]').innerText(), /p [=<] /);
    await finish(page, 'compare');
  });

  test('the sweep plot draws VISOR_cond against guidance_weight through the baseline at 0', async () => {
    const page = await openPage('/sweep?benchmark=visor-shapes&param=guidance_weight&metric=VISOR_cond');
    const xs = await page.locator('table tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(xs, ['0', '30', '60']);
    await finish(page, 'sweep');
  });

  test('submit: a run made from the parameter form with a token reaches FINISHED on its own page', async () => {
    const page = await openPage('/submit');
    await page.getByLabel('At most this many prompts').fill('2');
    await page.getByLabel('Images per prompt').fill('1');
    await page.getByLabel('Seed').fill('7');
    await page.getByRole('button', { name: 'Submit run' }).click();
    assert.match(await page.locator('#token-error').innerText(), /paste an API token/);
    await page.locator('#param-guidance_weight').fill('');
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Submit run' }).click();
    assert.match(await page.locator('[id="params.guidance_weight-error"]').innerText(), /number/);
    await page.locator('#param-guidance_weight').fill('45');
    await page.locator('#param-map_size').fill('0');
    await page.getByRole('button', { name: 'Submit run' }).click();
    assert.match(await page.locator('[data-testid="submit-error"]').innerText(), /map_size/i, 'the API names the bad parameter');
    assert.ok(await page.locator('[id="params.map_size-error"]').isVisible(), "and its message stands beside the parameter's field");
    await finish(page, 'submit-refused');

    const form = await openPage('/submit');
    await form.getByLabel('At most this many prompts').fill('2');
    await form.getByLabel('Images per prompt').fill('1');
    await form.getByLabel('Seed').fill('7');
    await form.locator('#param-guidance_weight').fill('45');
    await form.getByLabel('API token').fill(token);
    await form.screenshot({ path: join(SCREENSHOTS, 'submit.png'), fullPage: true });
    await form.getByRole('button', { name: 'Submit run' }).click();
    await form.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    const id = form.url().split('/').pop()!;
    await form.locator('[data-testid="run-status"]', { hasText: 'FINISHED' }).waitFor({ timeout: 120_000 });
    const { run } = await gql('query ($id: ID!) { run(id: $id) { status seed limit imagesPerPrompt config } }', { id });
    assert.deepEqual([run.status, run.seed, run.limit, run.imagesPerPrompt, run.config.params.guidance_weight], ['FINISHED', 7, 2, 1, 45]);
    await form.locator('.card').first().waitFor();
    await finish(form, 'submitted-run');

    // The same configuration again: the finished run comes back, and the page says why.
    const again = await openPage('/submit');
    await again.getByLabel('At most this many prompts').fill('2');
    await again.getByLabel('Images per prompt').fill('1');
    await again.getByLabel('Seed').fill('7');
    await again.locator('#param-guidance_weight').fill('45');
    await again.getByLabel('API token').fill(token);
    await again.getByRole('button', { name: 'Submit run' }).click();
    await again.waitForURL(new RegExp(`/runs/${id}\\?reused=1$`));
    assert.match(await again.getByRole('status').filter({ hasText: 'identical run' }).innerText(), /already finished/);
    await again.close();
  });

  test('the queue page shows every queue and no stuck run', async () => {
    const page = await openPage('/queue');
    const { queueHealth } = await gql('{ queueHealth { queues { name } } }');
    for (const q of queueHealth.queues) assert.ok(await page.locator(`tr[data-queue="${q.name}"]`).isVisible(), q.name);
    assert.ok(await page.getByText('No run is stuck.').isVisible());
    await finish(page, 'queue');
  });

  test('the /graphql proxy refuses a body over the API\'s limit unread, and signs each browser\'s own address whatever X-Forwarded-For says', async () => {
    const big = await fetch(`${web.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ models { name } }', variables: { junk: 'x'.repeat(200 * 1024) } }) });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as any).errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');

    // An API of its own with a budget of two mutations per client, behind a web app of its own.
    const limited = await createApiServer({ databaseUrl, redisUrl: redis.url, artifactDir, port: 0, logger: pino({ level: 'silent' }), sweepIntervalMs: 0, reconcileIntervalMs: 0, webProxySecret, rateLimits: { mutationsPerMinute: 2 } });
    const proxy = await startWebApp(limited.url, await freePort(), '127.0.0.1', webProxySecret);
    try {
      const spent = await api.services.redis.keys('infsplign:ratelimit:mutations:*');
      if (spent.length > 0) await api.services.redis.del(...spent);
      // Browsers on two addresses (loopback aliases): each its own budget, however each rewrites X-Forwarded-For.
      const from = (localAddress: string, i: number) =>
        new Promise<string>((resolveCode, reject) => {
          const body = JSON.stringify({ query: 'mutation { cancelRun(id: "00000000-0000-4000-8000-000000000000") { id } }' });
          const { hostname, port } = new URL(proxy.url);
          const req = httpRequest({ host: hostname, port, path: '/graphql', method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-forwarded-for': `198.51.100.${i}` } }, (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolveCode(JSON.parse(text).errors[0].extensions.code));
          });
          req.on('error', reject);
          req.end(body);
        });
      const codes = [];
      for (const [i, address] of ['127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.3'].entries()) codes.push(await from(address, i));
      assert.deepEqual(codes, ['UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED', 'UNAUTHENTICATED']);
    } finally {
      await proxy.close();
      await limited.close();
    }
  });

  test('with the API down every page says so and what to do', async () => {
    const down = await startWebApp(`http://127.0.0.1:${await freePort()}`, await freePort());
    try {
      for (const path of ['/', '/runs', '/queue', '/submit', `/runs/${runs.baseline}`]) {
        const page = await browser.newPage();
        await page.goto(`${down.url}${path}`);
        assert.match(await page.locator('.notice.error').innerText(), /not answering[\s\S]*npm run api/, path);
        if (path === '/') await page.screenshot({ path: join(SCREENSHOTS, 'api-down.png') });
        await page.close();
      }
    } finally {
      await down.close();
    }
  });
});
