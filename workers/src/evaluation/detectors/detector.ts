import type { RgbImage } from '../../image/rgb-image.ts';
import type { Detection } from '../detection.ts';
import { loadCocoDetector } from './coco.ts';
import { loadOwlVitDetector } from './owlvit.ts';
import { createShapesDetector } from './shapes.ts';

export interface Detector {
  /** how it was asked for ('shapes', 'owlvit:PATH', 'coco:PATH'), for result files to record */
  readonly name: string;
  /** the class names it can find (a closed set), or undefined for an open-vocabulary detector */
  readonly labels?: readonly string[];
  /** it reports only boxes scoring above this */
  readonly threshold: number;
  /**
   * Finds the queried classes in an image. Each box is labelled with the query it answers. Asking a
   * closed-set detector for a label outside its set is an error.
   */
  detect(image: RgbImage, queries: readonly string[]): Promise<Detection[]>;
}

export interface DetectorOptions {
  /** report boxes with score > threshold only */
  threshold: number;
}

export const DETECTOR_SPECS = ['shapes', 'owlvit:PATH', 'coco:PATH'] as const;

/**
 * A detector from its command-line spec: `shapes` (the Shapes world's), `owlvit:PATH` (an ONNX
 * export of OWL-ViT, a folder with model.onnx and its tokenizer files), `coco:PATH` (a DETR- or
 * YOLO-style COCO detector's ONNX file or folder).
 */
export async function createDetector(spec: string, options: DetectorOptions): Promise<Detector> {
  if (!(options.threshold >= 0 && options.threshold < 1)) throw new Error(`detector threshold must be in [0, 1), got ${options.threshold}`);
  if (spec === 'shapes') return createShapesDetector(options);
  const colon = spec.indexOf(':');
  const [kind, path] = colon < 0 ? [spec, ''] : [spec.slice(0, colon), spec.slice(colon + 1)];
  if ((kind === 'owlvit' || kind === 'coco') && path === '') throw new Error(`detector '${spec}' needs a path: ${kind}:PATH`);
  if (kind === 'owlvit') return loadOwlVitDetector(path, options);
  if (kind === 'coco') return loadCocoDetector(path, options);
  throw new Error(`unknown detector '${spec}' (expected ${DETECTOR_SPECS.join(', ')})`);
}
