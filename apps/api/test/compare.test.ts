/**
 * What can be compared and ranked, on real PostgreSQL and Redis with runs answered by the stand-in
 * worker: compareRuns' pairing rules (image by image only with matching seeds and images per prompt;
 * by prompt otherwise; shared prompts across prompt sets; refusals), the leaderboard's primary metric,
 * ranks restarting per model and runs below the minimum size listed apart, and the run and image
 * fields the run and image pages read (versusBaseline, configChanges, paging back, neighbours).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRequestContext } from '../src/graphql/context.ts';
import { leaderboard } from '../src/graphql/resolvers/leaderboard.ts';
import { mcnemarExact } from '../src/stats/paired.ts';
import { startHarness, TEST_MODEL_DEFAULTS, TEST_MODEL_STORED_DEFAULTS, type Harness } from './support/harness.ts';
import { allCorrect, baselineInput, finishRun, firstCorrect, noneCorrect, type Detect } from './support/stand-in-worker.ts';

/** Runs of 10 prompts x 2 images are ranked; 5 x 1 are not. */
const MIN_RANKED_IMAGES = 20;

let h: Harness;
const runs: Record<string, string> = {};

const finished = (extra: Record<string, unknown>, detect: Detect) => finishRun(h, baselineInput({ seed: 5, force: true, ...extra }), detect);

before(async () => {
  h = await startHarness('compare', { leaderboard: { minRankedImages: MIN_RANKED_IMAGES } });
  await h.prisma.model.create({ data: { name: 'tiny-other', family: 'custom', location: '/nonexistent', defaultParams: TEST_MODEL_STORED_DEFAULTS } });
  runs.baseline = await finished({}, firstCorrect);
  runs.infsplign = await finished({ method: 'infsplign' }, allCorrect);
  runs.otherSeed = await finished({ method: 'infsplign', seed: 6 }, allCorrect);
  runs.oneImage = await finished({ method: 'infsplign', imagesPerPrompt: 1, limit: 5 }, allCorrect);
  runs.fewerPrompts = await finished({ method: 'infsplign', limit: 5, params: { guidance_weight: 10 } }, noneCorrect);
  runs.tune = await finished({ promptSet: 'tune' }, allCorrect);
  runs.otherModel = await finished({ model: 'tiny-other', method: 'infsplign' }, firstCorrect);
  runs.otherModelBaseline = await finished({ model: 'tiny-other' }, noneCorrect);
  // VISOR's first 40 scored prompts (unique_ids 0 to 49) and the first 3 of the paper's 500-prompt subset (1, 36, 75).
  runs.visorFull = await finished({ benchmark: 'visor', promptSet: 'full', limit: 40, imagesPerPrompt: 1 }, noneCorrect);
  runs.visorSubset = await finished({ benchmark: 'visor', promptSet: 'subset_500', limit: 3, imagesPerPrompt: 1 }, allCorrect);
});

after(async () => {
  await h?.close();
});

const COMPARE = `query ($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) {
  pairing sharedPrompts notes primaryMetric pairs onlyA onlyB mcnemarP
  metrics { key a b difference low high test p beyondNoise }
  byRelation { relation prompts metrics { key difference low high test p } }
  images(first: 100) { edges { node { imageIndex a { id } b { id } } } }
  prompts(first: 100) { edges { node { prompt { externalId } a { id imageIndex runId } b { id imageIndex runId } aCorrect bCorrect } } }
} }`;

async function compare(a: string, b: string) {
  const result = await h.gql(COMPARE, { a, b });
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  const c = result.data!.compareRuns;
  return { ...c, metric: (key: string) => c.metrics.find((m: any) => m.key === key) };
}

async function refusal(a: string, b: string) {
  const result = await h.gql(COMPARE, { a, b });
  assert.equal(result.errors?.[0].extensions?.code, 'BAD_USER_INPUT', JSON.stringify(result.errors));
  assert.deepEqual(result.errors![0].extensions!.fieldErrors![0].path, ['b']);
  return result.errors![0].message;
}

