import type { niceAxis } from '@/lib/metrics';

type Axis = ReturnType<typeof niceAxis>;

/** A plot's frame: y grid lines with their labels, x tick labels, both axes and their names. */
export function ChartAxes({
  x,
  y,
  sx,
  sy,
  box,
  xLabel,
  yLabel,
}: {
  x: Axis;
  y: Axis;
  sx: (v: number) => number;
  sy: (v: number) => number;
  /** the plot area inside the SVG and the SVG's size */
  box: { width: number; height: number; left: number; bottom: number; top: number; right: number };
  xLabel: string;
  yLabel: string;
}) {
  const { width, height, left, bottom, top, right } = box;
  const middle = (top + height - bottom) / 2;
  return (
    <>
      {y.ticks.map((t) => (
        <g key={`y${t.value}`}>
          <line className="grid" x1={left} x2={width - right} y1={sy(t.value)} y2={sy(t.value)} />
          <text x={left - 4} y={sy(t.value) + 4} textAnchor="end">
            {t.label}
          </text>
        </g>
      ))}
      {x.ticks.map((t) => (
        <text key={`x${t.value}`} x={sx(t.value)} y={height - bottom + 14} textAnchor="middle">
          {t.label}
        </text>
      ))}
      <line className="axis" x1={left} x2={width - right} y1={height - bottom} y2={height - bottom} />
      <line className="axis" x1={left} x2={left} y1={top} y2={height - bottom} />
      <text x={(left + width - right) / 2} y={height - 4} textAnchor="middle">
        {xLabel}
      </text>
      <text x={12} y={middle} textAnchor="middle" transform={`rotate(-90 12 ${middle})`}>
        {yLabel}
      </text>
    </>
  );
}
