/**
 * How numbers are shown: metrics are percentages (VISOR) or fractions (T2I-CompBench, GenEval), so
 * one decimal above 1 and three below. `scale` is the largest number shown beside this one (an
 * interval's value), so that a 0 in [0, 100] reads 0.0, not 0.000.
 */
export function formatMetric(value: number | null | undefined, scale = value ?? 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return Math.max(Math.abs(value), Math.abs(scale)) >= 1 ? value.toFixed(1) : value.toFixed(3);
}

export function formatDelta(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const text = formatMetric(Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : text;
}

export function formatP(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