test('same seed and images per prompt: image by image, McNemar for per-image rates, the bootstrap for VISOR_cond', async () => {
  const c = await compare(runs.baseline, runs.infsplign);
  assert.deepEqual([c.pairing, c.sharedPrompts, c.notes, c.primaryMetric, c.pairs], ['IMAGE', 10, [], 'VISOR_cond', 20]);
  // The baseline gets image 0 of each prompt right and misplaces image 1; InfSplign gets both.
  assert.deepEqual([c.onlyA, c.onlyB, c.mcnemarP], [0, 10, mcnemarExact(0, 10)]);
  assert.deepEqual([c.metric('VISOR_uncond').test, c.metric('VISOR_uncond').p], ['MCNEMAR', mcnemarExact(0, 10)]);
  assert.deepEqual(
    [c.metric('VISOR_cond').test, c.metric('VISOR_cond').a, c.metric('VISOR_cond').b, c.metric('VISOR_cond').difference],
    ['BOOTSTRAP', 50, 100, 50],
  );
  assert.equal(c.metric('VISOR_cond').p, 2 / 1001, 'every prompt gains 50 points: the bootstrap p-value floor');
  assert.equal(c.images.edges.length, 20);
  // Per relation: the relations of the ten prompts, each with its own test.
  assert.equal(
    c.byRelation.reduce((n: number, r: any) => n + r.prompts, 0),
    10,
  );
  for (const r of c.byRelation) assert.deepEqual(r.metrics.find((m: any) => m.key === 'VISOR_cond').difference, 50, r.relation);
});

test('different seeds: prompt by prompt only, with a note; no image pairs and no McNemar', async () => {
  const c = await compare(runs.baseline, runs.otherSeed);
  assert.deepEqual([c.pairing, c.sharedPrompts, c.pairs, c.mcnemarP, c.images.edges], ['PROMPT', 10, 0, null, []]);
  assert.match(c.notes.join(' '), /seeds 5 and 6/);
  assert.ok(c.metrics.every((m: any) => m.test === 'BOOTSTRAP'));
  assert.equal(c.metric('VISOR_uncond').difference, 50);
  // Each compared prompt carries both runs' images, which link to their image pages.
  assert.equal(c.prompts.edges.length, 10);
  for (const { node } of c.prompts.edges) {
    assert.deepEqual(
      [node.a.map((i: any) => [i.imageIndex, i.runId]), node.b.map((i: any) => [i.imageIndex, i.runId])],
      [
        [
          [0, runs.baseline],
          [1, runs.baseline],
        ],
        [
          [0, runs.otherSeed],
          [1, runs.otherSeed],
        ],
      ],
    );
    assert.deepEqual([node.aCorrect, node.bCorrect], [1, 2]);
  }
});

test('different images per prompt: by prompt; a metric the smaller run leaves undefined has no figures', async () => {
  const c = await compare(runs.oneImage, runs.infsplign);
  assert.equal(c.pairing, 'PROMPT');
  assert.match(c.notes.join(' '), /1 and 2 images per prompt/);
  assert.deepEqual(c.metric('VISOR_2'), {
    key: 'VISOR_2',
    a: null,
    b: null,
    difference: null,
    low: null,
    high: null,
    test: 'BOOTSTRAP',
    p: null,
    beyondNoise: false,
  });
  assert.deepEqual([c.metric('VISOR_1').a, c.metric('VISOR_1').b], [100, 100]);
});

test('one prompt set with different limits: compared on the prompts both scored, with a note', async () => {
  const c = await compare(runs.infsplign, runs.fewerPrompts);
  assert.deepEqual([c.pairing, c.sharedPrompts, c.pairs], ['IMAGE', 5, 10]);
  assert.match(c.notes.join(' '), /Run A scored 10 prompts and run B 5: they are compared on the 5 both scored/);
});

test('different prompt sets: compared on the prompts with the same text, or refused when there are none', async () => {
  const c = await compare(runs.visorFull, runs.visorSubset);
  assert.equal(c.sharedPrompts, 2);
  assert.deepEqual(
    c.prompts.edges.map((e: any) => e.node.prompt.externalId),
    [1, 36],
  );
  assert.match(
    c.notes.join(' '),
    /different prompt sets, full \(40 prompts, limit 40\) and subset_500 \(3 prompts, limit 3\): they are compared on the 2 prompts/,
  );
  assert.match(await refusal(runs.baseline, runs.tune), /share no scored prompt/);
});

