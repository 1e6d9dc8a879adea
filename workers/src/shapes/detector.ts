import type { Box, Detection } from '../evaluation/detection.ts';
import { connectedRegions } from '../image/connected-components.ts';
import { boxBlur3x3 } from '../image/filters.ts';
import { boxAroundPixels } from '../image/pixel-box.ts';
import type { Rgb, RgbImage } from '../image/rgb-image.ts';
import { colourOffset, offsetAngleDegrees, offsetLength, unitOffset, type ColourOffset } from './colour.ts';
import { shapeBoxSize, shapeMask } from './geometry.ts';
import { classNames, findClass, objectExtentPixels, SHAPES_WORLD, type ShapeClass, type ShapesWorld } from './world.ts';

/*
 * The Shapes world's detector: deterministic, no learned weights. Every pixel is seen as its offset
 * from the background colour (see colour.ts): the offset's direction names a class, its length says
 * how much object the pixel holds. Pixels holding enough object form blobs; a blob of two colours
 * (objects that touch) is cut by colour; each resulting region is one detection, scored by how well
 * its colour, its strength of colour, its shape and its size fit the class.
 */

/** Pixels within this distance of the expected background are used to measure the image's actual backdrop. */
const BACKGROUND_RADIUS = 0.3;
/** With fewer background-like pixels than this share, the backdrop is not the world's and colours are taken as they are. */
const MIN_BACKGROUND_SHARE = 0.1;
/**
 * A pixel is part of an object when its offset is longer than this share of its class's full
 * offset. Just under a half, matching the ground truth (pixels at least half covered), while a
 * blurred edge pixel (a third covered) stays out even with noise.
 */
const FOREGROUND_SHARE = 0.45;
/** A second colour covering at least this share of a blob means two objects touch there. */
const SPLIT_SHARE = 0.25;
/**
 * Colour match falls as exp(-(angle / tolerance)^2): 1 for the class's own colour, about 0.4 halfway
 * to the nearest other class (35 degrees away), and under 0.07 at any other class's colour
 * (MIN_COLOUR_ANGLE = 30), so that VISOR's 0.1 threshold never accepts one class's colour as another's.
 */
const COLOUR_TOLERANCE_DEGREES = 18;
/** A region whose colour reaches this share of the class's full offset counts as fully coloured. */
const FULL_STRENGTH_SHARE = 0.75;
/** Regions scoring below this are not reported at all (specks, stray edge pixels). */
const MIN_REPORTED_SCORE = 0.01;

/**
 * Detects the world's objects in an image of any size. With `queries`, only those classes are
 * reported, and naming a class the world does not have is an error (a closed-set detector must not
 * answer "not found" for what it cannot see). Detections come sorted by score, highest first.
 */
export function detectShapes(image: RgbImage, queries?: readonly string[], world: ShapesWorld = SHAPES_WORLD): Detection[] {
  for (const name of queries ?? []) findClass(world, name);
  const wanted = new Set(queries ?? classNames(world));
  const classOffsets = world.classes.map((c) => colourOffset(c.colour, world.background));
  const offsets = backgroundOffsets(image, world.background);
  const regions = objectRegions(image.width, image.height, offsets, classOffsets);
  const expected = expectedObjectSize(world, Math.min(image.width, image.height));
  const detections: Detection[] = [];
  for (const region of regions) {
    const cls = world.classes[region.classIndex];
    if (!wanted.has(cls.name)) continue;
    const score = regionScore(region, cls, classOffsets[region.classIndex], expected);
    if (score >= MIN_REPORTED_SCORE) detections.push({ label: cls.name, score, box: region.box });
  }
  return detections.sort((a, b) => b.score - a.score);
}

/**
 * Per pixel (three values each), the offset from the world's background of a lightly smoothed,
 * colour-calibrated image. Smoothing over 3 x 3 cuts pixel noise threefold; calibration divides out
 * a colour cast, measured as the ratio of the image's actual backdrop to the expected one.
 */
