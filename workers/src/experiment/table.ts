/** The experiment's table as Markdown: the figures with their 95% intervals, then VISOR_cond per relation. */
import { VISOR_RELATION_SPLITS } from '../evaluation/scorers/visor.ts';
import type { ExperimentResult, ExperimentRow } from './run-experiment.ts';

const VISOR_COLUMNS = ['OA', 'VISOR_cond', 'VISOR_uncond', 'VISOR_1', 'VISOR_2', 'VISOR_3', 'VISOR_4'] as const;

type Interval = [number, number];

function figure(value: unknown, interval: unknown): string {
  if (typeof value !== 'number') return 'n/a';
  const range = Array.isArray(interval) && interval.length === 2 ? ` [${(interval as Interval).map((v) => v.toFixed(1)).join(', ')}]` : '';
  return `${value.toFixed(1)}${range}`;
}

/** Three significant figures: a GPU's 0.00412 s keeps its digits, as a CPU's 13.4 s does. */
const seconds = (value: number) => String(Number(value.toPrecision(3)));

/** A mean count per image: whole when every image took the same, else one decimal. */
const count = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1));

function line(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function header(cells: readonly string[]): string[] {
  return [line(cells), line(cells.map((_, i) => (i === 0 ? ':--' : '--:')))];
}

/** Columns of a row: VISOR's figures for VISOR-scored benchmarks, else every top-level number the scorer gives. */
function columns(result: ExperimentResult): string[] {
  const first = result.rows[0]?.aggregates ?? {};
  if ('VISOR_cond' in first) return [...VISOR_COLUMNS];
  return Object.keys(first).filter((key) => typeof first[key] === 'number' || first[key] === null);
}

function byRelation(row: ExperimentRow): Record<string, Record<string, unknown>> {
  return (row.aggregates.by_relation ?? {}) as Record<string, Record<string, unknown>>;
}

export function experimentMarkdown(result: ExperimentResult): string {
  const cols = columns(result);
  const lines = [
    `**${result.benchmark}** on \`${result.model}\`: ${result.prompts} prompts x ${result.images_per_prompt} images, seed ${result.seed}, detector ${result.detector} (threshold ${result.threshold}), device ${result.device}. Figures in percent with 95% bootstrap intervals over prompts.`,
    '',
    ...header(['configuration', ...cols, 's / image', 'U-Net evaluations / image', 'backward passes / image']),
    ...result.rows.map((row) =>
      line([
        row.name,
        ...cols.map((c) => figure(row.aggregates[c], row.intervals[c])),
        seconds(row.seconds_per_image),
        count(row.unet_evaluations_per_image),
        count(row.backward_passes_per_image),
      ]),
    ),
  ];
  if (result.rows.some((row) => Object.keys(byRelation(row)).length > 0)) {
    lines.push('', 'VISOR_cond by relation:', '', ...header(['configuration', ...VISOR_RELATION_SPLITS]));
    for (const row of result.rows) {
      const intervals = (row.intervals.by_relation ?? {}) as Record<string, Record<string, unknown>>;
      lines.push(line([row.name, ...VISOR_RELATION_SPLITS.map((r) => figure(byRelation(row)[r]?.VISOR_cond, intervals[r]?.VISOR_cond))]));
    }
  }
  for (const note of result.notes) lines.push('', `Note: ${note}`);
  return `${lines.join('\n')}\n`;
}
