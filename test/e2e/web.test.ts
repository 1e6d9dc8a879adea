/**
 * The web app end to end in Debian's Chromium (playwright-core), against its server (apps/web/server.mjs)
 * on a real `next build`, sharing a WEB_PROXY_SECRET with the API in this process on a real PostgreSQL (migrated, seeded with the repository's
 * models) and a real Redis, and a worker process generating with the bundled model. Before the
 * browser opens, these runs of the same VISOR-Shapes prompts are submitted through GraphQL and
 * finish: a baseline and two InfSplign runs (guidance_weight 30 and 60) of seed 42, an InfSplign run
 * of seed 2024, and a small InfSplign run below the leaderboard's minimum size. Each page's test
 * saves a screenshot of it at 1400 and at 390 px wide to test-results/screenshots/.
 * Signing in keeps the token in an httpOnly, SameSite=Strict cookie out of the page's reach, and every
 * mutation (submit, a sweep, rescore, delete) goes through a Server Action: no request from the
 * browser carries the token.
 * The proxy's own bounds are checked over HTTP: the body limit, and the browser's address signed for
 * the API's rate limits whatever X-Forwarded-For a client sends.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createToken } from '../../apps/api/src/auth/tokens.ts';
import { closePrisma, createPrisma, type PrismaClient } from '../../apps/api/src/db/client.ts';
import { migrate } from '../../apps/api/src/db/migrate.ts';
import { seed } from '../../apps/api/src/db/seed.ts';
import { createApiServer, type ApiServer } from '../../apps/api/src/server.ts';
import { contrastRatio } from '../../apps/web/src/lib/colours.ts';
import { launchChromium } from '../support/browser.ts';
import { freePort } from '../support/free-port.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { ensureWebBuild, startWebApp, type WebApp } from '../../scripts/lib/web-app.ts';
import { startWorkerProcess, stopAllWorkers } from '../support/worker-process.ts';

const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
/** prompts of visor-shapes/eval and images each: two pages of a run's images, and seconds of CPU per run */
const LIMIT = 13;
const IMAGES_PER_PROMPT = 2;
/** the API's leaderboard minimum for this test: the small run (2 prompts x 2 images) is below it */
const MIN_RANKED_IMAGES = 20;
const DESKTOP = { width: 1400, height: 900 };
const PHONE = { width: 390, height: 844 };

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
const runs = { baseline: '', infsplign: '', strong: '', otherSeed: '', small: '' };

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

async function submit(method: string, extra: Record<string, unknown> = {}): Promise<string> {
  const input = {
    kind: 'GENERATE_AND_EVALUATE',
    benchmark: 'visor-shapes',
    promptSet: 'eval',
    model: 'bundled',
    method,
    detector: 'shapes',
    seed: 42,
    imagesPerPrompt: IMAGES_PER_PROMPT,
    limit: LIMIT,
    ...extra,
  };
  const data = await gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } } }', { input });
  return data.submitRun.run.id;
}

async function waitFinished(id: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { run } = await gql('query ($id: ID!) { run(id: $id) { status error } }', { id });
    if (run.status === 'FINISHED') return;
    if (run.status === 'FAILED' || run.status === 'CANCELLED') assert.fail(`run ${id} is ${run.status}: ${run.error}`);
    if (Date.now() > deadline) assert.fail(`run ${id} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function openPage(
  path: string,
  { viewport = DESKTOP, status = 200, context }: { viewport?: typeof DESKTOP; status?: number; context?: BrowserContext } = {},
): Promise<Page> {
  const page = context ? await context.newPage() : await browser.newPage({ viewport, acceptDownloads: true });
  if (context) await page.setViewportSize(viewport);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  (page as Page & { problems?: string[] }).problems = problems;
  const response = await page.goto(`${web.url}${path}`);
  assert.ok(response, `no response for ${path}`);
  assert.equal(response.status(), status, `${path} answered ${response.status()}`);
  return page;
}

/**
 * Screenshots at 1400 and at 390 px (NAME-1400.png, NAME-390.png) for the artifacts; at 390 px the
 * page itself must not scroll sideways (wide tables become cards or scroll inside their frame); and
 * no script error on the page meanwhile. Leaves the page at 390 px when `keep`, else closes it.
 */
async function snap(page: Page, name: string, { keep = false } = {}): Promise<void> {
  // A full-page screenshot does not scroll, so images below the fold that wait to be scrolled to are loaded first.
  await page.evaluate(() =>
    Promise.all(
      [...document.images].map((img) => {
        img.loading = 'eager';
        if (img.complete) return null;
        return new Promise((done) => {
          img.addEventListener('load', done, { once: true });
          img.addEventListener('error', done, { once: true });
        });
      }),
    ),
  );
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-1400.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-390.png`), fullPage: true });
  assert.ok(overflow <= 1, `${name}: the page scrolls sideways by ${overflow} px at 390 px`);
  assert.deepEqual((page as Page & { problems?: string[] }).problems, [], `script errors on ${name}`);
  if (!keep) await page.close();
}

