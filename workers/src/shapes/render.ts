import type { Box } from '../evaluation/detection.ts';
import { boxAroundPixels } from '../image/pixel-box.ts';
import { createRgbImage, type RgbImage } from '../image/rgb-image.ts';
import { Random } from '../util/random.ts';
import { shapeBoxSize, shapeCoverage } from './geometry.ts';
import { findClass, objectExtentPixels, type ShapesWorld } from './world.ts';

/**
 * An object of a scene and a box: in a layout, the whole-pixel box its shape is drawn to fill; in a
 * rendered scene (the ground truth), the box around the pixels it visibly covers (at least half).
 * Boxes are pixel corners: [x0, y0, x1, y1] holds columns x0..x1-1 and rows y0..y1-1.
 */
export interface LabelledBox {
  label: string;
  box: Box;
}

export interface Scene {
  image: RgbImage;
  objects: LabelledBox[];
}

export interface LayoutOptions {
  /** The classes to place, in order (repeats allowed); by default `count` distinct random classes. */
  labels?: readonly string[];
  /** How many random classes when `labels` is not given; by default uniform in the world's range. */
  count?: number;
}

/** Fresh positions to try for one object before starting the whole layout again with new sizes. */
const PLACEMENT_TRIES = 50;
const LAYOUT_TRIES = 50;

/**
 * Random sizes and positions for a scene's objects, inside the image and at least the world's gap
 * apart, so no two objects touch even after a blur.
 */
export function sampleLayout(world: ShapesWorld, random: Random, options: LayoutOptions = {}): LabelledBox[] {
  const labels = options.labels ?? randomLabels(world, random, options.count);
  for (const label of labels) findClass(world, label);
  const side = world.imageSize;
  const extent = objectExtentPixels(world, side);
  const gap = Math.ceil(world.minGap * side);
  for (let attempt = 0; attempt < LAYOUT_TRIES; attempt++) {
    const placed: LabelledBox[] = [];
    for (const label of labels) {
      const { width, height } = shapeBoxSize(findClass(world, label).shape, random.integer(extent.min, extent.max));
      for (let t = 0; t < PLACEMENT_TRIES; t++) {
        const x = random.integer(0, side - width);
        const y = random.integer(0, side - height);
        const box: Box = [x, y, x + width, y + height];
        if (placed.every((other) => boxesApart(box, other.box, gap))) {
          placed.push({ label, box });
          break;
        }
      }
    }
    if (placed.length === labels.length) return placed;
  }
  throw new Error(`cannot place ${labels.length} objects ${gap} px apart in a ${side} x ${side} image; use fewer or smaller objects`);
}

function randomLabels(world: ShapesWorld, random: Random, count?: number): string[] {
  const n = count ?? random.integer(world.objectsPerScene.min, world.objectsPerScene.max);
  if (!Number.isInteger(n) || n < 1 || n > world.classes.length) {
    throw new Error(`object count must be an integer from 1 to ${world.classes.length}, got ${n}`);
  }
  return random.shuffled(world.classes.map((c) => c.name)).slice(0, n);
}

/** True when the boxes are at least `gap` pixels apart horizontally or vertically. */
function boxesApart(a: Box, b: Box, gap: number): boolean {
  return a[2] + gap <= b[0] || b[2] + gap <= a[0] || a[3] + gap <= b[1] || b[3] + gap <= a[1];
}

/**
 * Paints the objects on the world's plain background, antialiased (edge pixels mix the object's
 * colour with the background in proportion to coverage), and returns each object's ground-truth box.
 */
export function renderLayout(world: ShapesWorld, layout: readonly LabelledBox[]): Scene {
  const side = world.imageSize;
  const image = createRgbImage(side, side, world.background);
  const objects = layout.map(({ label, box }) => {
    const { shape, colour } = findClass(world, label);
    const [x0, y0, x1, y1] = box;
    if (!(x0 >= 0 && y0 >= 0 && x1 <= side && y1 <= side && x0 < x1 && y0 < y1)) {
      throw new Error(`${label} box ${JSON.stringify(box)} is not inside the ${side} x ${side} image`);
    }
    const width = x1 - x0;
    const visiblePixels: number[] = [];
    shapeCoverage(shape, width, y1 - y0).forEach((amount, k) => {
      const pixel = (y0 + Math.floor(k / width)) * side + x0 + (k % width);
      for (let c = 0; c < 3; c++) image.data[pixel * 3 + c] += amount * (colour[c] - image.data[pixel * 3 + c]);
      if (amount >= 0.5) visiblePixels.push(pixel);
    });
    return { label, box: boxAroundPixels(visiblePixels, side) };
  });
  return { image, objects };
}

/** A random scene, the same for the same world, seed and options. */
export function renderScene(world: ShapesWorld, seed: number, options: LayoutOptions = {}): Scene {
  return renderLayout(world, sampleLayout(world, new Random(seed), options));
}