function backgroundOffsets(image: RgbImage, background: Rgb): Float32Array {
  const smooth = boxBlur3x3(image).data;
  const gains = backdropGains(smooth, background);
  const offsets = new Float32Array(smooth.length);
  for (let i = 0; i < smooth.length; i++) offsets[i] = smooth[i] / gains[i % 3] - background[i % 3];
  return offsets;
}

function backdropGains(pixels: Float32Array, expected: Rgb): [number, number, number] {
  const pixelCount = pixels.length / 3;
  const channels = [new Float32Array(pixelCount), new Float32Array(pixelCount), new Float32Array(pixelCount)];
  let backdrop: Rgb = expected;
  // The second pass re-centres on the first estimate, so a strong cast is still measured fully.
  for (let pass = 0; pass < 2; pass++) {
    let count = 0;
    for (let i = 0; i < pixels.length; i += 3) {
      if (Math.hypot(pixels[i] - backdrop[0], pixels[i + 1] - backdrop[1], pixels[i + 2] - backdrop[2]) > BACKGROUND_RADIUS) continue;
      for (let c = 0; c < 3; c++) channels[c][count] = pixels[i + c];
      count++;
    }
    if (count < MIN_BACKGROUND_SHARE * pixelCount) return [1, 1, 1];
    backdrop = [median(channels[0].subarray(0, count)), median(channels[1].subarray(0, count)), median(channels[2].subarray(0, count))];
  }
  // A near-black background channel carries no measurable gain.
  return [0, 1, 2].map((c) => (expected[c] >= 0.1 ? backdrop[c] / expected[c] : 1)) as [number, number, number];
}

interface Region {
  classIndex: number;
  pixels: number[];
  box: Box;
  /** The region's pixels within its box, row by row, box width wide. */
  mask: Uint8Array;
  /** The median offset of the region's inner pixels: its colour, free of edge mixing and noise. */
  colour: ColourOffset;
}

function objectRegions(width: number, height: number, offsets: Float32Array, classOffsets: ColourOffset[]): Region[] {
  const pixelCount = width * height;
  const directions = classOffsets.map(unitOffset);
  const allClasses = [...classOffsets.keys()];
  const nearestClass = new Int32Array(pixelCount).fill(-1);
  for (let p = 0; p < pixelCount; p++) {
    const best = nearestByColour(offsets, p, directions, allClasses);
    const length = Math.hypot(offsets[p * 3], offsets[p * 3 + 1], offsets[p * 3 + 2]);
    if (length > FOREGROUND_SHARE * offsetLength(classOffsets[best])) nearestClass[p] = best;
  }
  const blobs = connectedRegions(
    width,
    height,
    nearestClass.map((c) => (c >= 0 ? 0 : -1)),
  ).regions;
  const assigned = new Int32Array(pixelCount).fill(-1);
  for (const blob of blobs) {
    const colours = blobColours(blob, nearestClass, classOffsets.length);
    for (const p of blob) assigned[p] = colours.length === 1 ? colours[0] : nearestByColour(offsets, p, directions, colours);
  }
  const { regionOf, regions } = connectedRegions(width, height, assigned);
  return regions.map((pixels) => describeRegion(pixels, assigned[pixels[0]], width, regionOf, offsets));
}

/** The classes a blob is made of: each colour covering a real share of it, or else its most common colour. */
function blobColours(blob: number[], nearestClass: Int32Array, classCount: number): number[] {
  const counts = new Array<number>(classCount).fill(0);
  for (const p of blob) counts[nearestClass[p]]++;
  const substantial = [...counts.keys()].filter((c) => counts[c] >= SPLIT_SHARE * blob.length);
  return substantial.length > 0 ? substantial : [counts.indexOf(Math.max(...counts))];
}

/** Among the candidate classes, the one whose colour direction is closest to pixel p's offset (largest cosine). */
function nearestByColour(offsets: Float32Array, p: number, directions: ColourOffset[], candidates: readonly number[]): number {
  let best = candidates[0];
  let bestCosine = -Infinity;
  for (const c of candidates) {
    const [r, g, b] = directions[c];
    const cosine = offsets[p * 3] * r + offsets[p * 3 + 1] * g + offsets[p * 3 + 2] * b;
    if (cosine > bestCosine) [best, bestCosine] = [c, cosine];
  }
  return best;
}

