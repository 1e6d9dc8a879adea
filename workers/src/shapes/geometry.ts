/**
 * The shapes the Shapes world draws, each defined once, as an inside test on its box, so that the
 * renderer (which paints it) and the detector (which compares a found region with it) agree.
 */
export const SHAPE_KINDS = ['circle', 'oval-wide', 'oval-tall', 'square', 'bar', 'triangle', 'diamond', 'plus', 'ring'] as const;
export type ShapeKind = (typeof SHAPE_KINDS)[number];

interface ShapeDefinition {
  /** Box width / height. */
  aspect: number;
  /** Whether the point (u, v) of the unit box (u rightwards, v downwards, both 0..1) is inside. */
  contains(u: number, v: number): boolean;
}

const inEllipse = (u: number, v: number) => (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25;

const SHAPES: Record<ShapeKind, ShapeDefinition> = {
  circle: { aspect: 1, contains: inEllipse },
  'oval-wide': { aspect: 1.5, contains: inEllipse },
  'oval-tall': { aspect: 1 / 1.4, contains: inEllipse },
  square: { aspect: 1, contains: () => true },
  bar: { aspect: 2, contains: () => true },
  // Apex at the top centre, base along the bottom edge.
  triangle: { aspect: 1, contains: (u, v) => Math.abs(u - 0.5) <= v / 2 },
  diamond: { aspect: 1, contains: (u, v) => Math.abs(u - 0.5) + Math.abs(v - 0.5) <= 0.5 },
  // Arms a third of the box wide: thick enough to survive a blur at the smallest size.
  plus: { aspect: 1, contains: (u, v) => Math.abs(u - 0.5) <= 1 / 6 || Math.abs(v - 0.5) <= 1 / 6 },
  // The hole's radius is under half the outer radius so the rim stays over 2 px wide at 8 px.
  ring: {
    aspect: 1,
    contains: (u, v) => {
      const r2 = (u - 0.5) ** 2 + (v - 0.5) ** 2;
      return r2 <= 0.25 && r2 >= 0.22 ** 2;
    },
  },
};

/**
 * The box size, in whole pixels, of a shape whose longer side is `extent` pixels: the shorter side
 * follows the shape's aspect ratio.
 */
export function shapeBoxSize(kind: ShapeKind, extent: number): { width: number; height: number } {
  const { aspect } = SHAPES[kind];
  const shorter = Math.max(1, Math.round(extent * Math.min(aspect, 1 / aspect)));
  return aspect >= 1 ? { width: extent, height: shorter } : { width: shorter, height: extent };
}

/** Sub-samples per pixel side for antialiasing: 4 x 4 gives coverage in steps of 1/16. */
const SUBSAMPLES = 4;

/**
 * How much of each pixel the shape covers (0..1) when it fills a box of width x height pixels, row
 * by row.
 */
export function shapeCoverage(kind: ShapeKind, width: number, height: number): Float32Array {
  const { contains } = SHAPES[kind];
  const coverage = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let inside = 0;
      for (let sy = 0; sy < SUBSAMPLES; sy++) {
        for (let sx = 0; sx < SUBSAMPLES; sx++) {
          if (contains((x + (sx + 0.5) / SUBSAMPLES) / width, (y + (sy + 0.5) / SUBSAMPLES) / height)) inside++;
        }
      }
      coverage[y * width + x] = inside / (SUBSAMPLES * SUBSAMPLES);
    }
  }
  return coverage;
}

/**
 * The pixels that show the shape in a width x height box: those at least half covered, which is
 * also what the renderer's ground-truth boxes are drawn around.
 */
export function shapeMask(kind: ShapeKind, width: number, height: number): Uint8Array {
  return Uint8Array.from(shapeCoverage(kind, width, height), (c) => (c >= 0.5 ? 1 : 0));
}