test("a run against itself, or against another benchmark's run, is refused as bad input", async () => {
  assert.match(await refusal(runs.baseline, runs.baseline), /run a itself/);
  assert.match(await refusal(runs.baseline, runs.visorFull), /run b scores visor and run a visor-shapes/);
  const unknown = await h.gql(COMPARE, { a: runs.baseline, b: '00000000-0000-4000-8000-000000000000' });
  assert.equal(unknown.errors?.[0].extensions?.code, 'NOT_FOUND');
});

const BOARD = `query ($sort: LeaderboardSort) {
  leaderboardRules { minRankedImages }
  benchmarks { name primaryMetric latestFinishedAt metrics { key unit primary minImagesPerPrompt } }
  leaderboard(benchmark: "visor-shapes", sort: $sort) {
    rank ranked promptsScored imagesScored run { id finishedAt } model { name } metrics { key value }
    versusBaseline { baseline { id } primary { key difference p test beyondNoise } beyondNoise }
    versusLeader { leader { id } primary { key difference p } tiedWithinNoise }
  }
}`;

test('the leaderboard: sorted by the primary metric, ranks restart for each model, small runs listed without a rank', async () => {
  const result = await h.gql(BOARD);
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  const { leaderboardRules, benchmarks, leaderboard } = result.data!;
  assert.deepEqual(leaderboardRules, { minRankedImages: MIN_RANKED_IMAGES });
  const shapes = benchmarks.find((b: any) => b.name === 'visor-shapes');
  assert.equal(shapes.primaryMetric, 'VISOR_cond');
  assert.deepEqual(
    shapes.metrics.filter((m: any) => m.primary).map((m: any) => m.key),
    ['VISOR_cond'],
  );
  assert.deepEqual(
    shapes.metrics.find((m: any) => m.key === 'VISOR_3'),
    { key: 'VISOR_3', unit: '%', primary: false, minImagesPerPrompt: 3 },
  );
  assert.deepEqual(
    benchmarks.map((b: any) => [b.name, b.primaryMetric]),
    [
      ['geneval', 'position'],
      ['t2i', 'spatial'],
      ['visor', 'VISOR_cond'],
      ['visor-shapes', 'VISOR_cond'],
    ],
  );
  assert.equal(benchmarks.find((b: any) => b.name === 't2i').latestFinishedAt, null);
  const newest = Math.max(...leaderboard.map((r: any) => Date.parse(r.run.finishedAt)));
  assert.equal(Date.parse(shapes.latestFinishedAt), newest);

  const visorCond = (r: any) => r.metrics.find((m: any) => m.key === 'VISOR_cond').value;
  const values = leaderboard.map(visorCond);
  assert.deepEqual(
    values,
    [...values].sort((x: number, y: number) => y - x),
    'best VISOR_cond first without a sort argument',
  );

  for (const model of ['tiny-test', 'tiny-other']) {
    const rows = leaderboard.filter((r: any) => r.model.name === model);
    const ranked = rows.filter((r: any) => r.ranked);
    assert.deepEqual(
      ranked.map((r: any) => r.rank),
      ranked.map((_: any, i: number) => i + 1),
      `${model}: ranks 1..n`,
    );
    assert.ok(ranked.every((r: any) => r.imagesScored >= MIN_RANKED_IMAGES));
    const leader = ranked[0];
    assert.equal(leader.versusLeader, null, 'the leader has no leader');
    for (const row of ranked.slice(1)) {
      // Runs of another prompt set (the tune run) share no prompt with the leader: no verdict.
      if (row.run.id === runs.tune) {
        assert.equal(row.versusLeader, null);
        continue;
      }
      assert.equal(row.versusLeader.leader.id, leader.run.id);
      assert.equal(row.versusLeader.primary.key, 'VISOR_cond');
      assert.equal(row.versusLeader.tiedWithinNoise, !(row.versusLeader.primary.p < 0.05));
    }
  }
  const small = leaderboard.filter((r: any) => !r.ranked);
  assert.deepEqual(
    small.map((r: any) => [r.run.id, r.rank, r.promptsScored, r.imagesScored, r.versusLeader]).sort(),
    [
      [runs.fewerPrompts, null, 5, 10, null],
      [runs.oneImage, null, 5, 5, null],
    ].sort(),
  );
  // VISOR_2 to 4 are undefined at one image per prompt.
  const oneImage = leaderboard.find((r: any) => r.run.id === runs.oneImage);
  assert.deepEqual(
    oneImage.metrics.filter((m: any) => /VISOR_[234]/.test(m.key)).map((m: any) => m.value),
    [null, null, null],
  );

  // The InfSplign row's delta carries VISOR_cond's own paired test.
  const row = leaderboard.find((r: any) => r.run.id === runs.infsplign);
  assert.deepEqual(row.versusBaseline.primary, { key: 'VISOR_cond', difference: 50, p: 2 / 1001, test: 'BOOTSTRAP', beyondNoise: true });

  // Another metric sorts when asked; the ranks follow it.
  const byOA = (await h.gql(BOARD, { sort: { metric: 'OA', direction: 'ASC' } })).data!.leaderboard;
  assert.equal(byOA.find((r: any) => r.ranked && r.model.name === 'tiny-test').rank, 1);
});

