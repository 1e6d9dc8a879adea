/**
 * The GraphQL API on real PostgreSQL and Redis: catalogue queries, authentication and per-team
 * authorisation, validation errors with field paths, query limits, submission into chunk jobs, the
 * artifact route and readiness, images' guidance traces and the leaderboard's comparison with a
 * baseline. Refused requests must leave nothing written.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateJobId } from '@infsplign/workers/contracts';
import { LocalArtifactStore } from '@infsplign/workers/artifacts';
import { methodNames } from '@infsplign/workers/methods';
import { mcnemarExact } from '../src/stats/paired.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { allCorrect, baselineInput, finishRun, firstCorrect, madeUpTrace, noneCorrect, placed, SHAPES_EVAL, type Detect } from './support/stand-in-worker.ts';

let h: Harness;

before(async () => {
  h = await startHarness('graphql');
});

after(async () => {
  await h?.close();
});

const SUBMIT = `mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id status kind progress { prompts totalImages } config configHash } } }`;

async function rowCounts() {
  const [runs, events, configs, imageSets] = await Promise.all([
    h.prisma.run.count(),
    h.prisma.runEvent.count(),
    h.prisma.methodConfig.count(),
    h.prisma.imageSet.count(),
  ]);
  return { runs, events, configs, imageSets };
}

test('catalogue: benchmarks with metric definitions, models, methods with parameter schema and defaults', async () => {
  const { data, errors } = await h.gql(`{
    benchmarks { name defaultThreshold metrics { key label higherIsBetter } promptSets { name benchmark promptCount } }
    models { name family }
    methods { name parameterSchema defaults(model: "tiny-test") }
  }`);
  assert.equal(errors, undefined);
  const shapes = data!.benchmarks.find((b: any) => b.name === 'visor-shapes');
  assert.equal(shapes.metrics[0].key, 'OA');
  assert.deepEqual(
    shapes.promptSets.map((s: any) => [s.name, s.benchmark, s.promptCount > 0]),
    [
      ['eval', 'visor-shapes', true],
      ['tune', 'visor-shapes', true],
    ],
  );
  assert.deepEqual(data!.models, [{ name: 'tiny-test', family: 'custom' }]);
  const infsplign = data!.methods.find((m: any) => m.name === 'infsplign');
  assert.equal(infsplign.parameterSchema.type, 'object');
  assert.equal(infsplign.defaults.cfg_scale, 7.5);
});

test('mutations without a token, or with a bad one, are refused and write nothing', async () => {
  const before = await rowCounts();
  const none = await h.gql(SUBMIT, { input: baselineInput() });
  assert.equal(none.errors?.[0].extensions?.code, 'UNAUTHENTICATED');
  assert.match(none.errors![0].message, /Authorization: Bearer/);
  const bad = await h.gql(SUBMIT, { input: baselineInput() }, 'isa_000000000000_' + 'x'.repeat(43));
  assert.equal(bad.errors?.[0].extensions?.code, 'UNAUTHENTICATED');
  const garbage = await h.gql(SUBMIT, { input: baselineInput() }, 'not-a-token');
  assert.equal(garbage.errors?.[0].extensions?.code, 'UNAUTHENTICATED');
  assert.deepEqual(await rowCounts(), before);
});

test('invalid input is refused with field paths, and writes nothing', async () => {
  const before = await rowCounts();
  const params = await h.gql(SUBMIT, { input: baselineInput({ params: { steps: 0, bogus: 1 } }) }, h.tokens.alpha);
  assert.equal(params.errors?.[0].extensions?.code, 'BAD_USER_INPUT');
  const paths = params.errors![0].extensions!.fieldErrors!.map((e) => e.path.join('.'));
  assert.ok(paths.includes('input.params.steps'), paths.join(' | '));
  assert.ok(paths.includes('input.params'), paths.join(' | '));
  assert.match(params.errors![0].extensions!.fieldErrors!.find((e) => e.path.join('.') === 'input.params')!.message, /unknown parameter 'bogus'/);

  const model = await h.gql(SUBMIT, { input: baselineInput({ model: 'no-such-model' }) }, h.tokens.alpha);
  assert.deepEqual(model.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'model']);
  const set = await h.gql(SUBMIT, { input: baselineInput({ promptSet: 'nope' }) }, h.tokens.alpha);
  assert.deepEqual(set.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'promptSet']);
  assert.match(set.errors![0].message, /benchmark visor-shapes has no prompt set 'nope' \(known: .*eval/);
  const benchmark = await h.gql(SUBMIT, { input: baselineInput({ benchmark: 'nope' }) }, h.tokens.alpha);
  assert.deepEqual(benchmark.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'benchmark']);
  // An evaluation's image set is looked for beside its prompt set: each missing one is named at its own path.
  const evaluation = (extra: Record<string, unknown>) => ({
    kind: 'EVALUATE_ONLY',
    benchmark: 'visor-shapes',
    promptSet: 'eval',
    imageSet: '00000000-0000-4000-8000-000000000000',
    detector: 'shapes',
    ...extra,
  });
  const noSet = await h.gql(SUBMIT, { input: evaluation({}) }, h.tokens.alpha);
  assert.deepEqual(noSet.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'imageSet']);
  const neither = await h.gql(SUBMIT, { input: evaluation({ promptSet: 'nope' }) }, h.tokens.alpha);
  assert.deepEqual(neither.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'promptSet']);
  const missing = await h.gql(SUBMIT, { input: baselineInput({ method: null }) }, h.tokens.alpha);
  assert.deepEqual(missing.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'method']);
  const detector = await h.gql(SUBMIT, { input: baselineInput({ detector: '../etc/passwd' }) }, h.tokens.alpha);
  assert.deepEqual(detector.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'detector']);
  // A path would name a file on a worker: refused at submission, alike whether the file exists there or not.
  const [existing, absent] = await Promise.all(
    ['coco:/etc/passwd', 'coco:/nonexistent/x'].map((d) => h.gql(SUBMIT, { input: baselineInput({ detector: d }) }, h.tokens.alpha)),
  );
  assert.deepEqual(existing.errors?.[0].extensions?.fieldErrors, absent.errors?.[0].extensions?.fieldErrors);
  assert.match(existing.errors![0].message, /^input\.detector: a detector is shapes or a name from the workers' detector registry/);
  // Layer patterns are never regular expressions (one kept a worker busy for a minute), and parameters are bounded.
  const regex = await h.gql(SUBMIT, { input: baselineInput({ method: 'infsplign', params: { layers: ['/tran(([a-z0-9_]+[.]?)+)+X$/'] } }) }, h.tokens.alpha);
  assert.deepEqual(regex.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'params', 'layers', 0]);
  assert.match(regex.errors![0].message, /regular expressions are not accepted/);
  const huge = await h.gql(
    SUBMIT,
    { input: baselineInput({ method: 'infsplign', params: { layers: Array.from({ length: 100 }, () => 'a'.repeat(200)) } }) },
    h.tokens.alpha,
  );
  assert.deepEqual(huge.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'params']);
  assert.match(huge.errors![0].message, /over the limit of 16384/);
  const consistency = await h.gql(SUBMIT, { input: baselineInput({ method: 'infsplign', params: { steps: 4, guide_steps: [0, 9] } }) }, h.tokens.alpha);
  assert.deepEqual(consistency.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'params']);
  assert.match(consistency.errors![0].message, /guide_steps/);
  assert.deepEqual(await rowCounts(), before);
});

test('page size, depth, cost and body size are limited', async () => {
  const page = await h.gql('{ runs(first: 101) { totalCount } }');
  assert.deepEqual(page.errors?.[0].extensions?.fieldErrors?.[0].path, ['first']);
  const nested = (depth: number): string => (depth === 0 ? 'id' : `sourceRun { ${nested(depth - 1)} }`);
  const deep = await h.gql(`{ run(id: "00000000-0000-4000-8000-000000000000") { ${nested(12)} } }`);
  assert.equal(deep.status, 400);
  assert.equal(deep.errors?.[0].extensions?.code, 'QUERY_TOO_DEEP');
  const costly = await h.gql('{ runs(first: 100) { edges { node { timeline { status } aggregates { byRelation { metrics { key value low high } } } } } } }');
  assert.equal(costly.errors?.[0].extensions?.code, 'QUERY_TOO_COSTLY');
  const big = await fetch(`${h.api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ models { name } } # ${'x'.repeat(200_000)}` }),
  });
  assert.equal(big.status, 413);
  assert.equal(((await big.json()) as any).errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
});

test('submitRun makes a run and its generate chunks under deterministic job ids; runs pages through it', async () => {
  const first = await h.gql(SUBMIT, { input: baselineInput() }, h.tokens.alpha);
  assert.equal(first.errors, undefined);
  const run = first.data!.submitRun.run;
  assert.equal(first.data!.submitRun.reused, false);
  assert.equal(run.status, 'QUEUED');
  assert.deepEqual(run.progress, { prompts: 10, totalImages: 20 });
  assert.equal(run.config.method, 'baseline');
  assert.match(run.configHash, /^[0-9a-f]{64}$/);
  const row = await h.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
  assert.equal(row.chunksTotal, 2);
  for (const chunk of [0, 1]) {
    const job = await h.api.services.queues.generate.getJob(generateJobId(run.id, chunk, 0));
    assert.ok(job, `generate job of chunk ${chunk}`);
    assert.equal(job.data.prompts.length, 5);
    assert.equal(job.data.imageSetPrefix, `runs/${run.id}/images`);
  }
  // Still in flight: the team's identical submission is the same run; forced, it is a new one.
  const coalesced = await h.gql(SUBMIT, { input: baselineInput() }, h.tokens.alpha);
  assert.deepEqual([coalesced.data!.submitRun.reused, coalesced.data!.submitRun.run.id], [true, run.id]);
  const second = await h.gql(SUBMIT, { input: { ...baselineInput(), force: true } }, h.tokens.alpha);
  assert.equal(second.data!.submitRun.reused, false);
  assert.notEqual(second.data!.submitRun.run.id, run.id);
  assert.equal(second.data!.submitRun.run.configHash, run.configHash);

  const pageOne = await h.gql(
    '{ runs(first: 1, filter: { team: "alpha", status: [QUEUED] }) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }',
  );
  assert.equal(pageOne.data!.runs.totalCount, 2);
  assert.equal(pageOne.data!.runs.pageInfo.hasNextPage, true);
  const pageTwo = await h.gql(
    'query ($after: String) { runs(first: 1, after: $after, filter: { team: "alpha" }) { edges { node { id } } pageInfo { hasNextPage } } }',
    { after: pageOne.data!.runs.pageInfo.endCursor },
  );
  assert.equal(pageTwo.data!.runs.pageInfo.hasNextPage, false);
  assert.notEqual(pageTwo.data!.runs.edges[0].node.id, pageOne.data!.runs.edges[0].node.id);
  for (const filter of ['benchmark: "visor-shapes"', 'model: "tiny-test"', 'method: "baseline"']) {
    const filtered = await h.gql(`{ runs(filter: { ${filter} }) { totalCount } }`);
    assert.equal(filtered.data!.runs.totalCount, 2, filter);
  }
  const none = await h.gql('{ runs(filter: { method: "infsplign" }) { totalCount edges { node { id } } } }');
  assert.deepEqual(none.data!.runs, { totalCount: 0, edges: [] });
  const badCursor = await h.gql('{ runs(after: "garbage") { totalCount } }');
  assert.deepEqual(badCursor.errors?.[0].extensions?.fieldErrors?.[0].path, ['after']);
});

test('every registered method is offered with its own parameters, and a submission is checked against them', async () => {
  const { data, errors } = await h.gql('{ methods { name parameterSchema defaults(model: "tiny-test") } }');
  assert.equal(errors, undefined);
  assert.deepEqual(
    data!.methods.map((m: any) => m.name),
    methodNames().sort(),
    'every registered method, by name',
  );
  const ae = data!.methods.find((m: any) => m.name === 'attend-and-excite');
  assert.ok(ae.parameterSchema.properties.scale_factor && ae.parameterSchema.properties.thresholds && !ae.parameterSchema.properties.guidance_weight);
  // its official defaults, the model's sampler settings and the model's own map resolution
  assert.deepEqual([ae.defaults.scale_factor, ae.defaults.max_refinement_steps, ae.defaults.cfg_scale, ae.defaults.attention_res], [20, 20, 7.5, 8]);

  const before = await rowCounts();
  const foreign = await h.gql(SUBMIT, { input: baselineInput({ method: 'attend-and-excite', params: { guidance_weight: 30 } }) }, h.tokens.alpha);
  assert.deepEqual(foreign.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'params']);
  assert.match(foreign.errors![0].message, /unknown parameter 'guidance_weight' \(known: cfg_scale, steps, scheduler, scale_factor/);
  const bad = await h.gql(SUBMIT, { input: baselineInput({ method: 'attend-and-excite', params: { max_refinement_steps: 0 } }) }, h.tokens.alpha);
  assert.deepEqual(bad.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'params', 'max_refinement_steps']);
  const unknown = await h.gql(SUBMIT, { input: baselineInput({ method: 'no-such-method' }) }, h.tokens.alpha);
  assert.deepEqual(unknown.errors?.[0].extensions?.fieldErrors?.[0].path, ['input', 'method']);
  assert.match(unknown.errors![0].message, /unknown method 'no-such-method' \(known: baseline, infsplign, attend-and-excite/);
  assert.deepEqual(await rowCounts(), before);

  const submitted = await h.gql(SUBMIT, { input: baselineInput({ method: 'attend-and-excite', params: { scale_factor: 10 } }) }, h.tokens.alpha);
  assert.equal(submitted.errors, undefined);
  const run = submitted.data!.submitRun.run;
  assert.equal(run.config.method, 'attend-and-excite');
  assert.deepEqual([run.config.params.scale_factor, run.config.params.attention_res, run.config.params.steps], [10, 8, 4]);
  const job = await h.api.services.queues.generate.getJob(generateJobId(run.id, 0, 0));
  assert.deepEqual(job!.data.config, run.config);
  const filtered = await h.gql('{ runs(filter: { method: "attend-and-excite" }) { totalCount } }');
  assert.equal(filtered.data!.runs.totalCount, 1);
  await h.gql('mutation ($id: ID!) { cancelRun(id: $id) { id } }', { id: run.id }, h.tokens.alpha);
});

test("another team's run cannot be cancelled, retried or deleted, and stays as it was", async () => {
  const submitted = await h.gql(SUBMIT, { input: baselineInput({ seed: 77 }) }, h.tokens.alpha);
  const id = submitted.data!.submitRun.run.id;
  const eventsBefore = await h.prisma.runEvent.count({ where: { runId: id } });
  for (const mutation of ['cancelRun', 'retryRun', 'deleteRun']) {
    const result = await h.gql(`mutation ($id: ID!) { ${mutation}(id: $id) { id } }`, { id }, h.tokens.beta);
    assert.equal(result.errors?.[0].extensions?.code, 'FORBIDDEN', mutation);
    assert.match(result.errors![0].message, /belongs to team alpha/);
  }
  const row = await h.prisma.run.findUniqueOrThrow({ where: { id } });
  assert.equal(row.status, 'QUEUED');
  assert.equal(await h.prisma.runEvent.count({ where: { runId: id } }), eventsBefore);
  assert.ok(await h.api.services.queues.generate.getJob(generateJobId(id, 0, 0)));

  const cancelled = await h.gql('mutation ($id: ID!) { cancelRun(id: $id) { status timeline { status } } }', { id }, h.tokens.alpha);
  assert.equal(cancelled.data!.cancelRun.status, 'CANCELLED');
  assert.deepEqual(
    cancelled.data!.cancelRun.timeline.map((e: any) => e.status),
    ['QUEUED', 'CANCELLED'],
  );
  assert.equal(await h.api.services.queues.generate.getJob(generateJobId(id, 0, 0)), undefined);
});

test('images are served by artifact key only; a key that could leave the store is refused', async () => {
  const store = new LocalArtifactStore(h.artifactDir);
  await store.put('uploads/t/1_0.png', new Uint8Array([137, 80, 78, 71, 1, 2, 3]));
  const ok = await fetch(`${h.api.url}/artifacts/uploads/t/1_0.png`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'image/png');
  assert.deepEqual([...new Uint8Array(await ok.arrayBuffer())], [137, 80, 78, 71, 1, 2, 3]);
  assert.equal((await fetch(`${h.api.url}/artifacts/uploads/t/2_0.png`)).status, 404);
  assert.equal((await fetch(`${h.api.url}/artifacts/uploads/..%2F..%2Fetc/passwd`)).status, 400);
  assert.equal((await fetch(`${h.api.url}/artifacts/.hidden/x.png`)).status, 400);
});

test('registerImageSet takes a prefix createUpload gave the team and refuses what it cannot use', async () => {
  const prefix = await h.upload(h.tokens.alpha, { '0_0.png': new Uint8Array([1]), '0_1.png': new Uint8Array([1]), '1_0.png': new Uint8Array([1]) });
  assert.match(prefix, /^uploads\/[0-9a-f]{32}$/);
  const registered = await h.gql('mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id kind prefix imageCount } }', { prefix }, h.tokens.alpha);
  assert.equal(registered.errors, undefined);
  assert.deepEqual({ ...registered.data!.registerImageSet, id: undefined }, { id: undefined, kind: 'UPLOADED', prefix, imageCount: 3 });
  const again = await h.gql('mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id } }', { prefix }, h.tokens.alpha);
  assert.equal(again.errors?.[0].extensions?.code, 'CONFLICT');
  const empty = await h.upload(h.tokens.alpha, {});
  const none = await h.gql('mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id } }', { prefix: empty }, h.tokens.alpha);
  assert.deepEqual(none.errors?.[0].extensions?.fieldErrors?.[0].path, ['prefix']);
  assert.match(none.errors![0].message, /no images named/);
  for (const refused of ['uploads/reg', '../outside', 'runs/x']) {
    const answer = await h.gql('mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id } }', { prefix: refused }, h.tokens.alpha);
    assert.deepEqual(answer.errors?.[0].extensions?.fieldErrors?.[0].path, ['prefix'], refused);
  }
});

test("createApiToken gives a working token for the caller's team", async () => {
  const created = await h.gql('mutation { createApiToken(name: "ci") { token name team { name } } }', {}, h.tokens.beta);
  assert.equal(created.data!.createApiToken.team.name, 'beta');
  const used = await h.gql('mutation { createApiToken(name: "again") { team { name } } }', {}, created.data!.createApiToken.token);
  assert.equal(used.data!.createApiToken.team.name, 'beta');
});

test('healthz and readyz', async () => {
  assert.equal((await fetch(`${h.api.url}/healthz`)).status, 200);
  const ready = await fetch(`${h.api.url}/readyz`);
  assert.deepEqual(await ready.json(), { ok: true, problems: [] });
});

// ---------------------------------------------------------------------------------------------
// Finished runs (these tests come last: the ones above count the runs they submitted).

/** A finished run of alpha's: baselineInput with `extra`, answered by the stand-in worker with `detect`'s detections. */
const finishedRun = (extra: Record<string, unknown>, detect: Detect) => finishRun(h, baselineInput({ force: true, ...extra }), detect);

