/**
 * Groups pixels into 8-connected regions of equal key: two neighbouring pixels (diagonals included)
 * belong to the same region when they have the same non-negative key. Pixels with a negative key
 * belong to none. Returns, per pixel, its region's index (or -1) and the regions' pixel indices.
 */
export function connectedRegions(width: number, height: number, keys: Int32Array): { regionOf: Int32Array; regions: number[][] } {
  const regionOf = new Int32Array(width * height).fill(-1);
  const regions: number[][] = [];
  const stack: number[] = [];
  for (let start = 0; start < keys.length; start++) {
    if (keys[start] < 0 || regionOf[start] >= 0) continue;
    const index = regions.length;
    const pixels: number[] = [];
    regionOf[start] = index;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      pixels.push(p);
      const x = p % width;
      const y = (p - x) / width;
      for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
          const q = ny * width + nx;
          if (regionOf[q] < 0 && keys[q] === keys[start]) {
            regionOf[q] = index;
            stack.push(q);
          }
        }
      }
    }
    regions.push(pixels);
  }
  return { regionOf, regions };
}
