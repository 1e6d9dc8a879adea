/**
 * Colours of detection boxes and their labels, and the contrast they keep with their white label
 * text: every one at least 4.5:1 (WCAG AA for normal text), as apps/web/test/lib.test.ts checks.
 */
export const BOX_PALETTE = ['#b3261e', '#1d6b32', '#1f4fbf', '#8a4b00', '#6a1b9a', '#00695c', '#5d4037', '#ad1457'] as const;

/** A label's colour: the same for the same label everywhere. */
export function colourOf(label: string): string {
  let hash = 0;
  for (const char of label) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return BOX_PALETTE[hash % BOX_PALETTE.length]!;
}

/** WCAG 2 relative luminance of an sRGB colour given as #rrggbb. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio of two #rrggbb colours, from 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}
