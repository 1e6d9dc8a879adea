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
import type { LatentUpdate, PlanRequest } from '../../src/methods/method.ts';

const SCHEDULE = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/arena-official/attend-and-excite/schedule.json'), 'utf8')) as {
  samplers: Record<string, {
    loop_iterations: number;
    updates: Array<{ i: number; step_size: number }>;
    refinements: Array<{ i: number; threshold: number; step_size: number; max_refinement_steps: number; iterations: number; updates: number }>;
  }>;
  scenarios: Array<{ name: string; sampler: string; steps: Array<{ i: number; events: OfficialEvent[] }> }>;
};

type OfficialEvent =
  | { event: 'evaluation'; loss: number; updates_before: number; refinement: boolean }
  | { event: 'update'; step_size: number; loss: number; refinement: boolean }
  | { event: 'refinement' | 'refinement_end' };

/** The official defaults (SD 1.x) for a sampler loop of `steps`. */
const paramsFor = (steps: number) => attendAndExcite.params.resolve(methodDefaults(attendAndExcite, 'sd1', null), { steps }, 'the official defaults', 'sd1') as AttendAndExciteParams;

type Seen = { kind: 'evaluate'; refinement: boolean } | { kind: 'update'; stepSize: number; refinement: boolean };

/** Drives the image's plan at step i, answering each evaluation with the next loss of `losses`; returns what it asked for. */
function drive(params: AttendAndExciteParams, i: number, steps: number, losses: number[]): Seen[] {
  const plan = (attendAndExcite.guidance as LatentUpdate<AttendAndExciteParams, unknown, unknown>).plan(params, i, steps);
  const seen: Seen[] = [];
  for (let next = plan.next(); !next.done; ) {
    const request: PlanRequest = next.value;
    if (request.kind === 'update') {
      seen.push({ kind: 'update', stepSize: request.stepSize, refinement: request.refinement });
      next = plan.next();
    } else {
      const loss = losses.shift();
      assert.ok(loss !== undefined, `step ${i}: the plan asked for more evaluations than the official code made`);
      seen.push({ kind: 'evaluate', refinement: request.refinement });
      next = plan.next({ loss, report: {} });
    }
  }
  return seen;
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b), `${what}: ${a} vs official ${b}`);

describe('the schedule of Attend-and-Excite equals the official pipeline\'s (schedule.json)', () => {
  for (const [name, sampler] of Object.entries(SCHEDULE.samplers)) {
    test(`${name}: the steps that update, their step sizes, and the refinements' thresholds, caps and step sizes`, () => {
      const N = sampler.loop_iterations;
      const params = paramsFor(N);
      const updates = Array.from({ length: N }, (_, i) => ({ i, ...scheduleAt(params, i, N) })).filter((s) => s.update);
      assert.deepEqual(updates.map((u) => u.i), sampler.updates.map((u) => u.i));
      updates.forEach((u, k) => close(u.stepSize, sampler.updates[k]!.step_size, `step size at ${u.i}`));
      const refining = Array.from({ length: N }, (_, i) => ({ i, ...scheduleAt(params, i, N) })).filter((s) => s.refinement);
      assert.deepEqual(refining.map((r) => [r.i, r.refinement!.threshold, r.refinement!.cap]), sampler.refinements.map((r) => [r.i, r.threshold, r.max_refinement_steps]));
      for (const official of sampler.refinements) {
        close(scheduleAt(params, official.i, N).stepSize, official.step_size, `refinement step size at ${official.i}`);
        // on maps whose loss (0.98) never reaches a threshold, the refinement runs to its cap
        const seen = drive(params, official.i, N, new Array(100).fill(0.98));
        // each iteration evaluates, then one more evaluation closes the refinement
        assert.equal(seen.filter((s) => s.kind === 'evaluate' && s.refinement).length, official.iterations + 1, `refinement iterations at ${official.i}`);
        assert.equal(seen.filter((s) => s.kind === 'update' && s.refinement).length, official.updates, `refinement updates at ${official.i}`);
      }
    });
  }

  for (const scenario of SCHEDULE.scenarios) {
    test(`scenario ${scenario.name}: fed the official losses, the plan asks for the official evaluations and updates, step by step`, () => {
      const N = SCHEDULE.samplers[scenario.sampler]!.loop_iterations;
      const params = paramsFor(N);
      let updates = 0;
      for (const { i, events } of scenario.steps) {
        const evaluations = events.filter((e): e is Extract<OfficialEvent, { event: 'evaluation' }> => e.event === 'evaluation');
        const official = events.flatMap((e): Seen[] => (e.event === 'evaluation' ? [{ kind: 'evaluate', refinement: e.refinement }] : e.event === 'update' ? [{ kind: 'update', stepSize: e.step_size, refinement: e.refinement }] : []));
        // the official loop reads the loss at every step, also where nothing can follow (i >= 25): the plan does not
        const acts = official.some((e) => e.kind === 'update') || events.some((e) => e.event === 'refinement');
        const seen = drive(params, i, N, evaluations.map((e) => e.loss));
        if (!acts) {
          assert.deepEqual(seen, [], `step ${i}: nothing to evaluate for`);
          continue;
        }
        assert.deepEqual(seen.map((s) => ({ ...s, ...(s.kind === 'update' ? { stepSize: 0 } : {}) })), official.map((s) => ({ ...s, ...(s.kind === 'update' ? { stepSize: 0 } : {}) })), `step ${i}: the sequence`);
        seen.forEach((s, k) => s.kind === 'update' && close(s.stepSize, (official[k] as { stepSize: number }).stepSize, `step ${i} update ${k}`));
        // and the official count of updates before each evaluation
        let before = updates;
        seen.forEach((s, k) => {
          if (s.kind === 'update') before++;
          else assert.equal(before, evaluations[seen.slice(0, k).filter((x) => x.kind === 'evaluate').length]!.updates_before, `step ${i}: updates before evaluation ${k}`);
        });
        updates = before;
      }
    });
  }

  test('an update is skipped when the loss is exactly 0, and a step with no update and no refinement asks for nothing', () => {
    const params = paramsFor(50);
    assert.deepEqual(drive(params, 3, 50, [0]), [{ kind: 'evaluate', refinement: false }]);
    assert.deepEqual(drive(params, 3, 50, [0.5]), [{ kind: 'evaluate', refinement: false }, { kind: 'update', stepSize: scheduleAt(params, 3, 50).stepSize, refinement: false }]);
    // the refinement's last evaluation (its loss decides the regular update) belongs to it, as in the official code
    const kinds = (seen: Seen[]) => seen.map((s) => `${s.kind}${s.refinement ? ' (refinement)' : ''}`);
    assert.deepEqual(kinds(drive(params, 0, 50, [0.99, 0.99, 0.5, 0.4])), ['evaluate', 'evaluate (refinement)', 'update (refinement)', 'evaluate (refinement)', 'update (refinement)', 'evaluate (refinement)', 'update']);
    assert.deepEqual(drive(params, 30, 50, []), []);
    // refinement at step 0 with a loss that is 0 from its first iteration: one iteration, no update
    assert.deepEqual(kinds(drive(params, 0, 50, [0.99, 0, 0])), ['evaluate', 'evaluate (refinement)', 'evaluate (refinement)']);
  });
});
