/**
 * The latent-update step size every reference uses (A&E pipeline_attend_and_excite.py:500, 545, 558;
 * D&B :1017-1018; CONFORM :1009-1010; STORM :788, 832, 855): at loop index i of a sampler loop of N
 * steps, scale_factor * sqrt(linspace(scale_range[0], scale_range[1], N)[i]). N is the loop length of
 * the sampler that runs (the references' PNDM loops 51 times for 50 steps; the arena's samplers N).
 */

/** numpy.linspace(start, stop, n)[i]: i * (stop - start) / (n - 1) + start, the last one exactly stop. */
export function linspaceAt(start: number, stop: number, n: number, i: number): number {
  if (n === 1) return start;
  if (i === n - 1) return stop;
  return i * ((stop - start) / (n - 1)) + start;
}

export function referenceStepSize(scaleFactor: number, scaleRange: readonly [number, number], loopLength: number, i: number): number {
  return scaleFactor * Math.sqrt(linspaceAt(scaleRange[0], scaleRange[1], loopLength, i));
}
