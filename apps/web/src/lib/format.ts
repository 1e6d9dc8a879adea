/** Dates and ids as pages show them (metric figures: lib/metrics.ts, per unit). */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Seconds per image with three significant figures: `0.0712 s`, `13.4 s`; n/a without a figure. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return 'n/a';
  return `${Number(seconds.toPrecision(3))} s`;
}

/** A mean count per image: whole when it is, else one decimal (refinement makes images differ). */
export function formatCount(count: number | null | undefined): string {
  if (count === null || count === undefined) return 'n/a';
  return Number.isInteger(count) ? String(count) : count.toFixed(1);
}
