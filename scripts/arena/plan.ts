/**
 * What the arena runs (README "The arena"): every registered method, each guided one with its
 * strength tuned over its declared grid (`arena` in its MethodDefinition) on the VISOR-Shapes tune
 * split, the baseline as it is; then each on the eval split at its pick. The pick is the grid value
 * with the highest VISOR_cond on the tune split; a tie goes to the weaker strength (listed first).
 */
import { ARENA_GRID_SIZE, registeredMethods, type AnyMethod } from '@infsplign/workers/methods';

export const BASELINE = 'baseline';
export const INFSPLIGN = 'infsplign';

export interface Entrant {
  method: string;
  /** null: the baseline, run with its defaults only */
  tuning: { strength: string; grid: readonly number[] } | null;
}

/** Every registered method as an entrant; a guided method without an arena grid, or a missing baseline or InfSplign, is an error. */
export function entrants(methods: readonly AnyMethod[] = registeredMethods()): Entrant[] {
  const names = methods.map((m) => m.name);
  for (const needed of [BASELINE, INFSPLIGN])
    if (!names.includes(needed)) throw new Error(`the arena compares every method with '${needed}', which is not registered (methods: ${names.join(', ')})`);
  return methods.map((method) => {
    if (!method.guidance) return { method: method.name, tuning: null };
    if (!method.arena)
      throw new Error(
        `method ${method.name} declares no arena strength: add \`arena: { strength: '<parameter>', grid: [${ARENA_GRID_SIZE} values] }\` to its definition (workers/src/methods/method.ts, ArenaTuning)`,
      );
    return { method: method.name, tuning: { strength: method.arena.strength, grid: method.arena.grid } };
  });
}

export interface TuneOutcome {
  value: number;
  /** VISOR_cond on the tune split; null when undefined (no image scored) */
  visorCond: number | null;
}

/** The strength with the highest VISOR_cond (ties: the first in grid order, the weaker); an error when none is defined. */
export function pickStrength(method: string, outcomes: readonly TuneOutcome[]): number {
  let best: TuneOutcome | null = null;
  for (const outcome of outcomes) if (outcome.visorCond !== null && (best === null || outcome.visorCond > best.visorCond!)) best = outcome;
  if (!best) throw new Error(`method ${method}: no tune run has a VISOR_cond (no image was scored), so no strength can be picked`);
  return best.value;
}