/** The runs' first prompt: they take the first `limit` prompts the benchmark scores. */
const firstPrompt = SHAPES_EVAL.prompts.find((p) => p.relation !== null)!.id;
const firstCorrectAndOneMore: Detect = (prompt, k) => placed(prompt, !(k === 0 || prompt.id === firstPrompt));

const runs: Record<string, string> = {};

test('finished runs for the tests below: baselines and InfSplign runs of one model, with and without matching settings', async () => {
  runs.oldBaseline = await finishedRun({ seed: 5 }, noneCorrect);
  runs.baseline = await finishedRun({ seed: 5 }, firstCorrect);
  // Finished last, but of another seed: no InfSplign run of seed 5 may be compared with it.
  runs.otherSeedBaseline = await finishedRun({ seed: 6 }, allCorrect);
  runs.significant = await finishedRun({ seed: 5, method: 'infsplign' }, allCorrect);
  runs.noise = await finishedRun({ seed: 5, method: 'infsplign', params: { guidance_weight: 10 } }, firstCorrectAndOneMore);
  runs.otherThreshold = await finishedRun({ seed: 5, method: 'infsplign', threshold: 0.3 }, allCorrect);
  runs.otherDetector = await finishedRun({ seed: 5, method: 'infsplign', detector: 'yolov8x' }, allCorrect);
});

