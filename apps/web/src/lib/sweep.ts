/**
 * Sweeps: leaderboard rows that differ only in one method parameter, grouped so that each group
 * can be drawn as a metric against that parameter. A baseline is InfSplign at guidance_weight 0
 * (docs/method.md §1), so for that parameter it joins every group with its sampling settings.
 */
import type { LeaderboardRow } from './leaderboard';
import { metricOf } from './metrics';

type Params = Record<string, unknown>;

export interface SweepPoint {
  x: number;
  y: number;
  low: number | null;
  high: number | null;
  runId: string;
}

export interface SweepGroup {
  /** method, model, detector and seed, in words */
  label: string;
  /** the other parameters the group's runs share */
  shared: string;
  points: SweepPoint[];
}

const SAMPLING = ['cfg_scale', 'steps', 'scheduler'];

function paramsOf(row: LeaderboardRow): { method: string; params: Params } | null {
  const config = row.run.config as { method?: unknown; params?: unknown } | null;
  if (!config || typeof config.method !== 'string' || typeof config.params !== 'object' || config.params === null) return null;
  return { method: config.method, params: config.params as Params };
}

const sortedJson = (value: Params) => JSON.stringify(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)));

/** Numeric parameters that vary among the rows' configurations. */
export function sweepableParams(rows: LeaderboardRow[]): string[] {
  const values = new Map<string, Set<number>>();
  for (const row of rows) {
    for (const [key, value] of Object.entries(paramsOf(row)?.params ?? {})) {
      if (typeof value === 'number') values.set(key, (values.get(key) ?? new Set()).add(value));
    }
  }
  return [...values]
    .filter(([, set]) => set.size > 1)
    .map(([key]) => key)
    .sort();
}

function context(row: LeaderboardRow): string {
  return sortedJson({
    model: row.model?.name,
    detector: row.detector,
    threshold: row.threshold,
    promptSet: row.run.promptSet.name,
    seed: row.run.seed,
    ipp: row.run.imagesPerPrompt,
    limit: row.run.limit,
  });
}

interface GroupBuild extends SweepGroup {
  context: string;
  sampling: Params;
}

export function sweepGroups(rows: LeaderboardRow[], param: string, metric: string): SweepGroup[] {
  const groups = new Map<string, GroupBuild>();
  const baselines: { row: LeaderboardRow; params: Params }[] = [];
  const point = (row: LeaderboardRow, x: number): SweepPoint | null => {
    const m = metricOf(row.metrics, metric);
    return m?.value == null ? null : { x, y: m.value, low: m.low, high: m.high, runId: row.run.id };
  };
  for (const row of rows) {
    const config = paramsOf(row);
    if (!config) continue;
    if (config.method === 'baseline' && param === 'guidance_weight') {
      baselines.push({ row, params: config.params });
      continue;
    }
    const x = config.params[param];
    const p = typeof x === 'number' ? point(row, x) : null;
    if (!p) continue;
    const { [param]: _swept, ...rest } = config.params;
    const key = `${config.method}|${context(row)}|${sortedJson(rest)}`;
    const group = groups.get(key) ?? {
      label: `${config.method} · ${row.model?.name ?? 'uploaded'} · ${row.detector}@${row.threshold} · seed ${row.run.seed}`,
      shared: Object.entries(rest)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(' '),
      points: [],
      context: context(row),
      sampling: Object.fromEntries(SAMPLING.map((k) => [k, config.params[k]])),
    };
    group.points.push(p);
    groups.set(key, group);
  }
  for (const { row, params } of baselines) {
    const p = point(row, 0);
    if (!p) continue;
    for (const group of groups.values()) {
      if (group.context === context(row) && SAMPLING.every((k) => group.sampling[k] === params[k])) group.points.push(p);
    }
  }
  return [...groups.values()]
    .map(({ label, shared, points }) => ({ label, shared, points: points.sort((a, b) => a.x - b.x) }))
    .filter((g) => new Set(g.points.map((p) => p.x)).size > 1)
    .map((g, i, all) => (all.some((o) => o !== g && o.label === g.label) ? { ...g, label: `${g.label} (line ${i + 1})` } : g));
}
