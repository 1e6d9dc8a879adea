/**
 * A small seeded pseudo-random generator: the same seed gives the same sequence on every machine,
 * so rendered scenes, corruptions, bootstrap resamples and diffusion noise are reproducible.
 *
 * The state is xoshiro128** (fast, 2^128 - 1 period, passes BigCrush), filled from the seed with
 * splitmix32 so that neighbouring seeds (0, 1, 2, ...) still give unrelated streams.
 */
export class Random {
  private readonly state: Uint32Array;
  /** The second Box-Muller value, kept so that normal() costs one pair for every two calls. */
  private spareNormal: number | null = null;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`Random: the seed must be an integer, got ${seed}`);
    this.state = new Uint32Array(4);
    let s = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.state[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const st = this.state;
    const result = Math.imul(rotl(Math.imul(st[1], 5), 7), 9) >>> 0;
    const t = st[1] << 9;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 11);
    return result;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform float in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** A uniform integer in [min, max] (both ends included). */
  integer(min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
      throw new Error(`Random.integer: need integers min <= max, got ${min} and ${max}`);
    }
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A standard normal sample (Box-Muller). */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    // 1 - next() lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /**
   * Advances the generator by 2^64 draws at once (the xoshiro128** authors' jump polynomial), so
   * that k jumps from one seed start k non-overlapping streams, e.g. one per image.
   */
  jump(): void {
    const polynomial = [0x8764000b, 0xf542d2d3, 0x6fa035c3, 0x77f2db5b];
    const jumped = new Uint32Array(4);
    for (const word of polynomial) {
      for (let bit = 0; bit < 32; bit++) {
        if ((word >>> bit) & 1) for (let i = 0; i < 4; i++) jumped[i] ^= this.state[i];
        this.nextUint32();
      }
    }
    this.state.set(jumped);
    // A kept Box-Muller value belongs to the old position; a jumped stream depends on its state alone.
    this.spareNormal = null;
  }

  /** A new array with the items in uniformly random order (Fisher-Yates); the input is left as is. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.integer(0, i);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
