import type { CSSProperties } from 'react';

export interface Detection {
  label: string;
  score: number;
  /** [x0, y0, x1, y1] in pixels, y downward */
  box: number[];
}

const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#008080', '#9a6324', '#800000'];

function colourOf(label: string): string {
  let hash = 0;
  for (const char of label) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

/**
 * The image with its detections drawn over it as boxes in percent of the image, so that labels stay
 * legible whatever size the image is shown at. `.hide-boxes` / `.hide-labels` on an ancestor hide them.
 */
export function ImageWithBoxes({ url, width, height, detections, alt }: { url: string; width: number | null; height: number | null; detections: Detection[]; alt: string }) {
  const [w, h] = [width ?? 1, height ?? 1];
  return (
    <div className="image-boxes" style={{ aspectRatio: `${w} / ${h}` }}>
      <img src={url} alt={alt} width={w} height={h} loading="lazy" />
      {width !== null &&
        height !== null &&
        detections.map((d, i) => {
          const [x0, y0, x1, y1] = d.box as [number, number, number, number];
          const style: CSSProperties = {
            left: `${(100 * x0) / w}%`,
            top: `${(100 * y0) / h}%`,
            width: `${(100 * (x1 - x0)) / w}%`,
            height: `${(100 * (y1 - y0)) / h}%`,
            borderColor: colourOf(d.label),
          };
          return (
            <div key={i} className="box" style={style} data-label={d.label}>
              <span className="box-label" style={{ background: colourOf(d.label) }}>
                {d.label} {d.score.toFixed(2)}
              </span>
            </div>
          );
        })}
    </div>
  );
}
