/**
 * The arena's Markdown: the eval table (ranked by VISOR_cond, figures in percent with their 95%
 * bootstrap intervals over prompts, cost per image, the paired test of VISOR_cond against the
 * baseline and against InfSplign) and the tuning table (every strength tried, the pick marked).
 */
import { BASELINE, INFSPLIGN } from './plan.ts';
import type { Interval, PairedDifference, RunOutcome } from './runs.ts';

export const VISOR_METRICS = ['OA', 'VISOR_cond', 'VISOR_uncond', 'VISOR_1', 'VISOR_2', 'VISOR_3', 'VISOR_4'] as const;

export const EVAL_COLUMNS = [
  '#',
  'method',
  'strength',
  ...VISOR_METRICS,
  's / image',
  'U-Net evals / image',
  'backward / image',
  'Δ VISOR_cond vs baseline',
  'Δ VISOR_cond vs infsplign',
];
export const TUNE_COLUMNS = ['method', 'strength', 'VISOR_cond', 'OA', 's / image', 'U-Net evals / image', 'picked'];

export interface EvalRow {
  outcome: RunOutcome;
  /** `scale_factor = 20`; null for the baseline */
  strength: string | null;
  versusBaseline: PairedDifference | null;
  versusInfsplign: PairedDifference | null;
}

export interface TuneRow {
  outcome: RunOutcome;
  strength: string;
  picked: boolean;
}

export interface ArenaHeader {
  evalPrompts: number;
  imagesPerPrompt: number;
  tunePrompts: number;
  seed: number;
  devices: string[];
  date: string;
  seconds: number;
}

const NA = 'n/a';
const one = (v: number | null | undefined) => (v === null || v === undefined ? NA : v.toFixed(1));
const two = (v: number | null | undefined) => (v === null || v === undefined ? NA : v.toFixed(2));
const signed = (v: number | null) => (v === null ? NA : `${v >= 0 ? '+' : ''}${v.toFixed(1)}`);

export const formatInterval = (m: Interval | undefined) =>
  m?.value === null || m?.value === undefined ? NA : `${one(m.value)} [${one(m.low)}, ${one(m.high)}]`;

/** `+44.2 [40.1, 48.0], bootstrap p = 0.002`, or "—" for a run against itself. */
export function formatDifference(d: PairedDifference | null): string {
  if (!d) return '—';
  if (d.difference === null) return NA;
  return `${signed(d.difference)} [${one(d.low)}, ${one(d.high)}], ${d.test.toLowerCase()} p ${d.p === null ? NA : d.p < 0.001 ? '< 0.001' : `= ${d.p.toFixed(3)}`}`;
}

const table = (columns: string[], rows: string[][], numeric: ReadonlySet<number>) =>
  [`| ${columns.join(' | ')} |`, `| ${columns.map((_, i) => (numeric.has(i) ? '--:' : ':--')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join(
    '\n',
  );

/** Rows ranked by VISOR_cond (undefined last), ties in the given order. */
export function rankByVisorCond<T extends { outcome: RunOutcome }>(rows: readonly T[]): T[] {
  const key = (r: T) => r.outcome.metrics.VISOR_cond?.value ?? -Infinity;
  return [...rows].sort((a, b) => key(b) - key(a));
}

export function evalTable(rows: readonly EvalRow[]): string {
  const lines = rankByVisorCond(rows).map((r, i) => [
    String(i + 1),
    r.outcome.request.method,
    r.strength ?? '—',
    ...VISOR_METRICS.map((k) => formatInterval(r.outcome.metrics[k])),
    two(r.outcome.cost?.secondsPerImage),
    one(r.outcome.cost?.unetEvaluationsPerImage),
    one(r.outcome.cost?.backwardPassesPerImage),
    r.outcome.request.method === BASELINE ? '—' : formatDifference(r.versusBaseline),
    r.outcome.request.method === INFSPLIGN ? '—' : formatDifference(r.versusInfsplign),
  ]);
  return table(EVAL_COLUMNS, lines, new Set([0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
}

export function tuneTable(rows: readonly TuneRow[]): string {
  const lines = rows.map((r) => [
    r.outcome.request.method,
    r.strength,
    formatInterval(r.outcome.metrics.VISOR_cond),
    formatInterval(r.outcome.metrics.OA),
    two(r.outcome.cost?.secondsPerImage),
    one(r.outcome.cost?.unetEvaluationsPerImage),
    r.picked ? 'yes' : '',
  ]);
  return table(TUNE_COLUMNS, lines, new Set([2, 3, 4, 5]));
}

/** The whole report: what was run, the eval table, the tuning table, and how the pick and the tests read. */
export function arenaMarkdown(header: ArenaHeader, evalRows: readonly EvalRow[], tuneRows: readonly TuneRow[]): string {
  const device = header.devices.length ? header.devices.join(', ') : `${NA} (the API serves no Run.cost)`;
  return [
    `## Arena: visor-shapes on \`bundled\``,
    '',
    `Eval split: ${header.evalPrompts} prompts x ${header.imagesPerPrompt} images, seed ${header.seed}; each guided method at the strength it picked on the tune split (${header.tunePrompts} prompts x 1 image, highest VISOR_cond; a tie goes to the weaker strength). Detector shapes at the benchmark threshold; device ${device}; ${header.date}; the arena took ${Math.round(header.seconds / 60)} min. Figures in percent with 95% bootstrap intervals over prompts; Δ is the method minus the other run on the same prompts and images with the API's paired test (compareRuns).`,
    '',
    evalTable(evalRows),
    '',
    '### Tuning (tune split)',
    '',
    tuneTable(tuneRows),
    '',
  ].join('\n');
}
