import type { ScoreResult } from '../evaluation/score.ts';
import { BENCHMARK_NAMES, isBenchmarkName, type BenchmarkName } from '../prompts/types.ts';
import { CliError, required } from './command.ts';

/** --threshold: a number in [0, 1), or undefined for the benchmark's own; anything else is a usage error. */
export function parseThreshold(text: string | undefined, usage: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value >= 1)
    throw new CliError(`--threshold must be a number in [0, 1), got '${text}'\n\n${usage}`, 2);
  return value;
}

function formatFigure(value: unknown): string {
  return typeof value === 'number' ? String(Number(value.toFixed(4))) : 'n/a';
}

/** What `score` and `evaluate` print: a headline, then one line per top-level figure, `OA 45.2 [41.1, 49.3]`. */
export function scoreSummary(result: ScoreResult): string {
  const lines = Object.entries(result.aggregates)
    .filter(([, value]) => typeof value === 'number' || value === null)
    .map(([name, value]) => {
      const interval = result.intervals[name];
      const range = Array.isArray(interval) ? ` [${interval.map(formatFigure).join(', ')}]` : '';
      return `  ${name} ${formatFigure(value)}${range}`;
    });
  return [
    `${result.benchmark}: ${result.images_scored} images of ${result.prompts_scored} prompts scored (threshold ${result.threshold})`,
    ...lines,
    ...result.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}

/** --benchmark, required and one the project knows. */
export function requireBenchmark(values: Record<string, unknown>, usage: string): BenchmarkName {
  const benchmark = required(values, 'benchmark', usage);
  if (!isBenchmarkName(benchmark)) throw new CliError(`unknown benchmark '${benchmark}' (expected one of ${BENCHMARK_NAMES.join(', ')})`);
  return benchmark;
}
