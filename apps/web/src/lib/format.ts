/** Dates and ids as pages show them (metric figures: lib/metrics.ts, per unit). */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
