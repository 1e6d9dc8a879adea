/**
 * Drives a latent-update method's plan for one image at one step (method.ts StepPlan) the way the
 * engine does, answering each evaluation with the next of given evaluations (the official code's, in
 * order), and records what the plan asked for: the schedule tests compare it with the official trace.
 */
import assert from 'node:assert/strict';
import type { ImageEvaluation, PlanRequest, StepPlan } from '../../../src/methods/method.ts';

export type Seen = { kind: 'evaluate'; refinement: boolean } | { kind: 'update'; stepSize: number; refinement: boolean };

/** Runs `plan` (step i, for messages), answering evaluations from `evaluations` (consumed); returns the requests. */
export function drivePlan(plan: StepPlan, i: number, evaluations: ImageEvaluation[]): Seen[] {
  const seen: Seen[] = [];
  for (let next = plan.next(); !next.done;) {
    const request: PlanRequest = next.value;
    if (request.kind === 'update') {
      seen.push({ kind: 'update', stepSize: request.stepSize, refinement: request.refinement });
      next = plan.next();
    } else {
      const evaluation = evaluations.shift();
      assert.ok(evaluation !== undefined, `step ${i}: the plan asked for more evaluations than the official code made`);
      seen.push({ kind: 'evaluate', refinement: request.refinement });
      next = plan.next(evaluation);
    }
  }
  return seen;
}

/** A refinement at step i that ran to its cap: each official iteration evaluated and updated, then one more evaluation closed it. */
export function assertRefinementToCap(seen: Seen[], official: { i: number; iterations: number; updates: number }): void {
  assert.equal(seen.filter((s) => s.kind === 'evaluate' && s.refinement).length, official.iterations + 1, `refinement iterations at ${official.i}`);
  assert.equal(seen.filter((s) => s.kind === 'update' && s.refinement).length, official.updates, `refinement updates at ${official.i}`);
}

/** Requests as words, for sequences compared at a glance. */
export const requestKinds = (seen: Seen[]) => seen.map((s) => `${s.kind}${s.refinement ? ' (refinement)' : ''}`);

/** Equal to 1e-12 relative (the step sizes are the same float64 arithmetic as numpy's). */
export const closeStepSize = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b), `${what}: ${a} vs official ${b}`);

/** An event of the official traces (schedule.json's scenarios). */
export type OfficialEvent =
  | { event: 'evaluation'; loss: number; updates_before: number; refinement: boolean; threshold?: number }
  | { event: 'update'; step_size: number; loss: number; refinement: boolean }
  | { event: 'refinement' | 'refinement_end' };
export type OfficialEvaluation = Extract<OfficialEvent, { event: 'evaluation' }>;

/**
 * Checks one traced step: `drive` runs the plan answering the official evaluations in order. The plan
 * must ask for the official sequence of evaluations and updates (with the step sizes), see the
 * official count of updates before each evaluation, and ask for nothing at a step where the official
 * loop evaluates for nothing (no update, no refinement). Returns the count of updates after the step.
 */
export function checkTracedStep(i: number, events: OfficialEvent[], drive: (evaluations: OfficialEvaluation[]) => Seen[], updatesBefore: number): number {
  const evaluations = events.filter((e): e is OfficialEvaluation => e.event === 'evaluation');
  const official = events.flatMap((e): Seen[] =>
    e.event === 'evaluation'
      ? [{ kind: 'evaluate', refinement: e.refinement }]
      : e.event === 'update'
        ? [{ kind: 'update', stepSize: e.step_size, refinement: e.refinement }]
        : [],
  );
  const acts = official.some((e) => e.kind === 'update') || events.some((e) => e.event === 'refinement');
  const seen = drive(evaluations);
  if (!acts) {
    assert.deepEqual(seen, [], `step ${i}: nothing to evaluate for`);
    return updatesBefore;
  }
  const withoutSizes = (s: Seen[]) => s.map((x) => ({ ...x, ...(x.kind === 'update' ? { stepSize: 0 } : {}) }));
  assert.deepEqual(withoutSizes(seen), withoutSizes(official), `step ${i}: the sequence`);
  seen.forEach((s, k) => s.kind === 'update' && closeStepSize(s.stepSize, (official[k] as { stepSize: number }).stepSize, `step ${i} update ${k}`));
  let before = updatesBefore;
  seen.forEach((s, k) => {
    if (s.kind === 'update') before++;
    else
      assert.equal(
        before,
        evaluations[seen.slice(0, k).filter((x) => x.kind === 'evaluate').length]!.updates_before,
        `step ${i}: updates before evaluation ${k}`,
      );
  });
  return before;
}