test('leaderboard answers made row by row equal the usual execution; a run written anew leaves the other rows, and their answers, as they were', async () => {
  // The web page's query: every row with its paired tests against the baseline and the leader.
  const COMPARED = 'key a b difference low high test p beyondNoise';
  const ROWS = `rank ranked promptsScored imagesScored method configHash isBaseline detector threshold model { name }
    run { id config seed imagesPerPrompt limit finishedAt promptSet { name } team { name } }
    metrics { key value low high }
    versusBaseline { baseline { id } deltas { key value } primary { ${COMPARED} } beyondNoise }
    versusLeader { leader { id } primary { ${COMPARED} } tiedWithinNoise }`;
  const byRows = async () => (await h.gql(`query ($b: String!) { board: leaderboard(benchmark: $b) { ${ROWS} } }`, { b: 'visor-shapes' })).data!.board;
  // A second root field takes the usual execution.
  const usual = async () =>
    (await h.gql(`query ($b: String!) { board: leaderboard(benchmark: $b) { ${ROWS} } __typename }`, { b: 'visor-shapes' })).data!.board;
  const first = await byRows();
  assert.ok(first.length >= 4 && first.some((r: any) => r.versusBaseline) && first.some((r: any) => r.versusLeader), 'rows with both comparisons');
  assert.deepEqual(first, await usual());
  assert.deepEqual(await byRows(), first, 'the kept answer');
  // A field that reads the database for each row (not one of the row's own) is answered as usual.
  const timelines = (await h.gql('{ leaderboard(benchmark: "visor-shapes") { run { id timeline { status } } } }')).data!.leaderboard;
  assert.deepEqual(
    timelines.map((r: any) => [r.run.id, r.run.timeline.at(-1).status]),
    first.map((r: any) => [r.run.id, 'FINISHED']),
  );

  const ctx = createRequestContext(h.api.services, undefined, '127.0.0.1');
  const before = await leaderboard({ benchmark: 'visor-shapes' }, ctx);
  const touched = before.find((row) => row.rank !== null && row.rank > 1 && !row.isBaseline)!;
  // Its row is written again (its figures as they were): a new row version, so the run is read again.
  await h.prisma.run.update({ where: { id: touched.run.id }, data: { device: 'cpu (touched)' } });
  const after = await leaderboard({ benchmark: 'visor-shapes' }, ctx);
  assert.deepEqual(
    after.map((r) => r.run.id),
    before.map((r) => r.run.id),
  );
  for (const [i, row] of after.entries()) {
    if (row.run.id === touched.run.id) assert.notEqual(row, before[i], 'the run written anew is a new row');
    else assert.equal(row, before[i], `row ${i} (run ${row.run.id}) is the same object`);
  }
  assert.equal(after.find((r) => r.run.id === touched.run.id)!.run.device, 'cpu (touched)');
  assert.deepEqual(await byRows(), first);
  assert.deepEqual(await usual(), first);
});

