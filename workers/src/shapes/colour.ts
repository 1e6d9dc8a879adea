import type { Rgb } from '../image/rgb-image.ts';

/**
 * The Shapes world describes a colour by how it differs from the background: the offset vector
 * (colour - background). Mixing an object's colour with the background (antialiasing, blur, a
 * washed-out generated object) shortens that vector without turning it, so its direction names the
 * class and its length says how much of the object the pixel holds.
 */
export type ColourOffset = readonly [number, number, number];

export function colourOffset(colour: Rgb, background: Rgb): ColourOffset {
  return [colour[0] - background[0], colour[1] - background[1], colour[2] - background[2]];
}

export function offsetLength(offset: ColourOffset): number {
  return Math.hypot(offset[0], offset[1], offset[2]);
}

/** The offset scaled to length 1 (the colour's direction); a zero offset stays zero. */
export function unitOffset(offset: ColourOffset): ColourOffset {
  const length = offsetLength(offset);
  return length > 0 ? [offset[0] / length, offset[1] / length, offset[2] / length] : [0, 0, 0];
}

/** The angle between two offsets in degrees, 0 to 180 (180 when either has no length). */
export function offsetAngleDegrees(a: ColourOffset, b: ColourOffset): number {
  const lengths = offsetLength(a) * offsetLength(b);
  if (lengths === 0) return 180;
  const cosine = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / lengths;
  return (Math.acos(Math.min(1, Math.max(-1, cosine))) * 180) / Math.PI;
}
