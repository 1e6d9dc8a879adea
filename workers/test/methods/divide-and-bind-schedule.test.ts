/**
 * Divide & Bind's schedule against the OFFICIAL pipeline's (fixtures/arena-official/divide-and-bind/
 * schedule.json, observed by running its __call__): the step sizes, which steps update and which
 * refine, with which threshold and cap (100 at step 0, 50 elsewhere), for the references' PNDM loop
 * (51 iterations), the arena's DDPM 50 and the bundled model's 20; and, on the traced scenarios, the
 * plan fed the official evaluations (loss and threshold indicator) in order asks for exactly the
 * official sequence of evaluations and updates, the one-update lag of the refinement loop included.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { methodDefaults } from '../../src/contracts/model-defaults.ts';
import { divideAndBind } from '../../src/methods/divide-and-bind/index.ts';
import type { DivideAndBindParams } from '../../src/methods/divide-and-bind/params.ts';
import { scheduleAt } from '../../src/methods/divide-and-bind/schedule.ts';
import type { ImageEvaluation, LatentUpdate } from '../../src/methods/method.ts';
import { assertRefinementToCap, checkTracedStep, closeStepSize, drivePlan, requestKinds, type OfficialEvent, type Seen } from './support/drive-plan.ts';

const SCHEDULE = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/arena-official/divide-and-bind/schedule.json'), 'utf8')) as {
  samplers: Record<
    string,
    {
      loop_iterations: number;
      updates: Array<{ i: number; step_size: number }>;
      refinements: Array<{
        i: number;
        threshold: number;
        step_size: number;
        target_indicator: number;
        max_refinement_steps: number;
        max_refinement_steps_init_step: number;
        iterations: number;
        updates: number;
      }>;
    }
  >;
  scenarios: Array<{ name: string; sampler: string; steps: Array<{ i: number; events: OfficialEvent[] }> }>;
};

/** The official defaults (Stable Diffusion) for a sampler loop of `steps`, with `extra` parameters. */
const paramsFor = (steps: number, extra: Record<string, unknown> = {}) =>
  divideAndBind.params.resolve(methodDefaults(divideAndBind, 'sd1', null), { steps, ...extra }, 'the official defaults', 'sd1') as DivideAndBindParams;

/** An evaluation as the loss reports it: the loss and the threshold indicator. */
const evaluation = (loss: number, threshold: number): ImageEvaluation => ({ loss, report: { threshold } });

function drive(params: DivideAndBindParams, i: number, steps: number, evaluations: ImageEvaluation[]): Seen[] {
  const plan = (divideAndBind.guidance as LatentUpdate<DivideAndBindParams, unknown, unknown>).plan(params, i, steps);
  return drivePlan(plan, i, evaluations);
}

describe("the schedule of Divide & Bind equals the official pipeline's (schedule.json)", () => {
  for (const [name, sampler] of Object.entries(SCHEDULE.samplers)) {
    test(`${name}: the steps that update, their step sizes, and the refinements' thresholds, caps and step sizes`, () => {
      const N = sampler.loop_iterations;
      const params = paramsFor(N);
      const steps = Array.from({ length: N }, (_, i) => ({ i, ...scheduleAt(params, i, N) }));
      const updates = steps.filter((s) => s.update);
      assert.deepEqual(
        updates.map((u) => u.i),
        sampler.updates.map((u) => u.i),
      );
      updates.forEach((u, k) => closeStepSize(u.stepSize, sampler.updates[k]!.step_size, `step size at ${u.i}`));
      const refining = steps.filter((s) => s.refinement);
      assert.deepEqual(
        refining.map((r) => [r.i, r.refinement!.threshold]),
        sampler.refinements.map((r) => [r.i, r.threshold]),
      );
      for (const official of sampler.refinements) {
        const step = scheduleAt(params, official.i, N);
        closeStepSize(step.stepSize, official.step_size, `refinement step size at ${official.i}`);
        assert.equal(step.refinement!.cap, official.i === 0 ? official.max_refinement_steps_init_step : official.max_refinement_steps);
        // on maps whose indicator never reaches a threshold, the refinement runs to its cap
        const stuck = evaluation(-official.target_indicator, official.target_indicator);
        const seen = drive(params, official.i, N, new Array(200).fill(stuck));
        assertRefinementToCap(seen, official);
      }
    });
  }

  for (const scenario of SCHEDULE.scenarios) {
    test(`scenario ${scenario.name}: fed the official evaluations, the plan asks for the official evaluations and updates, step by step`, () => {
      const N = SCHEDULE.samplers[scenario.sampler]!.loop_iterations;
      const params = paramsFor(N);
      let updates = 0;
      for (const { i, events } of scenario.steps)
        updates = checkTracedStep(
          i,
          events,
          (evaluations) =>
            drive(
              params,
              i,
              N,
              evaluations.map((e) => evaluation(e.loss, e.threshold!)),
            ),
          updates,
        );
    });
  }

  test('the refinement continues on the indicator of its latest evaluation, one update past the threshold, and skips updates with a loss of exactly 0', () => {
    const params = paramsFor(50);
    const size = scheduleAt(params, 3, 50).stepSize;
    assert.deepEqual(drive(params, 3, 50, [evaluation(0, 0)]), [{ kind: 'evaluate', refinement: false }]);
    assert.deepEqual(drive(params, 3, 50, [evaluation(-0.1, 0.1)]), [
      { kind: 'evaluate', refinement: false },
      { kind: 'update', stepSize: size, refinement: false },
    ]);
    // at step 0 (threshold 0.05): enters below it, the second evaluation (0.06) ends the loop after its update
    assert.deepEqual(requestKinds(drive(params, 0, 50, [evaluation(-0.01, 0.01), evaluation(-0.01, 0.01), evaluation(-0.06, 0.06), evaluation(-0.2, 0.2)])), [
      'evaluate',
      'evaluate (refinement)',
      'update (refinement)',
      'evaluate (refinement)',
      'update (refinement)',
      'evaluate (refinement)',
      'update',
    ]);
    // an indicator at the threshold does not refine (strictly below, DB:1071)
    assert.deepEqual(requestKinds(drive(params, 10, 50, [evaluation(-0.2, Math.fround(0.2))])), ['evaluate', 'update']);
    assert.deepEqual(drive(params, 30, 50, []), []);
    // loss_mode max takes its own thresholds {0: 0.05, 10: 0.5, 20: 0.8}; given thresholds replace the mode's
    assert.equal(scheduleAt(paramsFor(50, { loss_mode: 'max' }), 10, 50).refinement!.threshold, 0.5);
    assert.deepEqual(scheduleAt(paramsFor(50, { thresholds: { 4: 0.3 } }), 4, 50).refinement, { threshold: 0.3, cap: 50 });
    assert.equal(scheduleAt(paramsFor(50, { thresholds: { 4: 0.3 } }), 10, 50).refinement, null);
  });
});