function describeRegion(pixels: number[], classIndex: number, width: number, regionOf: Int32Array, offsets: Float32Array): Region {
  const region = regionOf[pixels[0]];
  const box = boxAroundPixels(pixels, width);
  const boxWidth = box[2] - box[0];
  const mask = new Uint8Array(boxWidth * (box[3] - box[1]));
  for (const p of pixels) {
    const x = p % width;
    mask[((p - x) / width - box[1]) * boxWidth + (x - box[0])] = 1;
  }
  // Inner pixels (all four neighbours in the region) are unmixed with the background or a neighbour.
  const inner = pixels.filter((p) => [p - 1, p + 1, p - width, p + width].every((q) => regionOf[q] === region && sameRowOrColumn(p, q, width)));
  const colourPixels = inner.length >= 3 ? inner : pixels;
  const colour = [0, 1, 2].map((c) => median(colourPixels.map((p) => offsets[p * 3 + c]))) as unknown as ColourOffset;
  return { classIndex, pixels, box, mask, colour };
}

/** Whether q is p's neighbour left, right, above or below, not wrapped round to another row. */
function sameRowOrColumn(p: number, q: number, width: number): boolean {
  return Math.abs(p - q) === width || Math.floor(p / width) === Math.floor(q / width);
}

interface ExpectedSize {
  /** Pixel area of the world's smallest possible object. */
  minArea: number;
  /** Longest side of the world's largest possible object. */
  maxExtent: number;
}

function expectedObjectSize(world: ShapesWorld, imageSide: number): ExpectedSize {
  const extent = objectExtentPixels(world, imageSide);
  const areas = world.classes.map(({ shape }) => {
    const { width, height } = shapeBoxSize(shape, extent.min);
    return shapeMask(shape, width, height).reduce((sum, v) => sum + v, 0);
  });
  return { minArea: Math.min(...areas), maxExtent: extent.max };
}

/**
 * The score: colour match x colour strength x shape fit x size plausibility, each in 0..1. A clean
 * render of the class scores near 1; a blob of the right colour but the wrong shape keeps more than
 * half of that; a washed-out, off-colour, speck-sized or sprawling one scores less.
 */
function regionScore(region: Region, cls: ShapeClass, classOffset: ColourOffset, expected: ExpectedSize): number {
  const colourMatch = Math.exp(-((offsetAngleDegrees(region.colour, classOffset) / COLOUR_TOLERANCE_DEGREES) ** 2));
  const strength = Math.min(1, offsetLength(region.colour) / (FULL_STRENGTH_SHARE * offsetLength(classOffset)));
  // The shape only tempers the score: a small generator's objects are recognisable by colour first.
  const shapeFit = 0.5 + 0.5 * shapeIou(region, cls);
  const [x0, y0, x1, y1] = region.box;
  const longestSide = Math.max(x1 - x0, y1 - y0);
  const size =
    ramp(region.pixels.length, 0.15 * expected.minArea, 0.5 * expected.minArea) * (1 - ramp(longestSide, 1.3 * expected.maxExtent, 2 * expected.maxExtent));
  return colourMatch * strength * shapeFit * size;
}

/** Intersection over union of the region's pixels and the class's shape drawn to fill the region's box. */
function shapeIou(region: Region, cls: ShapeClass): number {
  const ideal = shapeMask(cls.shape, region.box[2] - region.box[0], region.box[3] - region.box[1]);
  let both = 0;
  let either = 0;
  for (let i = 0; i < ideal.length; i++) {
    both += region.mask[i] & ideal[i];
    either += region.mask[i] | ideal[i];
  }
  return either > 0 ? both / either : 0;
}

/** 0 at or below `from`, 1 at or above `to`, linear between. */
function ramp(value: number, from: number, to: number): number {
  return Math.min(1, Math.max(0, (value - from) / (to - from)));
}

function median(values: ArrayLike<number>): number {
  // A typed array sorts numerically and natively: several times faster than Array.prototype.sort.
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
