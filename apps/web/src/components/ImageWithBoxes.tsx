import type { CSSProperties } from 'react';
import type { ImageFieldsFragment } from '@/gql/graphql';
import { colourOf } from '@/lib/colours';

/** box: [x0, y0, x1, y1] in pixels, y downward */
type Detection = ImageFieldsFragment['detections'][number];

/**
 * The image with its detections drawn over it as boxes in percent of the image, so that labels stay
 * legible whatever size the image is shown at. A label sits inside its box's top edge, on the side of
 * the image the box is on, so that it never leaves the image; white on the box's colour (AA
 * contrast). `.hide-boxes` / `.hide-labels` on an ancestor hide them.
 */
export function ImageWithBoxes({
  url,
  width,
  height,
  detections,
  alt,
}: {
  url: string;
  width: number | null;
  height: number | null;
  detections: Detection[];
  alt: string;
}) {
  const [w, h] = [width ?? 1, height ?? 1];
  return (
    <div className="image-boxes" style={{ aspectRatio: `${w} / ${h}` }}>
      <img src={url} alt={alt} width={w} height={h} loading="lazy" />
      {width !== null &&
        height !== null &&
        detections.map((d, i) => {
          const [x0, y0, x1, y1] = d.box as [number, number, number, number];
          const colour = colourOf(d.label);
          const style: CSSProperties = {
            left: `${(100 * x0) / w}%`,
            top: `${(100 * y0) / h}%`,
            width: `${(100 * (x1 - x0)) / w}%`,
            height: `${(100 * (y1 - y0)) / h}%`,
            borderColor: colour,
          };
          // A box in the right half carries its label at its right edge, growing leftwards into the image.
          const side: CSSProperties = (x0 + x1) / 2 > w / 2 ? { right: 0 } : { left: 0 };
          return (
            <div key={i} className="box" style={style} data-label={d.label}>
              <span className="box-label" style={{ background: colour, ...side }}>
                {d.label} {d.score.toFixed(2)}
              </span>
            </div>
          );
        })}
    </div>
  );
}
