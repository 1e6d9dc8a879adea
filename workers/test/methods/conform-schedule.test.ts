/**
 * CONFORM's schedule against the OFFICIAL pipeline's (fixtures/arena-official/conform/schedule.json,
 * observed by running its __call__): the step sizes and the steps that update, the refinement steps
 * with their fixed number of iterations, for the references' PNDM loop (51 iterations), the arena's
 * DDPM 50 and the bundled model's 20; on the traced scenarios, the plan fed the official evaluations'
 * losses in order asks for exactly the official sequence of evaluations and updates. And which
 * embeddings pair up: the previous step's maps join each object's class only when there are some.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { methodDefaults } from '../../src/contracts/model-defaults.ts';
import { conform } from '../../src/methods/conform/index.ts';
import type { ConformParams } from '../../src/methods/conform/params.ts';
import { scheduleAt } from '../../src/methods/conform/schedule.ts';
import type { LatentUpdate, PlanRequest } from '../../src/methods/method.ts';

const SCHEDULE = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/arena-official/conform/schedule.json'), 'utf8')) as {
  samplers: Record<
    string,
    {
      loop_iterations: number;
      updates: Array<{ i: number; step_size: number }>;
      refinements: Array<{ i: number; step_size: number; refinement_steps: number; iterations: number; updates: number }>;
    }
  >;
  scenarios: Array<{ name: string; sampler: string; steps: Array<{ i: number; events: OfficialEvent[] }> }>;
};

/** A loss the official trace wrote as 'nan' (the float32 overflow of the previous maps, docs/method.md §6.4). */
type OfficialLoss = number | 'nan';
type OfficialEvent =
  | { event: 'evaluation'; loss: OfficialLoss; updates_before: number; refinement: boolean }
  | { event: 'update'; step_size: number; loss: OfficialLoss; refinement: boolean }
  | { event: 'refinement' | 'refinement_end' };

const lossValue = (loss: OfficialLoss) => (loss === 'nan' ? Number.NaN : loss);

/** The official defaults (SD 1.x) for a sampler loop of `steps`, with `overrides`. */
const paramsFor = (steps: number, overrides: Partial<ConformParams> = {}) =>
  conform.params.resolve(methodDefaults(conform, 'sd1', null), { ...overrides, steps }, 'the official defaults', 'sd1');

/** A plan's request as the official trace records it: evaluations and updates, each in or out of the refinement. */
type Request = { kind: 'evaluate' | 'update'; refinement: boolean; stepSize?: number };

/** The requests of the image's plan at step i of `steps`, each evaluation answered with the next of `losses`. */
function requests(params: ConformParams, i: number, steps: number, losses: number[]): Request[] {
  const plan = (conform.guidance as LatentUpdate<ConformParams, unknown, unknown>).plan(params, i, steps);
  const asked: Request[] = [];
  let answer: number | undefined;
  for (let next = plan.next(); !next.done; next = answer === undefined ? plan.next() : plan.next({ loss: answer, report: {} })) {
    const request: PlanRequest = next.value;
    answer = undefined;
    asked.push(
      request.kind === 'update'
        ? { kind: 'update', refinement: request.refinement, stepSize: request.stepSize }
        : { kind: 'evaluate', refinement: request.refinement },
    );
    if (request.kind === 'evaluate') {
      answer = losses.shift();
      assert.ok(answer !== undefined, `step ${i}: the plan asked for more evaluations than the official code made`);
    }
  }
  return asked;
}

const close = (a: number | undefined, b: number, what: string) => assert.ok(Math.abs(a! - b) <= 1e-12 * Math.abs(b), `${what}: ${a} vs official ${b}`);
const count = (asked: Request[], kind: Request['kind'], refinement: boolean) => asked.filter((r) => r.kind === kind && r.refinement === refinement).length;

