/**
 * The Pareto front of runs placed by cost and score: a run is on it when no other run is at least as
 * cheap and at least as good while strictly better on one of the two. Runs with the same cost and
 * score are all on it or all off it (none dominates another).
 */
export interface CostPoint {
  /** seconds per image: lower is better */
  cost: number;
  score: number;
}

/** Whether `a` dominates `b`: no worse on both axes, better on one. */
function dominates(a: CostPoint, b: CostPoint, higherIsBetter: boolean): boolean {
  const [sa, sb] = higherIsBetter ? [a.score, b.score] : [-a.score, -b.score];
  return a.cost <= b.cost && sa >= sb && (a.cost < b.cost || sa > sb);
}

/**
 * Which points are on the front, by index (true: on it). A sweep in order of cost: a point is
 * dominated exactly when an earlier point in that order (cheaper, or as cheap and better) is as good
 * and not its equal; so it suffices to carry the best score seen and the point that holds it.
 */
export function paretoFront<P extends CostPoint>(points: readonly P[], higherIsBetter = true): boolean[] {
  const sign = higherIsBetter ? 1 : -1;
  const order = points.map((_, i) => i).sort((i, j) => points[i]!.cost - points[j]!.cost || sign * (points[j]!.score - points[i]!.score));
  const onFront = new Array<boolean>(points.length).fill(false);
  let best: P | undefined;
  for (const i of order) {
    const p = points[i]!;
    if (best === undefined || !dominates(best, p, higherIsBetter)) {
      onFront[i] = true;
      if (best === undefined || sign * (p.score - best.score) > 0) best = p;
    }
  }
  return onFront;
}