/** A browser of its own, signed in on /signin with the e2e team's token (kept in the app's session cookie). */
async function signedIn(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${web.url}/signin`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/submit');
  await page.close();
  return context;
}

/** Fails the test when any request of `page` carries the token (an Authorization header, a body, a URL): it must stay on the server. */
function watchForToken(page: Page): () => void {
  const leaks: string[] = [];
  page.on('request', (request) => {
    const carried = [request.url(), request.postData() ?? '', ...Object.values(request.headers())].join('\n');
    if (carried.includes(token) || request.headers().authorization) leaks.push(`${request.method()} ${request.url()}`);
  });
  return () => assert.deepEqual(leaks, [], 'requests from the browser carrying the token');
}

const rowIds = (page: Page, table: string) => page.locator(`${table} tbody tr[data-run]`).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')));

const LEADERBOARD = `query ($sort: LeaderboardSort) { leaderboard(benchmark: "visor-shapes", sort: $sort) {
  rank ranked promptsScored imagesScored run { id } method isBaseline metrics { key value low high }
  versusBaseline { baseline { id } beyondNoise deltas { key value } primary { key difference low high test p beyondNoise } }
  versusLeader { leader { id } primary { p } tiedWithinNoise } } }`;

/** The p-value as the pages write it. */
const pText = (p: number) => (p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

describe('the web app in Chromium against the API, PostgreSQL, Redis and a worker on the bundled model', { timeout: 900_000 }, () => {
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
    api = await createApiServer({
      databaseUrl,
      redisUrl: redis.url,
      artifactDir,
      port: 0,
      logger: pino({ level: 'silent' }),
      sweepIntervalMs: 0,
      reconcileIntervalMs: 0,
      leaderboard: { minRankedImages: MIN_RANKED_IMAGES },
      webProxySecret,
    });
    startWorkerProcess({ redisUrl: redis.url, artifactDir, queues: 'evaluate,generate' });
    runs.baseline = await submit('baseline');
    runs.infsplign = await submit('infsplign', { params: { guidance_weight: 30 } });
    runs.strong = await submit('infsplign', { params: { guidance_weight: 60 } });
    runs.otherSeed = await submit('infsplign', { params: { guidance_weight: 30 }, seed: 2024 });
    runs.small = await submit('infsplign', { params: { guidance_weight: 30 }, limit: 2 });
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

  test("the leaderboard opens the newest benchmark ranked by its primary metric; InfSplign above the baseline with VISOR_cond's own p-value", async () => {
    const page = await openPage('/');
    assert.equal(await page.locator('h1').innerText(), 'Leaderboard: visor-shapes', 'the benchmark whose latest finished run is newest');
    assert.match(await page.locator('th.ranked-by').first().innerText(), /VISOR_cond/);
    const { leaderboard } = await gql(LEADERBOARD);
    const ranked = leaderboard.filter((r: any) => r.ranked);
    assert.deepEqual(
      await rowIds(page, 'section:not([data-testid="unranked"]) table.board'),
      ranked.map((r: any) => r.run.id),
      "the API's order: VISOR_cond, best first",
    );

    // InfSplign ranks above the baseline, and its delta carries VISOR_cond's paired bootstrap p-value.
    const row = (id: string) => leaderboard.find((r: any) => r.run.id === id);
    assert.ok(row(runs.infsplign).rank < row(runs.baseline).rank, `InfSplign #${row(runs.infsplign).rank}, baseline #${row(runs.baseline).rank}`);
    const versus = row(runs.infsplign).versusBaseline.primary;
    assert.deepEqual([versus.key, versus.test], ['VISOR_cond', 'BOOTSTRAP']);
    assert.ok(versus.difference > 0);
    const cell = page.locator(`tr[data-run="${runs.infsplign}"] td[data-col="delta"]`);
    assert.equal(await cell.locator('[data-testid="paired-verdict"]').getAttribute('data-p'), String(versus.p));
    assert.match(
      await cell.innerText(),
      new RegExp(
        `\\+${versus.difference.toFixed(1)} pp[\\s\\S]*${pText(versus.p).replace(/[.<]/g, '\\$&')}, bootstrap[\\s\\S]*${versus.beyondNoise ? 'beyond noise' : 'within noise'}`,
      ),
    );
    // Against the leader: the leader says so; the others carry the same test against it.
    const leaderId = ranked[0].run.id;
    assert.match(await page.locator(`tr[data-run="${leaderId}"] td[data-col="leader"]`).innerText(), /leader/);
    for (const r of ranked.slice(1))
      assert.match(
        await page.locator(`tr[data-run="${r.run.id}"] td[data-col="leader"]`).innerText(),
        r.versusLeader.tiedWithinNoise ? /tied within noise/ : /beyond noise/,
      );

    // Ranks run 1..n in the table; the small run is listed apart, unranked, with its size.
    assert.deepEqual(
      await page
        .locator('table.board')
        .first()
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-rank'))),
      ranked.map((_: unknown, i: number) => String(i + 1)),
    );
    const unranked = page.locator('[data-testid="unranked"]');
    assert.deepEqual(await rowIds(page, '[data-testid="unranked"] table'), [runs.small]);
    assert.match(await unranked.locator(`tr[data-run="${runs.small}"] td[data-col="n"]`).innerText(), /2 × 2\s+4 images/);
    assert.match(await unranked.innerText(), new RegExp(`fewer than ${MIN_RANKED_IMAGES} images`));
    // n and seed columns; VISOR metrics in percent with one decimal, n/a where undefined (VISOR_3 at 2 images per prompt).
    assert.match(await page.locator(`tr[data-run="${runs.baseline}"] td[data-col="n"]`).innerText(), new RegExp(`${LIMIT} × ${IMAGES_PER_PROMPT}`));
    assert.equal(await page.locator(`tr[data-run="${runs.baseline}"] td[data-col="seed"]`).innerText(), '42');
    for (const text of await page.locator('td[data-col="VISOR_uncond"], td[data-col="OA"]').allInnerTexts())
      assert.match(text, /^\d{1,3}\.\d%\n\[\d{1,3}\.\d, \d{1,3}\.\d\]$/);
    // Beside the scores, the cost the worker recorded: seconds per image on its device, U-Net evaluations and backward passes per image.
    const { leaderboard: costs } = await gql(
      '{ leaderboard(benchmark: "visor-shapes") { run { id } metrics { key value } cost { secondsPerImage unetEvaluationsPerImage backwardPassesPerImage device } } }',
    );
    const costOf = (id: string) => costs.find((r: any) => r.run.id === id).cost;
    assert.equal(costOf(runs.baseline).backwardPassesPerImage, 0, 'the baseline runs no backward pass');
    assert.ok(costOf(runs.infsplign).backwardPassesPerImage > 0 && costOf(runs.infsplign).unetEvaluationsPerImage > 0);
    for (const id of [runs.baseline, runs.infsplign]) {
      const cost = costOf(id);
      assert.equal(
        await page.locator(`tr[data-run="${id}"] td[data-col="seconds"]`).innerText(),
        `${Number(cost.secondsPerImage.toPrecision(3))} s\n${cost.device}`,
      );
      assert.equal(
        await page.locator(`tr[data-run="${id}"] td[data-col="evaluations"]`).innerText(),
        `${cost.unetEvaluationsPerImage}\n${cost.backwardPassesPerImage} backward`,
      );
    }
    // VISOR_cond against seconds per image: a titled, described SVG, a point per run with both, the Pareto front marked, and the same as a table.
    const chart = page.getByTestId('pareto-chart');
    assert.equal(await chart.locator('#pareto-title').textContent(), 'VISOR_cond against seconds per image on visor-shapes, with the Pareto front');
    const plotted = costs.filter((r: any) => r.cost && r.metrics.find((m: any) => m.key === 'VISOR_cond').value !== null);
    assert.equal(await chart.locator('svg g[data-run]').count(), plotted.length);
    assert.equal(await chart.getByTestId('pareto-table').locator('tbody tr').count(), plotted.length);
    const cond = (r: any) => r.metrics.find((m: any) => m.key === 'VISOR_cond').value;
    const best = plotted.reduce((a: any, b: any) => (cond(b) > cond(a) || (cond(b) === cond(a) && b.cost.secondsPerImage < a.cost.secondsPerImage) ? b : a));
    const cheapest = plotted.reduce((a: any, b: any) =>
      b.cost.secondsPerImage < a.cost.secondsPerImage || (b.cost.secondsPerImage === a.cost.secondsPerImage && cond(b) > cond(a)) ? b : a,
    );
    for (const id of new Set([best.run.id, cheapest.run.id]))
      assert.equal(await chart.locator(`svg g[data-run="${id}"]`).getAttribute('data-on-front'), 'true', `${id} is on the front`);
    assert.match((await chart.locator('#pareto-desc').textContent())!, /on the Pareto front, cheapest first: /);
    assert.deepEqual([...new Set(await page.locator('td[data-col="VISOR_3"]').allInnerTexts())], ['n/a']);
    // The run column stays in view when the table scrolls sideways.
    assert.equal(
      await page
        .locator('table.board th.sticky')
        .first()
        .evaluate((th) => getComputedStyle(th).position),
      'sticky',
    );
    // Active navigation and a favicon.
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).locator('[aria-current="page"]').innerText(), 'Leaderboard');
    const icon = await page.locator('link[rel="icon"]').first().getAttribute('href');
    const favicon = await fetch(new URL(icon!, web.url));
    assert.deepEqual([favicon.status, favicon.headers.get('content-type')], [200, 'image/svg+xml']);
    await snap(page, 'leaderboard', { keep: true });
    // On a phone the rows are cards: each cell with its column's name.
    assert.equal(await page.locator(`tr[data-run="${runs.infsplign}"]`).evaluate((tr) => getComputedStyle(tr).display), 'block');
    assert.equal(
      await page.locator(`tr[data-run="${runs.infsplign}"] td[data-col="seed"]`).evaluate((td) => getComputedStyle(td, '::before').content),
      '"Seed"',
    );
    await page.close();
  });

  test("the leaderboard's columns can be hidden, its metrics explained and sorted from the keyboard alone", async () => {
    const page = await openPage('/?benchmark=visor-shapes');
    // The column picker hides a column in every table, and the choice survives a reload.
    await page.locator('.column-picker summary').click();
    await page.locator('input[data-column="seed"]').uncheck();
    assert.equal(await page.locator('td[data-col="seed"]').first().isVisible(), false);
    await page.reload();
    assert.equal(await page.locator('td[data-col="seed"]').first().isVisible(), false);
    await page.locator('.column-picker summary').click();
    await page.locator('input[data-column="seed"]').check();
    assert.ok(await page.locator('td[data-col="seed"]').first().isVisible());

    // A metric's definition is a link away by keyboard (no hover needed).
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.getAttribute('href') === '#metric-VISOR_uncond');
    }
    assert.ok(reached, 'Tab reaches the definition link of VISOR_uncond');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#metric-VISOR_uncond$/);
    assert.match(await page.locator('#metric-VISOR_uncond').innerText(), /VISOR_cond × OA \/ 100/);
    assert.ok(await page.locator('#metric-VISOR_uncond').isVisible());

    reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Shift+Tab');
      reached = await page.evaluate(() => document.activeElement?.getAttribute('data-sort') === 'OA');
    }
    assert.ok(reached, 'Tab reaches the OA sort link');
    await page.keyboard.press('Enter');
    await page.waitForURL(/sort=OA/);
    const byOA = (await gql(LEADERBOARD, { sort: { metric: 'OA', direction: 'DESC' } })).leaderboard.filter((r: any) => r.ranked).map((r: any) => r.run.id);
    assert.deepEqual(await rowIds(page, 'section:not([data-testid="unranked"]) table.board'), byOA);
    await page.close();
  });

  test("the CSV export has the API leaderboard rows with the primary metric's tests", async () => {
    const page = await openPage('/?benchmark=visor-shapes');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByText('Export CSV').click()]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    const header = csv[0]!.split(',');
    const rows = csv.slice(1).map((line) => Object.fromEntries(line.split(',').map((cell, i) => [header[i], cell])));
    const { leaderboard } = await gql(LEADERBOARD, {});
    assert.equal(rows.length, leaderboard.length);
    const text = (value: unknown) => (value === null || value === undefined ? '' : String(value));
    leaderboard.forEach((expected: any, i: number) => {
      const row = rows[i]!;
      assert.deepEqual(
        [
          row.run_id,
          row.rank,
          row.ranked,
          row.method,
          row.is_baseline,
          row.baseline_run_id,
          row.primary_metric,
          row.primary_p,
          row.primary_test,
          row.leader_run_id,
        ],
        [
          expected.run.id,
          text(expected.rank),
          String(expected.ranked),
          expected.method,
          String(expected.isBaseline),
          text(expected.versusBaseline?.baseline.id),
          'VISOR_cond',
          text(expected.versusBaseline?.primary.p),
          text(expected.versusBaseline?.primary.test),
          text(expected.versusLeader?.leader.id),
        ],
      );
      for (const m of expected.metrics) {
        for (const [suffix, value] of [
          ['', m.value],
          ['_low', m.low],
          ['_high', m.high],
        ] as const)
          assert.equal(row[`${m.key}${suffix}`], text(value), `${m.key}${suffix}`);
        assert.equal(row[`${m.key}_delta`], text(expected.versusBaseline?.deltas.find((d: any) => d.key === m.key)?.value), `${m.key}_delta`);
      }
    });
    await page.close();
  });

  test("a run page: its delta against the baseline with each metric's test, the configuration as a diff, pages of images with their boxes, exports and its GraphQL", async () => {
    const page = await openPage(`/runs/${runs.infsplign}`);
    assert.match(await page.locator('[data-testid="run-status"]').innerText(), /FINISHED/);
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).locator('[aria-current="page"]').innerText(), 'Runs');
    assert.match(
      await page.getByTestId('run-cost').innerText(),
      /^[\d.]+ s on cpu, \d+(\.\d)? U-Net evaluations, \d+(\.\d)? backward passes \(mean over \d+ images\)$/,
    );
    // Against the matching baseline: every metric with its own test, overall and per relation, and a compare button.
    const { run } = await gql(
      `query ($id: ID!) { run(id: $id) { versusBaseline { a { id } metrics { key difference p test } byRelation { relation metrics { key difference low high p } } } configChanges { key value default } } }`,
      { id: runs.infsplign },
    );
    assert.equal(run.versusBaseline.a.id, runs.baseline);
    const section = page.locator('section[aria-labelledby="versus-baseline"]');
    const cond = run.versusBaseline.metrics.find((m: any) => m.key === 'VISOR_cond');
    assert.match(
      await section.locator('[data-testid="compare-metrics"] tr[data-metric="VISOR_cond"]').innerText(),
      new RegExp(`paired bootstrap over prompts: ${pText(cond.p).replace(/[.<]/g, '\\$&')}`),
    );
    assert.match(await section.locator('[data-testid="compare-metrics"] tr[data-metric="VISOR_uncond"]').innerText(), /exact McNemar on paired images/);
    assert.equal(await section.locator('[data-testid="compare-relations"] tbody tr').count(), run.versusBaseline.byRelation.length);
    assert.match(await section.locator('[data-testid="compare-relations"] tbody tr').first().innerText(), /\[-?\d+\.\d, -?\d+\.\d\]/);
    assert.equal(
      await section.getByRole('link', { name: 'Compare with the baseline' }).getAttribute('href'),
      `/compare?a=${runs.baseline}&b=${runs.infsplign}`,
    );
    // The configuration as what differs from the model's defaults (guidance_weight 30 is the bundled model's); the whole of it one click away.
    assert.deepEqual(run.configChanges, []);
    assert.match(await page.locator('section[aria-labelledby="config"]').innerText(), /infsplign with the defaults for bundled/);
    assert.equal(await page.locator('[data-testid="run-config"]').isVisible(), false);
    await page.getByText('Full configuration (JSON)').click();
    assert.match(await page.locator('[data-testid="run-config"]').innerText(), /"guidance_weight": 30/);

    // Images: boxes drawn and toggled; labels inside their image, white on AA-contrast colours.
    const { images } = await gql('query ($id: ID!) { images(runId: $id, first: 24) { totalCount edges { node { id detections { label } } } } }', {
      id: runs.infsplign,
    });
    const pages = Math.ceil(images.totalCount / 24);
    assert.ok(pages >= 2, `${images.totalCount} images make two pages`);
    assert.match(
      await page.locator('[data-testid="image-pager"]').first().innerText(),
      new RegExp(`Page 1 of ${pages} \\(images 1–24 of ${images.totalCount}\\)`),
    );
    assert.equal(await page.locator('.card').count(), 24);
    const boxes = images.edges.reduce((n: number, e: any) => n + e.node.detections.length, 0);
    assert.ok(boxes > 0, 'the detector found objects');
    assert.equal(await page.locator('.card .box').count(), boxes);
    // (No helper functions inside the browser callback: the test's compiler would name them with a helper the page lacks.)
    const labels = await page.locator('.card .box-label').evaluateAll((spans) =>
      spans.map((span) => {
        const [label, frame] = [span.getBoundingClientRect(), span.closest('.image-boxes')!.getBoundingClientRect()];
        return {
          inside: label.left >= frame.left - 0.5 && label.right <= frame.right + 0.5 && label.top >= frame.top - 0.5 && label.bottom <= frame.bottom + 0.5,
          fg: getComputedStyle(span).color,
          bg: getComputedStyle(span).backgroundColor,
        };
      }),
    );
    const hex = (css: string) =>
      '#' +
      css
        .match(/\d+/g)!
        .slice(0, 3)
        .map((v) => Number(v).toString(16).padStart(2, '0'))
        .join('');
    assert.ok(labels.length > 0);
    for (const l of labels) {
      assert.ok(l.inside, 'every box label lies inside its image');
      assert.ok(contrastRatio(hex(l.fg), hex(l.bg)) >= 4.5, `label ${l.fg} on ${l.bg}: ${contrastRatio(hex(l.fg), hex(l.bg)).toFixed(2)}:1`);
    }
    await page.getByLabel('Show detected boxes').uncheck();
    assert.equal(await page.locator('.card .box').first().isVisible(), false);
    await page.getByLabel('Show detected boxes').check();
    assert.ok(await page.locator('svg[aria-label$="by relation"]').isVisible(), 'the per-relation chart');
    // The GraphQL behind the view.
    await page.getByText('GraphQL for this view').click();
    assert.match(await page.locator('[data-testid="graphql-snippet"]').innerText(), /query RunPage\(\$id: ID!/);
    await snap(page, 'run', { keep: true });

    // The next page and back again.
    await page.setViewportSize(DESKTOP);
    const firstCard = await page.locator('.card').first().getAttribute('data-image');
    await page.getByRole('navigation', { name: 'Image pages', exact: true }).getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL(/after=/);
    assert.match(
      await page.locator('[data-testid="image-pager"]').first().innerText(),
      new RegExp(`Page 2 of ${pages} \\(images 25–${Math.min(48, images.totalCount)} of ${images.totalCount}\\)`),
    );
    await page.getByRole('navigation', { name: 'Image pages', exact: true }).getByRole('link', { name: 'Previous page' }).click();
    await page.waitForURL(/before=/);
    assert.match(await page.locator('[data-testid="image-pager"]').first().innerText(), /Page 1 of/);
    assert.equal(await page.locator('.card').first().getAttribute('data-image'), firstCard);

    // Per-image exports: CSV and JSON lines with the prompt, relation, verdict, score and boxes.
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByText('Export images (CSV)').click()]);
    const csv = readFileSync((await csvDownload.path())!, 'utf8')
      .trim()
      .split('\n');
    assert.equal(csv[0], 'prompt_id,prompt,relation,image_index,image_id,verdict,score,reason,boxes');
    assert.equal(csv.length, images.totalCount + 1);
    const [jsonlDownload] = await Promise.all([page.waitForEvent('download'), page.getByText('Export images (JSONL)').click()]);
    const lines = readFileSync((await jsonlDownload.path())!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, images.totalCount);
    assert.deepEqual(Object.keys(lines[0]), ['prompt_id', 'prompt', 'relation', 'image_index', 'image_id', 'verdict', 'score', 'reason', 'boxes']);
    assert.ok(lines.some((l) => l.boxes.length > 0 && typeof l.boxes[0].label === 'string' && l.boxes[0].box.length === 4));
    await page.close();

    const filtered = await openPage(`/runs/${runs.baseline}`);
    const failed = (await gql('query ($id: ID!) { images(runId: $id, filter: { correct: false }) { totalCount } }', { id: runs.baseline })).images.totalCount;
    await filtered.getByLabel('Which images').selectOption('1');
    await filtered.getByRole('button', { name: 'Filter' }).click();
    await filtered.waitForURL(/failed=1/);
    assert.equal(await filtered.locator('.card').count(), Math.min(failed, 24));
    assert.equal(await filtered.locator('.card[data-correct="true"]').count(), 0);
    assert.match(await filtered.locator('[data-testid="no-baseline"]').innerText(), /is a baseline/);
    await snap(filtered, 'run-failed-only');
  });

  test("the run's team, signed in, rescores it from its page and deletes the rescore through Server Actions; the deleted run answers 404", async () => {
    const anonymous = await openPage(`/runs/${runs.strong}`);
    assert.match(await anonymous.locator('[data-testid="run-action-message"]').innerText(), /Sign in as team e2e to cancel, retry, rescore or delete/);
    assert.equal(await anonymous.getByRole('button', { name: 'Rescore' }).count(), 0);
    await anonymous.close();

    const context = await signedIn();
    const page = await openPage(`/runs/${runs.strong}`, { context });
    const noLeak = watchForToken(page);
    assert.match(
      await page.locator('[data-testid="config-changes"]').innerText(),
      /guidance_weight\s+60\s+30/,
      "what differs from the bundled model's defaults",
    );
    await page.getByLabel('Threshold').fill('0.3');
    await page.getByRole('button', { name: 'Rescore' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(runs.strong));
    const rescored = page.url().split('/').pop()!;
    await waitFinished(rescored);
    const { run } = await gql('query ($id: ID!) { run(id: $id) { kind threshold sourceRun { id } } }', { id: rescored });
    assert.deepEqual(run, { kind: 'EVALUATE_ONLY', threshold: 0.3, sourceRun: { id: runs.strong } });
    await page.reload();
    await page.getByRole('button', { name: 'Delete run…' }).click();
    await page.getByRole('button', { name: 'Delete for good' }).click();
    await page.waitForURL(/\/runs$/);
    assert.equal((await gql('query ($id: ID!) { run(id: $id) { id } }', { id: rescored })).run, null);
    noLeak();
    await context.close();
    const gone = await openPage(`/runs/${rescored}`, { status: 404 });
    await gone.close();
  });

  test('an image page: the previous and next image, the same prompt in other runs, and the centroid chart explained', async () => {
    const { images } = await gql('query ($id: ID!) { images(runId: $id, first: 3) { edges { node { id prompt { text } imageIndex } } } }', {
      id: runs.infsplign,
    });
    const [first, second, third] = images.edges.map((e: any) => e.node);
    const page = await openPage(`/runs/${runs.infsplign}/images/${second.id}`);
    assert.equal(await page.locator('h1').innerText(), second.prompt.text);
    assert.equal(await page.locator('a[rel="prev"]').getAttribute('href'), `/runs/${runs.infsplign}/images/${first.id}`);
    assert.equal(await page.locator('a[rel="next"]').getAttribute('href'), `/runs/${runs.infsplign}/images/${third.id}`);
    // Image 1 of the same prompt in the other finished runs of its prompt set (the small run's two prompts include it).
    const others = await page.locator('[data-testid="other-runs"] a').evaluateAll((links) => links.map((a) => a.getAttribute('href')!.split('/')[2]));
    assert.deepEqual(new Set(others), new Set([runs.baseline, runs.strong, runs.otherSeed, runs.small]));
    // The guidance: the loss, and the centroids with x solid and y dashed on a 0-1 axis with round ticks.
    assert.ok((await page.locator('svg[aria-label="InfSplign loss per guided step"] circle').count()) > 1);
    const centroids = page.locator('svg[aria-label="Attention centroids per guided step"]');
    assert.deepEqual(await centroids.locator('polyline').evaluateAll((lines) => lines.map((l) => l.getAttribute('stroke-dasharray'))), [
      null,
      '6 4',
      null,
      '6 4',
    ]);
    assert.deepEqual(await centroids.locator('text[text-anchor="end"]').allTextContents(), ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    for (const tick of await centroids.locator('text[text-anchor="middle"]').allTextContents())
      assert.match(tick, /^\d+$|step|position/, 'whole-number step ticks');
    assert.match(
      await page.locator('[data-testid="centroid-explanation"]').innerText(),
      /x runs from 0 at the left edge to 1 at the right \(solid lines\), y from 0 at the top to 1 at the bottom \(dashed lines\)/,
    );
    await snap(page, 'image', { keep: true });
    await page.setViewportSize(DESKTOP);
    await page.locator('a[rel="next"]').click();
    await page.waitForURL(new RegExp(`${third.id}$`));
    await page.close();
  });

  test('compare pairs what can be paired: image by image with the same seed, by prompt across seeds, never a run with itself', async () => {
    const page = await openPage(`/compare?a=${runs.baseline}&b=${runs.infsplign}`);
    const { compareRuns } = await gql(
      'query ($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { pairing pairs onlyA onlyB mcnemarP byRelation { relation } metrics { key p test } } }',
      { a: runs.baseline, b: runs.infsplign },
    );
    assert.deepEqual([compareRuns.pairing, compareRuns.pairs], ['IMAGE', LIMIT * IMAGES_PER_PROMPT]);
    assert.equal(await page.locator('[data-testid="pairing"]').getAttribute('data-pairing'), 'IMAGE');
    assert.equal(await page.locator('[data-testid="compared-pair"]').count(), Math.min(20, compareRuns.onlyA + compareRuns.onlyB));
    const cond = compareRuns.metrics.find((m: any) => m.key === 'VISOR_cond');
    assert.match(
      await page.locator('[data-testid="compare-metrics"] [data-testid="test-VISOR_cond"]').innerText(),
      new RegExp(`paired bootstrap over prompts: ${pText(cond.p).replace(/[.<]/g, '\\$&')}`),
    );
    assert.equal(await page.locator('[data-testid="compare-relations"] tbody tr').count(), compareRuns.byRelation.length);
    // Each card's images link to their image pages.
    const link = page.locator('[data-testid="compared-pair"]').first().getByRole('link', { name: 'image page' }).last();
    const href = (await link.getAttribute('href'))!;
    assert.match(href, new RegExp(`^/runs/${runs.infsplign}/images/[0-9a-f-]{36}$`));
    // The pairs export, as CSV and as JSON.
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByText('Export pairs (CSV)').click()]);
    const csv = readFileSync((await csvDownload.path())!, 'utf8')
      .trim()
      .split('\n');
    assert.equal(csv[0], 'prompt_id,prompt,relation,image_index,a_image_id,a_correct,a_score,b_image_id,b_correct,b_score');
    assert.equal(csv.length, compareRuns.pairs + 1);
    const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.getByText('Export pairs (JSON)').click()]);
    const json = JSON.parse(readFileSync((await jsonDownload.path())!, 'utf8'));
    assert.deepEqual([json.pairing, json.pairs.length, json.metrics.find((m: any) => m.key === 'VISOR_cond').p], ['IMAGE', compareRuns.pairs, cond.p]);
    await snap(page, 'compare', { keep: true });
    assert.equal(
      await page
        .locator('[data-testid="compare-metrics"] tbody tr')
        .first()
        .evaluate((tr) => getComputedStyle(tr).display),
      'block',
      'card rows on a phone',
    );
    await page.close();

    const image = await openPage(href);
    assert.equal(await image.getByRole('navigation', { name: 'Images of this run' }).getByRole('link').first().getAttribute('href'), `/runs/${runs.infsplign}`);
    await image.close();

    // Seeds 42 and 2024: the images are not the same draws, so the runs pair by prompt only.
    const seeds = await openPage(`/compare?a=${runs.baseline}&b=${runs.otherSeed}`);
    assert.equal(await seeds.locator('[data-testid="pairing"]').getAttribute('data-pairing'), 'PROMPT');
    assert.match(await seeds.locator('[data-testid="compare-notes"]').innerText(), /seeds 42 and 2024/);
    assert.match(
      await seeds.locator('[data-testid="compare-metrics"] [data-testid="test-VISOR_uncond"]').innerText(),
      /paired bootstrap over prompts/,
      'no McNemar across seeds',
    );
    await seeds.getByRole('link', { name: 'Show all' }).click();
    await seeds.waitForURL(/all=1/);
    assert.equal(await seeds.locator('[data-testid="compared-prompt"]').count(), LIMIT);
    assert.equal(await seeds.locator('[data-testid="compared-prompt"]').first().locator('.thumbs a').count(), 2 * IMAGES_PER_PROMPT);
    await snap(seeds, 'compare-by-prompt');

    const itself = await openPage(`/compare?a=${runs.baseline}&b=${runs.baseline}`);
    assert.match(await itself.locator('.notice.error').innerText(), /cannot be compared[\s\S]*run a itself/);
    await snap(itself, 'compare-itself');
  });

  test('unknown ids answer 404 with a way back', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const path of [`/runs/${missing}`, '/runs/not-a-run', `/runs/${runs.baseline}/images/${missing}`, `/compare?a=${runs.baseline}&b=${missing}`]) {
      const page = await openPage(path, { status: 404 });
      assert.equal(await page.locator('h1').innerText(), 'Page not found', path);
      assert.ok(await page.locator('main').getByRole('link', { name: 'leaderboard' }).isVisible(), `${path}: a way back`);
      if (path === '/runs/not-a-run') await snap(page, 'not-found');
      else await page.close();
    }
  });

  test('the sweep plots the primary metric, VISOR_cond, against guidance_weight through the baseline at 0', async () => {
    const page = await openPage('/sweep?benchmark=visor-shapes&param=guidance_weight');
    assert.match(await page.locator('h1').innerText(), /VISOR \(conditional\)/);
    const xs = await page.locator('table tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(xs, ['0', '30', '60']);
    await snap(page, 'sweep');
  });

  test('sign-in: the token entered once is kept in an httpOnly, SameSite=Strict cookie no script can read, the header names the team, sign-out clears it', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    Object.assign(page, { problems });
    await page.goto(`${web.url}/signin?next=/submit`);
    assert.equal(await page.getByTestId('session').innerText(), 'Sign in');
    await page.getByLabel('API token').fill(`isa_000000000000_${'x'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.locator('#signin-error').innerText(), /unknown, revoked or expired/);
    assert.deepEqual(await context.cookies(), []);
    await snap(page, 'signin-refused', { keep: true });
    await page.setViewportSize(DESKTOP);

    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/submit');
    // The sign-in form's own request is the only one that carries the token.
    const noLeak = watchForToken(page);
    assert.match(await page.getByTestId('session').innerText(), /Team e2e\s+Sign out/);
    const [cookie, ...others] = await context.cookies();
    assert.deepEqual(others, []);
    assert.deepEqual(
      [cookie!.name, cookie!.value, cookie!.httpOnly, cookie!.sameSite, cookie!.secure, cookie!.path],
      ['infsplign_token', token, true, 'Strict', false, '/'],
    );
    // Out of reach of the page: not in document.cookie, the storages, the HTML or the React payload.
    const secret = token.split('_')[2]!;
    const reachable = await page.evaluate(() => [
      document.cookie,
      JSON.stringify({ ...sessionStorage }),
      JSON.stringify({ ...localStorage }),
      document.documentElement.outerHTML,
      JSON.stringify((self as { __next_f?: unknown }).__next_f ?? []),
    ]);
    for (const text of reachable) assert.ok(!text.includes(secret), 'the token is within reach of the page');

    const signin = await openPage('/signin', { context });
    assert.match(await signin.getByTestId('signed-in-as').innerText(), /team e2e with token e2e/);
    await snap(signin, 'signin');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin\?signedOut=1$/);
    assert.deepEqual(await context.cookies(), []);
    assert.equal(await page.getByTestId('session').innerText(), 'Sign in');
    assert.match(await page.getByRole('status').first().innerText(), /Signed out/);
    noLeak();
    assert.deepEqual(problems, []);

    // Behind a TLS-terminating proxy (X-Forwarded-Proto: https) the cookie is Secure too.
    const overHttps = await browser.newContext({ viewport: DESKTOP, extraHTTPHeaders: { 'x-forwarded-proto': 'https' } });
    const proxied = await overHttps.newPage();
    await proxied.goto(`${web.url}/signin`);
    await proxied.getByLabel('API token').fill(token);
    await proxied.getByRole('button', { name: 'Sign in' }).click();
    await proxied.waitForURL((url) => url.pathname === '/submit');
    assert.deepEqual(
      (await overHttps.cookies()).map((c) => [c.name, c.secure, c.httpOnly, c.sameSite]),
      [['infsplign_token', true, true, 'Strict']],
    );
    await overHttps.close();
    await context.close();
  });

  test("submit: the grouped form checks a range in the browser, shows the API's field error beside its field, estimates the size and time, and the run reaches FINISHED", async () => {
    // Served disabled, enabled once hydrated: nothing typed or clicked before then is lost.
    assert.match(await (await fetch(`${web.url}/submit`)).text(), /<form[^>]*aria-label="Submit a run"[^>]*><fieldset class="bare" disabled="">/);
    const anonymous = await openPage('/submit');
    assert.ok(await anonymous.getByTestId('signin-needed').isVisible());
    assert.ok(await anonymous.getByRole('button', { name: 'Submit run' }).isDisabled());
    await anonymous.close();

    const context = await signedIn();
    const page = await openPage('/submit', { context });
    const noLeak = watchForToken(page);
    // The parameters that matter first, with what they do and accept; the advanced ones folded away.
    const labels = await page.locator('fieldset.params > .field label').allInnerTexts();
    assert.deepEqual(labels.slice(0, 2), ['guidance_weight', 'guide_steps']);
    assert.match(await page.locator('[id="params.steps-help"]').innerText(), /denoising steps \(the reference's num_inference_steps\) · 1 to 1000, whole/);
    assert.equal(await page.getByTestId('advanced-params').getAttribute('open'), null);
    assert.equal(await page.locator('#param-map_size').isVisible(), false);

    // The fields take input once the form is hydrated (fill waits until they are enabled).
    await page.getByLabel('At most this many prompts').fill('2');
    await page.getByLabel('Images per prompt').fill('1');
    await page.getByLabel('Seed').fill('7');
    await page.getByTestId('advanced-params').locator('summary').click();
    assert.ok(await page.locator('#param-map_size').isVisible());
    // Size and time: 2 prompts x 1 image at the bundled model's recorded seconds per image.
    assert.match(
      await page.getByTestId('estimate').innerText(),
      /2 images, about \d+ s of generation at \d+\.\d\d s per image \(the mean over [\d,]+ images of bundled's finished infsplign runs\), plus scoring/,
    );
    // A range the schema states, checked before anything is sent.
    const sent: string[] = [];
    page.on('request', (request) => request.method() === 'POST' && sent.push(request.url()));
    await page.locator('#param-steps').fill('5000');
    assert.equal(await page.locator('[id="params.steps-error"]').innerText(), 'must be at most 1000');
    await page.getByRole('button', { name: 'Submit run' }).click();
    assert.deepEqual(sent, [], 'nothing sent while a field is out of range');
    await page.locator('#param-steps').fill('20');
    // A problem only the API sees (a layer pattern's syntax): its message beside the field.
    const layers = await page.locator('#param-layers').inputValue();
    await page.locator('#param-layers').fill('up_blocks.{1');
    await page.getByRole('button', { name: 'Submit run' }).click();
    assert.match(await page.getByTestId('submit-error').innerText(), /is not closed/);
    assert.match(await page.locator('[id="params.layers-error"]').innerText(), /layer pattern 'up_blocks.\{1': the '\{' at 11 is not closed/);
    await snap(page, 'submit-refused', { keep: true });
    await page.setViewportSize(DESKTOP);

    await page.locator('#param-layers').fill(layers);
    await page.locator('#param-guide_steps').fill('0, 10');
    await page.locator('#param-guidance_weight').fill('45');
    await snap(page, 'submit', { keep: true });
    await page.setViewportSize(DESKTOP);
    await page.getByRole('button', { name: 'Submit run' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    await page.locator('[data-testid="run-status"]', { hasText: 'FINISHED' }).waitFor({ timeout: 120_000 });
    const { run } = await gql('query ($id: ID!) { run(id: $id) { status seed limit imagesPerPrompt team { name } config } }', { id });
    assert.deepEqual(
      [run.status, run.seed, run.limit, run.imagesPerPrompt, run.team.name, run.config.params.guidance_weight, run.config.params.guide_steps],
      ['FINISHED', 7, 2, 1, 'e2e', 45, [0, 10]],
    );
    await page.locator('.card').first().waitFor();
    await snap(page, 'submitted-run', { keep: true });
    noLeak();

    // Start from that run: its configuration filled in; submitted unchanged, the finished run comes back.
    await page.setViewportSize(DESKTOP);
    await page.getByRole('link', { name: 'Start a new run from this one' }).click();
    await page.waitForURL(new RegExp(`/submit\\?from=${id}$`));
    assert.match(await page.getByTestId('started-from').innerText(), new RegExp(`Starting from run ${id.slice(0, 8)}`));
    assert.deepEqual(
      [
        await page.locator('#param-guidance_weight').inputValue(),
        await page.locator('#param-guide_steps').inputValue(),
        await page.getByLabel('Seed').inputValue(),
        await page.getByLabel('At most this many prompts').inputValue(),
        await page.getByLabel('Images per prompt').inputValue(),
      ],
      ['45', '0, 10', '7', '2', '1'],
    );
    await page.getByRole('button', { name: 'Submit run' }).click();
    await page.waitForURL(new RegExp(`/runs/${id}\\?reused=1$`));
    assert.match(await page.getByRole('status').filter({ hasText: 'identical run' }).innerText(), /already finished/);
    await context.close();
  });

  test("start from another team's run, and a sweep over one parameter that makes one run per value", async () => {
    const context = await signedIn();
    const page = await openPage(`/submit?from=${runs.strong}`, { context });
    assert.equal(await page.locator('#param-guidance_weight').inputValue(), '60');
    assert.deepEqual([await page.getByLabel('Seed').inputValue(), await page.getByLabel('At most this many prompts').inputValue()], ['42', String(LIMIT)]);
    await page.getByLabel('At most this many prompts').fill('2');
    await page.getByLabel('Images per prompt').fill('1');
    await page.getByLabel('Seed').fill('11');
    await page.getByLabel('Parameter', { exact: true }).selectOption('guidance_weight');
    await page.getByLabel('Values').fill('15, 45, 5000x');
    assert.match(await page.locator('[id="sweep-error"]').innerText(), /5000x: enter a number/);
    await page.getByLabel('Values').fill('15, 45, 75');
    assert.match(await page.getByTestId('estimate').innerText(), /3 runs, 6 images/);
    const before = (await gql('{ runs(filter: { team: "e2e" }) { totalCount } }')).runs.totalCount;
    await page.getByRole('button', { name: 'Submit 3 runs' }).click();
    const links = page.getByTestId('submitted-runs').getByRole('link');
    await links.first().waitFor();
    const ids = (await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')!)))
      .filter((href) => href.startsWith('/runs/'))
      .map((href) => href.split('/')[2]!);
    assert.equal(ids.length, 3);
    const made = await Promise.all(ids.map(async (id) => (await gql('query ($id: ID!) { run(id: $id) { seed limit config } }', { id })).run));
    assert.deepEqual(
      made.map((r) => [r.seed, r.limit, r.config.params.guidance_weight]),
      [
        [11, 2, 15],
        [11, 2, 45],
        [11, 2, 75],
      ],
    );
    assert.equal((await gql('{ runs(filter: { team: "e2e" }) { totalCount } }')).runs.totalCount, before + 3);
    await snap(page, 'submit-sweep');
    await context.close();
  });

  test('the queue page shows every queue and no stuck run; the runs list', async () => {
    const page = await openPage('/queue');
    const { queueHealth } = await gql('{ queueHealth { queues { name } } }');
    for (const q of queueHealth.queues) assert.ok(await page.locator(`tr[data-queue="${q.name}"]`).isVisible(), q.name);
    assert.ok(await page.getByText('No run is stuck.').isVisible());
    await snap(page, 'queue');
    const list = await openPage('/runs');
    assert.ok(await list.locator(`a[href="/runs/${runs.baseline}"]`).first().isVisible());
    await snap(list, 'runs');
  });

  test("the /graphql proxy refuses a body over the API's limit unread, and signs each browser's own address whatever X-Forwarded-For says", async () => {
    const big = await fetch(`${web.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ models { name } }', variables: { junk: 'x'.repeat(200 * 1024) } }),
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as any).errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');

    // An API of its own with a budget of two mutations per client, behind a web app of its own.
    const limited = await createApiServer({
      databaseUrl,
      redisUrl: redis.url,
      artifactDir,
      port: 0,
      logger: pino({ level: 'silent' }),
      sweepIntervalMs: 0,
      reconcileIntervalMs: 0,
      webProxySecret,
      rateLimits: { mutationsPerMinute: 2 },
    });
    const proxy = await startWebApp(limited.url, await freePort(), '127.0.0.1', webProxySecret);
    try {
      const spent = await api.services.redis.keys('infsplign:ratelimit:mutations:*');
      if (spent.length > 0) await api.services.redis.del(...spent);
      // Browsers on two addresses (loopback aliases): each its own budget, however each rewrites X-Forwarded-For.
      const from = (localAddress: string, i: number) =>
        new Promise<string>((resolveCode, reject) => {
          const body = JSON.stringify({ query: 'mutation { cancelRun(id: "00000000-0000-4000-8000-000000000000") { id } }' });
          const { hostname, port } = new URL(proxy.url);
          const req = httpRequest(
            {
              host: hostname,
              port,
              path: '/graphql',
              method: 'POST',
              localAddress,
              headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-forwarded-for': `198.51.100.${i}` },
            },
            (res) => {
              let text = '';
              res.on('data', (chunk: Buffer) => (text += chunk.toString()));
              res.on('end', () => resolveCode(JSON.parse(text).errors[0].extensions.code));
            },
          );
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
