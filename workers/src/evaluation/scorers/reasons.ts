/** Phrases shared by the scorers' per-image explanations, so that all three benchmarks read alike. */

/** "cup not detected"; "dog and cup not detected". */
export function notDetected(names: readonly string[]): string {
  return `${names.join(' and ')} not detected`;
}

/** "dog is right of cup, expected left of". */
export function misplaced(subject: string, actual: string, reference: string, expected: string): string {
  return `${subject} is ${actual} ${reference}, expected ${expected}`;
}

/** Numbers in explanations: short, without float noise ("0.45", "150"). */
export function formatNumber(value: number): string {
  return String(Number(value.toFixed(2)));
}