describe("the schedule of CONFORM equals the official pipeline's (schedule.json)", () => {
  for (const [name, sampler] of Object.entries(SCHEDULE.samplers)) {
    test(`${name}: the steps that update and their step sizes, the refinement steps and their iterations`, () => {
      const N = sampler.loop_iterations;
      const params = paramsFor(N);
      const steps = Array.from({ length: N }, (_, i) => ({ i, ...scheduleAt(params, i, N) }));
      const updates = steps.filter((s) => s.update);
      assert.deepEqual(
        updates.map((u) => u.i),
        sampler.updates.map((u) => u.i),
      );
      updates.forEach((u, k) => close(u.stepSize, sampler.updates[k]!.step_size, `step size at ${u.i}`));
      assert.deepEqual(
        steps.filter((s) => s.refinement !== null).map((s) => [s.i, s.refinement]),
        sampler.refinements.map((r) => [r.i, r.refinement_steps]),
      );
      for (const official of sampler.refinements) {
        // static maps: the loss is the same nonzero value at every evaluation, and every iteration updates
        const asked = requests(params, official.i, N, new Array(100).fill(0.75));
        assert.equal(count(asked, 'evaluate', true), official.iterations + 1, `refinement evaluations at ${official.i}: each iteration's, then the one after`);
        assert.equal(count(asked, 'update', true), official.updates, `refinement updates at ${official.i}`);
        asked.filter((r) => r.kind === 'update').forEach((r) => close(r.stepSize, official.step_size, `refinement step size at ${official.i}`));
      }
    });
  }

  SCHEDULE.scenarios.forEach(({ name, sampler, steps }) => {
    test(`scenario ${name} (${sampler}): the plan fed the official losses in order asks for the official evaluations and updates at each step`, () => {
      const N = SCHEDULE.samplers[sampler]!.loop_iterations;
      const params = paramsFor(N);
      let updates = 0;
      for (const { i, events } of steps) {
        const evaluations = events.flatMap((e) => (e.event === 'evaluation' ? [e] : []));
        const official = events.flatMap((e): Request[] =>
          e.event === 'evaluation' || e.event === 'update' ? [{ kind: e.event === 'update' ? 'update' : 'evaluate', refinement: e.refinement }] : [],
        );
        const asked = requests(
          params,
          i,
          N,
          evaluations.map((e) => lossValue(e.loss)),
        );
        // the official loop reads the loss at every step; past the last that updates or refines, the plan reads none
        if (!events.some((e) => e.event === 'update' || e.event === 'refinement') && !scheduleAt(params, i, N).keepsMaps) {
          assert.deepEqual(asked, [], `step ${i}: nothing to evaluate for`);
          continue;
        }
        assert.deepEqual(
          asked.map(({ kind, refinement }) => ({ kind, refinement })),
          official,
          `step ${i}: the sequence`,
        );
        const officialSizes = events.flatMap((e) => (e.event === 'update' ? [e.step_size] : []));
        asked.filter((r) => r.kind === 'update').forEach((r, k) => close(r.stepSize, officialSizes[k]!, `step ${i} update ${k}`));
        for (const [k, r] of asked.entries()) {
          if (r.kind === 'update') updates++;
          else
            assert.equal(
              updates,
              evaluations[asked.slice(0, k).filter((x) => x.kind === 'evaluate').length]!.updates_before,
              `step ${i}: updates before evaluation ${k}`,
            );
        }
      }
    });
  });

  test('an update is skipped when the loss is exactly 0; a step that does not act evaluates only when the next step reads its maps', () => {
    const params = paramsFor(50);
    assert.deepEqual(requests(params, 3, 50, [0]), [{ kind: 'evaluate', refinement: false }]);
    assert.deepEqual(requests(params, 3, 50, [0.5]), [
      { kind: 'evaluate', refinement: false },
      { kind: 'update', refinement: false, stepSize: scheduleAt(params, 3, 50).stepSize },
    ]);
    assert.deepEqual(requests(params, 30, 50, []), []);
    // with the updates over at step 5 and a refinement at 10, step 9 evaluates for step 10's previous maps, and updates nothing
    const early = paramsFor(50, { max_iter_to_alter: 5 });
    assert.deepEqual(requests(early, 9, 50, [0.5]), [{ kind: 'evaluate', refinement: false }]);
    assert.deepEqual(requests(early, 8, 50, []), []);
    assert.deepEqual(requests(paramsFor(50, { max_iter_to_alter: 5, add_previous_attention_maps: false }), 9, 50, []), []);
    // no refinement iterations: the refinement is its one evaluation after them
    assert.deepEqual(
      requests(paramsFor(50, { refinement_steps: 0 }), 10, 50, [0.5, 0.4]).map((r) => r.kind),
      ['evaluate', 'evaluate', 'update'],
    );
  });
});

