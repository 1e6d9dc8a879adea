/** An axis-aligned box in pixels: top-left corner (x0, y0), bottom-right corner (x1, y1); y grows downward. */
export type Box = [x0: number, y0: number, x1: number, y1: number];

/** One labelled box a detector returned; `label` is the class name it was asked for (or knows). */
export interface Detection {
  label: string;
  score: number;
  box: Box;
}

/** Everything a detector said about one generated image: image `image` (0-based) of prompt `prompt`. */
export interface ImageDetections {
  prompt: number;
  image: number;
  width: number;
  height: number;
  detections: Detection[];
}
