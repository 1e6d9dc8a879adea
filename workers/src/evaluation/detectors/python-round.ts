/** Python 3's round(): halves go to the even neighbour (round(2.5) == 2), which the reference preprocessors rely on. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  // + 0 turns Math.round's -0 (for -0.5 < x < 0) into 0, as Python's int has no negative zero
  if (diff !== 0.5) return Math.round(x) + 0;
  return floor % 2 === 0 ? floor : floor + 1;
}