describe("CONFORM's embeddings and pairs (pytorch_metric_learning's get_all_pairs_indices)", () => {
  const guidance = conform.guidance!;
  const params = paramsFor(50);
  const layout = { tokens: 16 };
  const row = guidance.prepareFromMaps(
    {
      objects: [
        { name: 'fire hydrant', tokens: [3, 4] },
        { name: 'teddy bear', tokens: [10, 11] },
      ],
      tokens: 16,
      relation: 'left of',
    },
    params,
  );
  const pairs = (mask: Float32Array, m: number) => [...mask].flatMap((v, k) => (v === 1 ? [[Math.floor(k / m), k % m]] : []));

  test("without previous maps: the ordered pairs of one object's tokens are positive, of two objects negative", () => {
    const feeds = guidance.feeds([row], params, layout, { index: 0, steps: 50, refinement: [false] });
    assert.deepEqual(feeds.positive!.dims, [1, 8, 8]);
    assert.deepEqual(pairs(feeds.positive!.data, 8), [
      [0, 1],
      [1, 0],
      [2, 3],
      [3, 2],
    ]);
    assert.deepEqual(pairs(feeds.negative!.data, 8), [
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 0],
      [2, 1],
      [3, 0],
      [3, 1],
    ]);
    assert.ok(feeds.previous!.data.every((v) => v === 0));
  });

  test("with previous maps: each token's previous map joins its object, and the carried maps are fed unchanged", () => {
    const carried = Float32Array.from({ length: 16 * 16 * 16 }, (_, k) => k / 4096);
    const feeds = guidance.feeds([row], params, layout, { index: 1, steps: 50, refinement: [false], carried: [carried] });
    assert.deepEqual(
      pairs(feeds.positive!.data, 8).filter(([a]) => a === 0),
      [
        [0, 1],
        [0, 4],
        [0, 5],
      ],
    );
    assert.deepEqual(
      pairs(feeds.negative!.data, 8).filter(([a]) => a === 4),
      [
        [4, 2],
        [4, 3],
        [4, 6],
        [4, 7],
      ],
    );
    assert.deepEqual(feeds.previous!.data, carried);
    // add_previous_attention_maps false: the carried maps are not read
    const without = guidance.feeds([row], { ...params, add_previous_attention_maps: false }, layout, {
      index: 1,
      steps: 50,
      refinement: [false],
      carried: [carried],
    });
    assert.deepEqual(pairs(without.positive!.data, 8), [
      [0, 1],
      [1, 0],
      [2, 3],
      [3, 2],
    ]);
  });

  test("a token in two groups keeps its first place and its last group, as the reference's dict does", () => {
    const overlapping = guidance.prepareFromMaps(
      {
        objects: [
          { name: 'a', tokens: [2, 3] },
          { name: 'b', tokens: [3, 5] },
        ],
        tokens: 16,
        relation: null,
      },
      params,
    );
    assert.deepEqual(overlapping, { tokens: [2, 3, 5], classes: [0, 1, 1] });
  });
});
