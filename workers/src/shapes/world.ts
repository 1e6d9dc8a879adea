import type { Rgb } from '../image/rgb-image.ts';
import { colourOffset, offsetAngleDegrees, offsetLength } from './colour.ts';
import { SHAPE_KINDS, type ShapeKind } from './geometry.ts';

/** One object class: a one-word name, drawn as one shape in one flat colour. */
export interface ShapeClass {
  name: string;
  shape: ShapeKind;
  colour: Rgb;
}

/**
 * Everything that defines the Shapes world: the bundled model is trained on it, the renderer draws
 * it and the detector judges it, so all three read the same definition.
 */
export interface ShapesWorld {
  /** Width and height of rendered scenes, in pixels (the bundled model's resolution by default). */
  imageSize: number;
  background: Rgb;
  classes: readonly ShapeClass[];
  /** Range of an object's longer side, as a fraction of the image side. */
  objectExtent: { min: number; max: number };
  /** Least free space between two objects' boxes, as a fraction of the image side. */
  minGap: number;
  objectsPerScene: { min: number; max: number };
}

/**
 * The ten classes. Colours are the corners of the RGB cube plus orange and purple, around a mid-grey
 * background: every colour then stands at least 0.7 away from the background and, seen from it, at
 * least 35 degrees from every other colour (see MIN_COLOUR_ANGLE), which noise, blur and a 20% colour
 * shift cannot bridge. Shapes differ where they can, so each class has its own shape-and-colour look.
 */
export const DEFAULT_CLASSES: readonly ShapeClass[] = [
  { name: 'apple', shape: 'circle', colour: [1, 0, 0] },
  { name: 'tree', shape: 'triangle', colour: [0, 1, 0] },
  { name: 'box', shape: 'square', colour: [0, 0, 1] },
  { name: 'lemon', shape: 'oval-wide', colour: [1, 1, 0] },
  { name: 'gem', shape: 'diamond', colour: [0, 1, 1] },
  { name: 'flower', shape: 'plus', colour: [1, 0, 1] },
  { name: 'egg', shape: 'oval-tall', colour: [1, 1, 1] },
  { name: 'tire', shape: 'ring', colour: [0, 0, 0] },
  { name: 'brick', shape: 'bar', colour: [1, 0.5, 0] },
  { name: 'grape', shape: 'circle', colour: [0.5, 0, 1] },
];

const DEFAULTS: ShapesWorld = {
  imageSize: 32,
  background: [0.5, 0.5, 0.5],
  classes: DEFAULT_CLASSES,
  // At 32 px: objects 8 to 14 px long, 3 px apart, so three of them fit and the smallest shape
  // still has a few pixels of body after a blur.
  objectExtent: { min: 0.25, max: 0.45 },
  minGap: 0.08,
  objectsPerScene: { min: 1, max: 3 },
};

/**
 * The detector names a class by the direction of its colour seen from the background, so class
 * colours must be this many degrees apart in that view, and this far from the background.
 */
const MIN_COLOUR_ANGLE = 30;
const MIN_CONTRAST = 0.4;

/** A world with the given changes to the defaults, checked so that the detector can tell its classes apart. */
export function defineShapesWorld(changes: Partial<ShapesWorld> = {}): ShapesWorld {
  const world: ShapesWorld = { ...DEFAULTS, ...changes };
  const problems = worldProblems(world);
  if (problems.length > 0) throw new Error(`invalid Shapes world:\n  ${problems.join('\n  ')}`);
  return world;
}

function worldProblems(world: ShapesWorld): string[] {
  const problems: string[] = [];
  const { imageSize, background, classes, objectExtent, minGap, objectsPerScene } = world;
  if (!Number.isInteger(imageSize) || imageSize < 16) problems.push(`imageSize must be an integer of at least 16, got ${imageSize}`);
  if (!isColour(background)) problems.push(`background must be three numbers in 0..1, got ${JSON.stringify(background)}`);
  if (!(objectExtent.min > 0 && objectExtent.min <= objectExtent.max && objectExtent.max <= 1)) {
    problems.push(`objectExtent needs 0 < min <= max <= 1, got ${JSON.stringify(objectExtent)}`);
  }
  if (!(minGap >= 0 && minGap < 1)) problems.push(`minGap must be in [0, 1), got ${minGap}`);
  const { min, max } = objectsPerScene;
  if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 1 && min <= max && max <= classes.length)) {
    problems.push(`objectsPerScene needs integers 1 <= min <= max <= number of classes, got ${JSON.stringify(objectsPerScene)}`);
  }
  const seen = new Set<string>();
  for (const cls of classes) {
    if (!/^[a-z]+$/.test(cls.name)) problems.push(`class name '${cls.name}' must be one lowercase word`);
    if (seen.has(cls.name)) problems.push(`class name '${cls.name}' appears twice`);
    seen.add(cls.name);
    if (!(SHAPE_KINDS as readonly string[]).includes(cls.shape)) problems.push(`class '${cls.name}' has unknown shape '${cls.shape}'`);
    if (!isColour(cls.colour)) problems.push(`class '${cls.name}' colour must be three numbers in 0..1`);
    else if (offsetLength(colourOffset(cls.colour, background)) < MIN_CONTRAST) {
      problems.push(`class '${cls.name}' colour is closer than ${MIN_CONTRAST} to the background`);
    }
  }
  for (let i = 0; i < classes.length; i++) {
    for (let j = i + 1; j < classes.length; j++) {
      const angle = offsetAngleDegrees(colourOffset(classes[i].colour, background), colourOffset(classes[j].colour, background));
      if (angle < MIN_COLOUR_ANGLE) {
        problems.push(`classes '${classes[i].name}' and '${classes[j].name}' differ by ${angle.toFixed(1)} degrees of colour; need ${MIN_COLOUR_ANGLE}`);
      }
    }
  }
  if (classes.length === 0) problems.push('the world needs at least one class');
  return problems;
}

function isColour(value: Rgb): boolean {
  return Array.isArray(value) && value.length === 3 && value.every((c) => Number.isFinite(c) && c >= 0 && c <= 1);
}

/** The bundled world: the vocabulary and scene statistics of the bundled model and of VISOR-Shapes. */
export const SHAPES_WORLD: ShapesWorld = defineShapesWorld();

export function classNames(world: ShapesWorld): string[] {
  return world.classes.map((c) => c.name);
}

export function findClass(world: ShapesWorld, name: string): ShapeClass {
  const found = world.classes.find((c) => c.name === name);
  if (!found) throw new Error(`'${name}' is not a Shapes class (classes: ${classNames(world).join(', ')})`);
  return found;
}

/** An object's longer side in pixels, smallest and largest, for an image of the given side. */
export function objectExtentPixels(world: ShapesWorld, imageSide: number): { min: number; max: number } {
  const min = Math.max(3, Math.round(world.objectExtent.min * imageSide));
  return { min, max: Math.max(min, Math.round(world.objectExtent.max * imageSide)) };
}