test("Image.guidance: an InfSplign image's trace by denoising step; null for a baseline's", async () => {
  const QUERY = 'query ($id: ID!) { images(runId: $id, first: 3) { edges { node { imageIndex prompt { externalId } guidance { step loss centroids } } } } }';
  const guided = await h.gql(QUERY, { id: runs.significant });
  assert.equal(guided.errors, undefined, JSON.stringify(guided.errors));
  const nodes = guided.data!.images.edges.map((e: any) => e.node);
  assert.equal(nodes.length, 3);
  for (const node of nodes) {
    // The test model samples 4 steps and InfSplign guides all of them by default.
    const trace = madeUpTrace(node.prompt.externalId, node.imageIndex, 4);
    assert.deepEqual(
      node.guidance,
      [0, 1, 2, 3].map((step) => ({ step, loss: trace.loss[step], centroids: trace.centroids[step] })),
    );
  }
  const unguided = await h.gql(QUERY, { id: runs.baseline });
  assert.ok(unguided.data!.images.edges.length > 0);
  assert.ok(unguided.data!.images.edges.every((e: any) => e.node.guidance === null));
});

test('image(id): one image by its permalink id with its run; null for an unknown id; a malformed id is bad input', async () => {
  const listed = await h.gql('query ($id: ID!) { images(runId: $id, first: 2) { edges { node { id url prompt { text } detections { label } } } } }', {
    id: runs.significant,
  });
  const second = listed.data!.images.edges[1].node;
  const QUERY = 'query ($id: ID!) { image(id: $id) { id runId url prompt { text } detections { label } } }';
  const one = await h.gql(QUERY, { id: second.id });
  assert.equal(one.errors, undefined, JSON.stringify(one.errors));
  assert.deepEqual(one.data!.image, { ...second, runId: runs.significant });
  const none = await h.gql(QUERY, { id: '00000000-0000-4000-8000-000000000000' });
  assert.equal(none.data!.image, null);
  const bad = await h.gql(QUERY, { id: '../etc' });
  assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.deepEqual(bad.errors?.[0]?.extensions?.fieldErrors?.[0]?.path, ['id']);
});

