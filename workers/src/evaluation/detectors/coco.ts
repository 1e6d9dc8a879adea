import type { RgbImage } from '../../image/rgb-image.ts';
import type { Box } from '../detection.ts';
import { COCO_LABELS, cocoClassIndex } from './coco-labels.ts';
import type { Detector, DetectorOptions } from './detector.ts';
import { detrFormat } from './detr.ts';
import { assertKnownLabels } from './label-set.ts';
import { openModel, resolveModelPath } from './onnx-session.ts';
import { yoloFormat } from './yolo.ts';

/** A box of one of COCO's 80 classes (index in COCO order), before it is named after a query. */
export interface ClassDetection {
  classIndex: number;
  score: number;
  box: Box;
}

/** One kind of COCO detector export: it finds every class it knows, above the threshold. */
export interface CocoFormat {
  detect(image: RgbImage): Promise<ClassDetection[]>;
}

/**
 * A closed-set COCO detector from an ONNX file (or a folder with model.onnx). The export's kind is
 * told by its signature: outputs `logits` and `pred_boxes` mean DETR-style, an input `images` means
 * YOLO-style. It answers to the 80 COCO class names (GenEval's spelling) and VISOR's "mouse",
 * "remote" and "keyboard"; any other query is an error, never an empty answer.
 */
export async function loadCocoDetector(path: string, options: DetectorOptions): Promise<Detector> {
  const { modelFile } = resolveModelPath(path);
  const model = await openModel(modelFile, { inputs: [], outputs: [] });
  const { inputNames, outputNames } = model.session;
  let format: CocoFormat;
  if (outputNames.includes('logits') && outputNames.includes('pred_boxes') && inputNames.includes('pixel_values'))
    format = detrFormat(model, options.threshold);
  else if (inputNames.includes('images')) format = yoloFormat(model, options.threshold);
  else {
    throw new Error(
      `${modelFile}: not a COCO detector this adapter knows: DETR-style needs input pixel_values and outputs logits, pred_boxes; ` +
        `YOLO-style needs input images (its inputs: ${inputNames.join(', ')}; outputs: ${outputNames.join(', ')})`,
    );
  }
  const name = `coco:${path}`;
  return {
    name,
    labels: COCO_LABELS,
    threshold: options.threshold,
    async detect(image, queries) {
      assertKnownLabels(name, COCO_LABELS, queries);
      if (queries.length === 0) return [];
      const found = await format.detect(image);
      // A class may be asked for under two names (GenEval's and VISOR's); each query gets its own boxes.
      return queries
        .flatMap((query) => {
          const classIndex = cocoClassIndex(query);
          return found.filter((d) => d.classIndex === classIndex).map((d) => ({ label: query, score: d.score, box: d.box }));
        })
        .sort((a, b) => b.score - a.score);
    },
  };
}
