/**
 * Attend-and-Excite's schedule against the OFFICIAL pipeline's (fixtures/arena-official/attend-and-
 * excite/schedule.json, observed by running its __call__): the step sizes, which steps update and
 * which refine, with which threshold and cap, for the references' PNDM loop (51 iterations), the
 * arena's DDPM 50 and the bundled model's 20; and, on the traced scenarios, the plan fed the official
 * evaluations' losses in order asks for exactly the official sequence of evaluations and updates.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { methodDefaults } from '../../src/contracts/model-defaults.ts';
import { attendAndExcite } from '../../src/methods/attend-and-excite/index.ts';
import type { AttendAndExciteParams } from '../../src/methods/attend-and-excite/params.ts';
import { scheduleAt } from '../../src/methods/attend-and-excite/schedule.ts';
import type { LatentUpdate } from '../../src/methods/method.ts';
import { assertRefinementToCap, checkTracedStep, closeStepSize, drivePlan, requestKinds, type OfficialEvent, type Seen } from './support/drive-plan.ts';

const SCHEDULE = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/arena-official/attend-and-excite/schedule.json'), 'utf8')) as {
  samplers: Record<
    string,
    {
      loop_iterations: number;
      updates: Array<{ i: number; step_size: number }>;
      refinements: Array<{ i: number; threshold: number; step_size: number; max_refinement_steps: number; iterations: number; updates: number }>;
    }
  >;
  scenarios: Array<{ name: string; sampler: string; steps: Array<{ i: number; events: OfficialEvent[] }> }>;
};

/** The official defaults (SD 1.x) for a sampler loop of `steps`. */
const paramsFor = (steps: number) =>
  attendAndExcite.params.resolve(methodDefaults(attendAndExcite, 'sd1', null), { steps }, 'the official defaults', 'sd1') as AttendAndExciteParams;

/** Drives the image's plan at step i, answering each evaluation with the next loss of `losses`; returns what it asked for. */
function drive(params: AttendAndExciteParams, i: number, steps: number, losses: number[]): Seen[] {
  const plan = (attendAndExcite.guidance as LatentUpdate<AttendAndExciteParams, unknown, unknown>).plan(params, i, steps);
  return drivePlan(
    plan,
    i,
    losses.map((loss) => ({ loss, report: {} })),
  );
}

describe("the schedule of Attend-and-Excite equals the official pipeline's (schedule.json)", () => {
  for (const [name, sampler] of Object.entries(SCHEDULE.samplers)) {
    test(`${name}: the steps that update, their step sizes, and the refinements' thresholds, caps and step sizes`, () => {
      const N = sampler.loop_iterations;
      const params = paramsFor(N);
      const updates = Array.from({ length: N }, (_, i) => ({ i, ...scheduleAt(params, i, N) })).filter((s) => s.update);
      assert.deepEqual(
        updates.map((u) => u.i),
        sampler.updates.map((u) => u.i),
      );
      updates.forEach((u, k) => closeStepSize(u.stepSize, sampler.updates[k]!.step_size, `step size at ${u.i}`));
      const refining = Array.from({ length: N }, (_, i) => ({ i, ...scheduleAt(params, i, N) })).filter((s) => s.refinement);
      assert.deepEqual(
        refining.map((r) => [r.i, r.refinement!.threshold, r.refinement!.cap]),
        sampler.refinements.map((r) => [r.i, r.threshold, r.max_refinement_steps]),
      );
      for (const official of sampler.refinements) {
        closeStepSize(scheduleAt(params, official.i, N).stepSize, official.step_size, `refinement step size at ${official.i}`);
        // on maps whose loss (0.98) never reaches a threshold, the refinement runs to its cap
        const seen = drive(params, official.i, N, new Array(100).fill(0.98));
        assertRefinementToCap(seen, official);
      }
    });
  }

  for (const scenario of SCHEDULE.scenarios) {
    test(`scenario ${scenario.name}: fed the official losses, the plan asks for the official evaluations and updates, step by step`, () => {
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
              evaluations.map((e) => e.loss),
            ),
          updates,
        );
    });
  }

  test('an update is skipped when the loss is exactly 0, and a step with no update and no refinement asks for nothing', () => {
    const params = paramsFor(50);
    assert.deepEqual(drive(params, 3, 50, [0]), [{ kind: 'evaluate', refinement: false }]);
    assert.deepEqual(drive(params, 3, 50, [0.5]), [
      { kind: 'evaluate', refinement: false },
      { kind: 'update', stepSize: scheduleAt(params, 3, 50).stepSize, refinement: false },
    ]);
    // the refinement's last evaluation (its loss decides the regular update) belongs to it, as in the official code
    assert.deepEqual(requestKinds(drive(params, 0, 50, [0.99, 0.99, 0.5, 0.4])), [
      'evaluate',
      'evaluate (refinement)',
      'update (refinement)',
      'evaluate (refinement)',
      'update (refinement)',
      'evaluate (refinement)',
      'update',
    ]);
    assert.deepEqual(drive(params, 30, 50, []), []);
    // refinement at step 0 with a loss that is 0 from its first iteration: one iteration, no update
    assert.deepEqual(requestKinds(drive(params, 0, 50, [0.99, 0, 0])), ['evaluate', 'evaluate (refinement)', 'evaluate (refinement)']);
  });
});