test('LeaderboardRow.versusBaseline: the most recent matching baseline, metric deltas, and the paired test', async () => {
  const QUERY = `query ($model: String, $detector: String) { leaderboard(benchmark: "visor-shapes", model: $model, detector: $detector) {
    run { id } isBaseline metrics { key value }
    versusBaseline { baseline { id } deltas { key value low high } beyondNoise primary { key difference test p beyondNoise }
      comparison { pairs onlyA onlyB mcnemarP meanDifference } } } }`;
  const result = await h.gql(QUERY);
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  const board: any[] = result.data!.leaderboard;
  const row = (id: string) => board.find((r) => r.run.id === id);
  assert.equal(board.length, Object.keys(runs).length);

  for (const id of [runs.oldBaseline, runs.baseline, runs.otherSeedBaseline]) assert.equal(row(id).versusBaseline, null, 'a baseline row has none');
  for (const id of [runs.otherThreshold, runs.otherDetector]) assert.equal(row(id).versusBaseline, null, 'no baseline has its detector and threshold');
  assert.equal(row(runs.significant).versusBaseline.baseline.id, runs.baseline, 'the most recent baseline of the same settings');
  assert.equal(row(runs.noise).versusBaseline.baseline.id, runs.baseline);

  const { benchmarks } = (await h.gql('{ benchmarks { name metrics { key } } }')).data!;
  const keys = benchmarks.find((b: any) => b.name === 'visor-shapes').metrics.map((m: any) => m.key);
  const base = row(runs.baseline);
  for (const id of [runs.significant, runs.noise]) {
    const versus = row(id).versusBaseline;
    const value = (r: any, key: string) => r.metrics.find((m: any) => m.key === key)?.value ?? null;
    assert.deepEqual(
      versus.deltas,
      keys.map((key: string) => ({
        key,
        value: value(row(id), key) === null || value(base, key) === null ? null : value(row(id), key) - value(base, key),
        low: null,
        high: null,
      })),
    );
    // The verdict is the primary metric's own test: VISOR_cond, a ratio, by the paired bootstrap over prompts.
    assert.deepEqual([versus.primary.key, versus.primary.test, versus.beyondNoise], ['VISOR_cond', 'BOOTSTRAP', versus.primary.beyondNoise]);
    assert.equal(versus.primary.difference, versus.deltas.find((d: any) => d.key === 'VISOR_cond').value);
    // The same comparison compareRuns gives, the baseline as a.
    const compared = (
      await h.gql('query ($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { pairs onlyA onlyB mcnemarP meanDifference } }', { a: runs.baseline, b: id })
    ).data!.compareRuns;
    assert.deepEqual(versus.comparison, compared);
  }
  // The baseline gets image 0 of each of the 10 prompts right; the first InfSplign run every image.
  const significant = row(runs.significant).versusBaseline;
  assert.deepEqual([significant.comparison.pairs, significant.comparison.onlyA, significant.comparison.onlyB], [20, 0, 10]);
  assert.equal(significant.comparison.mcnemarP, mcnemarExact(0, 10));
  assert.equal(significant.comparison.meanDifference, 0.5);
  // Every prompt gains 50 points of VISOR_cond: every resample's difference is 50, so p is the bootstrap's floor 2 / 1001.
  assert.deepEqual([significant.primary.difference, significant.primary.p, significant.beyondNoise], [50, 2 / 1001, true]);
  assert.ok(significant.deltas.find((d: any) => d.key === 'VISOR_uncond').value > 0);
  const noise = row(runs.noise).versusBaseline;
  assert.deepEqual([noise.comparison.onlyA, noise.comparison.onlyB, noise.comparison.mcnemarP, noise.beyondNoise], [0, 1, 1, false]);
  assert.ok(noise.primary.p > 0.5, `one prompt of ten gains: p = ${noise.primary.p}`);

  // A board narrowed by model and detector still holds every baseline a row can match.
  const narrowed = (await h.gql(QUERY, { model: 'tiny-test', detector: 'shapes' })).data!.leaderboard;
  assert.equal(narrowed.find((r: any) => r.run.id === runs.significant).versusBaseline.baseline.id, runs.baseline);
  // Answered from the cached board, the same again.
  assert.deepEqual((await h.gql(QUERY)).data!.leaderboard, board);
});
