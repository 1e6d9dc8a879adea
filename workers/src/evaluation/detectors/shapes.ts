import { detectShapes } from '../../shapes/detector.ts';
import { classNames, SHAPES_WORLD, type ShapesWorld } from '../../shapes/world.ts';
import type { Detector, DetectorOptions } from './detector.ts';
import { assertKnownLabels } from './label-set.ts';

/** The Shapes world's own deterministic detector behind the common interface; closed-set over the world's classes. */
export function createShapesDetector(options: DetectorOptions, world: ShapesWorld = SHAPES_WORLD): Detector {
  const labels = classNames(world);
  return {
    name: 'shapes',
    labels,
    threshold: options.threshold,
    async detect(image, queries) {
      assertKnownLabels('shapes', labels, queries);
      return detectShapes(image, queries, world).filter((d) => d.score > options.threshold);
    },
  };
}