test("Run.versusBaseline is the leaderboard's comparison; configChanges lists what differs from the model's defaults", async () => {
  const QUERY = `query ($id: ID!) { run(id: $id) { configChanges { key value default }
    versusBaseline { a { id } b { id } pairing metrics { key difference p test } byRelation { relation metrics { key difference low high } } } } }`;
  const run = (await h.gql(QUERY, { id: runs.fewerPrompts })).data!.run;
  assert.deepEqual(run.configChanges, [{ key: 'guidance_weight', value: 10, default: TEST_MODEL_DEFAULTS.guidance_weight }]);
  // Its baseline must share the limit: none did (the baseline has 10 prompts).
  assert.equal(run.versusBaseline, null);
  const infsplign = (await h.gql(QUERY, { id: runs.infsplign })).data!.run;
  assert.deepEqual(infsplign.configChanges, []);
  assert.deepEqual([infsplign.versusBaseline.a.id, infsplign.versusBaseline.b.id, infsplign.versusBaseline.pairing], [runs.baseline, runs.infsplign, 'IMAGE']);
  assert.deepEqual(
    infsplign.versusBaseline.metrics,
    (await compare(runs.baseline, runs.infsplign)).metrics.map(({ key, difference, p, test }: any) => ({ key, difference, p, test })),
  );
  assert.ok(infsplign.versusBaseline.byRelation.length > 0);
  const baseline = (await h.gql(QUERY, { id: runs.baseline })).data!.run;
  assert.deepEqual([baseline.configChanges, baseline.versusBaseline], [[], null]);
});

test('images page backward from a cursor and tell their position; an image knows its neighbours and the same prompt in other runs', async () => {
  const PAGE = `query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    images(runId: $id, first: $first, after: $after, last: $last, before: $before) {
      totalCount startIndex pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { id } } } }`;
  const page = async (variables: Record<string, unknown>) => (await h.gql(PAGE, { id: runs.baseline, ...variables })).data!.images;
  const one = await page({ first: 6 });
  const two = await page({ first: 6, after: one.pageInfo.endCursor });
  const back = await page({ last: 6, before: two.pageInfo.startCursor });
  assert.deepEqual([one.startIndex, two.startIndex, back.startIndex, two.totalCount], [0, 6, 0, 20]);
  assert.deepEqual(back.edges, one.edges);
  assert.deepEqual(
    [one.pageInfo.hasPreviousPage, two.pageInfo.hasPreviousPage, back.pageInfo.hasPreviousPage, back.pageInfo.hasNextPage],
    [false, true, false, true],
  );
  const last = await page({ last: 6 });
  assert.deepEqual([last.startIndex, last.pageInfo.hasNextPage, last.pageInfo.hasPreviousPage], [14, false, true]);
  const both = await h.gql(PAGE, { id: runs.baseline, first: 2, last: 2 });
  assert.deepEqual(both.errors?.[0].extensions?.fieldErrors?.[0].path, ['before']);

  const IMAGE = `query ($id: ID!) { image(id: $id) { id imageIndex prompt { externalId } run { id }
    previous { id } next { id } otherRuns { runId imageIndex prompt { externalId } } } }`;
  const second = (await h.gql(IMAGE, { id: one.edges[1].node.id })).data!.image;
  assert.deepEqual([second.previous.id, second.next.id, second.run.id], [one.edges[0].node.id, one.edges[2].node.id, runs.baseline]);
  const first = (await h.gql(IMAGE, { id: one.edges[0].node.id })).data!.image;
  assert.equal(first.previous, null);
  assert.equal((await h.gql(IMAGE, { id: last.edges[5].node.id })).data!.image.next, null);
  // Image 1 of the same prompt in every other finished run of the prompt set that has it (not the one-image run).
  const others = second.otherRuns.map((i: any) => i.runId).sort();
  assert.deepEqual(others, [runs.infsplign, runs.otherSeed, runs.fewerPrompts, runs.otherModel, runs.otherModelBaseline].sort());
  assert.ok(second.otherRuns.every((i: any) => i.imageIndex === second.imageIndex && i.prompt.externalId === second.prompt.externalId));
});
