/**
 * Metrics as the API defines them, and one way to write their numbers per unit: VISOR's percentages
 * with one decimal (differences in percentage points), T2I-CompBench's and GenEval's 0-1 scores with
 * three; "n/a" where a figure is undefined (VISOR_2 to 4 at one image per prompt, VISOR_cond with no
 * image holding both objects). And the paired tests' verdicts in words.
 */

import type { MetricComparisonFieldsFragment, MetricDefinitionFieldsFragment, MetricValueFieldsFragment, PairedTest } from '../gql/graphql';

export type MetricDefinition = MetricDefinitionFieldsFragment;
export type MetricValue = MetricValueFieldsFragment;
/** A metric of two runs with its paired test (the API's MetricComparison). */
export type MetricComparison = MetricComparisonFieldsFragment;

export const NOT_AVAILABLE = 'n/a';

const decimals = (unit: string) => (unit === '%' ? 1 : 3);

/** A figure: `54.2%` or `0.317`; n/a when undefined. */
export function formatValue(unit: string, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return NOT_AVAILABLE;
  return `${value.toFixed(decimals(unit))}${unit === '%' ? '%' : ''}`;
}

/** An interval in the figure's format without its unit sign: `[44.2, 65.0]`. */
export function formatInterval(unit: string, low: number | null | undefined, high: number | null | undefined): string {
  if (low === null || low === undefined || high === null || high === undefined) return '';
  return `[${low.toFixed(decimals(unit))}, ${high.toFixed(decimals(unit))}]`;
}

/** A difference with its sign: `+44.2 pp` (percentage points) or `−0.021`; n/a when undefined. */
export function formatDifference(unit: string, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return NOT_AVAILABLE;
  const text = Math.abs(value).toFixed(decimals(unit));
  const sign = Number(text) === 0 ? '±' : value > 0 ? '+' : '−';
  return `${sign}${text}${unit === '%' ? ' pp' : ''}`;
}

export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined) return 'p n/a';
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

export const TEST_NAMES: Record<PairedTest, string> = {
  BOOTSTRAP: 'paired bootstrap over prompts',
  MCNEMAR: 'exact McNemar on paired images',
};

/** The tests' names where space is short. */
export const SHORT_TEST_NAMES: Record<PairedTest, string> = { BOOTSTRAP: 'bootstrap', MCNEMAR: 'McNemar' };

/** "beyond noise" or "within noise", from the test's p-value (null: undefined, no verdict). */
export function verdict(m: Pick<MetricComparison, 'p' | 'beyondNoise'>): string {
  return m.p === null ? 'undefined' : m.beyondNoise ? 'beyond noise' : 'within noise';
}

export const metricOf = <M extends { key: string }>(metrics: readonly M[], key: string): M | undefined => metrics.find((m) => m.key === key);

/** The benchmark's primary metric: the one flagged, else the first. */
export function primaryMetric(metrics: readonly MetricDefinition[]): MetricDefinition | undefined {
  return metrics.find((m) => m.primary) ?? metrics[0];
}

/**
 * A round axis for values from `min` to `max`: ticks at a step of 1, 2 or 5 times a power of ten
 * (the one nearest to giving `count` ticks), from the last tick at or below `min` to the first at or above `max`, each
 * written with as many decimals as the step needs. The axis runs from the first tick to the last.
 */
export function niceAxis(min: number, max: number, count = 5): { domain: [number, number]; ticks: { value: number; label: string }[] } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { domain: [0, 1], ticks: [] };
  if (max === min) [min, max] = min === 0 ? [0, 1] : [Math.min(0, min), Math.max(0, max)];
  const rough = (max - min) / Math.max(1, count - 1);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).reduce((best, s) => (Math.abs(Math.log(s / rough)) < Math.abs(Math.log(best / rough)) ? s : best));
  const places = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const [first, last] = [Math.floor(min / step + 1e-9), Math.ceil(max / step - 1e-9)];
  const ticks = Array.from({ length: last - first + 1 }, (_, i) => {
    const value = Number(((first + i) * step).toFixed(places));
    return { value, label: value.toFixed(places) };
  });
  return { domain: [ticks[0]!.value, ticks.at(-1)!.value], ticks };
}
