/**
 * Two runs compared on what can be paired (docs/benchmarks.md §5):
 * - by prompt, always: runs of one benchmark on the same prompts, whatever their model, method,
 *   detector or seed, compare prompt by prompt (a paired bootstrap over prompts per metric);
 * - image by image only when the runs' seeds and images per prompt match, so that image k of a prompt
 *   was drawn from the same noise in both (then McNemar for per-image rates, and the image pairs);
 * - runs of different prompt sets on the prompts they share (matched by text), with a note saying so,
 *   and not at all when they share none; a run is never compared with itself.
 * compareRuns, the leaderboard's comparisons (with the baseline, with the leader) and a run's
 * versusBaseline all come here. Comparisons of two FINISHED runs never change, so they are kept per
 * API process (the least recently used go first beyond a bound on the images held).
 */
import { type ScoredImage, type ScoringRules, TALLY_RULES } from '@infsplign/workers/benchmarks';
import { z } from 'zod';
import { inputError } from '../errors.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Pairing } from '../graphql/generated/resolvers.ts';
import type { RunRow } from '../graphql/rows.ts';
import { compareMetrics, pairedTest, type MetricComparison, type PromptPair } from '../stats/paired.ts';

/** A run's scored image as the comparison reads it. */
export interface ComparedImage extends ScoredImage {
  imageId: string;
  imageIndex: number;
}

/** One prompt both runs scored: its ids in each run's prompt set, and each run's images of it. */
export interface SharedPrompt extends PromptPair<ComparedImage> {
  promptIdA: string;
  externalId: number;
  relation: string | null;
}

/** What RunComparison resolves from. */
export interface RunComparison {
  a: RunRow;
  b: RunRow;
  pairing: Pairing;
  notes: string[];
  primaryMetric: string;
  prompts: SharedPrompt[];
  metrics: MetricComparison[];
  byRelation: { relation: string; prompts: number; metrics: MetricComparison[] }[];
  /** image pairs (IMAGE pairing only): image k of a shared prompt in A and in B */
  pairs: { prompt: number; image: number; aImage: string; bImage: string; a: { correct: boolean; score: number }; b: { correct: boolean; score: number } }[];
  pairsCount: number;
  bothCorrect: number;
  neitherCorrect: number;
  onlyA: number;
  onlyB: number;
  /** null unless the pairing is IMAGE */
  mcnemarP: number | null;
  meanDifference: number | null;
  meanDifferenceLow: number | null;
  meanDifferenceHigh: number | null;
}

interface ImageRow {
  externalId: number;
  promptId: string;
  text: string;
  relation: string | null;
  imageIndex: number;
  imageId: string;
  correct: boolean;
  score: number;
  details: unknown;
}

/** contracts/jobs.ts ImageScore.details, as the ingester stored them: VISOR's detections, GenEval's tag. */
const detailsSchema = z.object({ a_detected: z.boolean().optional(), b_detected: z.boolean().optional(), tag: z.string().optional() });

function scoredImage(scoring: ScoringRules, row: ImageRow, runId: string): ComparedImage {
  const details = detailsSchema.safeParse(row.details);
  const problem = !details.success
    ? details.error.issues[0]!.message
    : scoring === 'visor' && details.data.a_detected === undefined
      ? 'no a_detected'
      : scoring === 'geneval' && !details.data.tag
        ? 'no tag'
        : null;
  if (problem) throw new Error(`run ${runId}: image ${row.imageId} has score details the ${scoring} rules cannot read (${problem})`);
  const d = details.data!;
  return {
    imageId: row.imageId,
    imageIndex: row.imageIndex,
    correct: row.correct,
    score: row.score,
    aDetected: d.a_detected ?? false,
    bDetected: d.b_detected ?? false,
    tag: d.tag ?? null,
  };
}

interface LoadedPrompt {
  promptId: string;
  externalId: number;
  text: string;
  relation: string | null;
  images: ComparedImage[];
}

/** A run's scored images grouped by prompt, prompts in id order and images in index order. */
async function scoredPrompts(prisma: PrismaClient, run: RunRow): Promise<LoadedPrompt[]> {
  const rows = await prisma.$queryRaw<ImageRow[]>`
    SELECT p.external_id AS "externalId", p.id::text AS "promptId", p.text, p.relation, i.image_index AS "imageIndex", i.id::text AS "imageId",
           s.correct, s.score, s.details
    FROM images i
    JOIN image_scores s ON s.image_id = i.id
    JOIN prompts p ON p.id = i.prompt_id
    WHERE i.run_id = ${run.id}::uuid
    ORDER BY p.external_id, i.image_index`;
  const prompts: LoadedPrompt[] = [];
  for (const row of rows) {
    let last = prompts.at(-1);
    if (last?.promptId !== row.promptId)
      prompts.push((last = { promptId: row.promptId, externalId: row.externalId, text: row.text, relation: row.relation, images: [] }));
    last.images.push(scoredImage(run.benchmark.scoring, row, run.id));
  }
  return prompts;
}

/** The prompts both runs scored, in A's prompt order: by prompt within one prompt set, by text across two. */
function sharedPrompts(a: RunRow, b: RunRow, inA: LoadedPrompt[], inB: LoadedPrompt[]): { shared: SharedPrompt[]; notes: string[] } {
  const samePromptSet = a.promptSetId === b.promptSetId;
  const keyOf = (p: LoadedPrompt) => (samePromptSet ? p.promptId : p.text);
  const inBByKey = new Map(inB.map((p) => [keyOf(p), p]));
  const shared = inA.flatMap((p) => {
    const other = inBByKey.get(keyOf(p));
    return other ? [{ promptIdA: p.promptId, externalId: p.externalId, relation: p.relation, a: p.images, b: other.images }] : [];
  });
  const notes: string[] = [];
  const setName = (run: RunRow) => `${run.promptSet.name} (${run.promptsTotal} prompts${run.promptLimit !== null ? `, limit ${run.promptLimit}` : ''})`;
  if (!samePromptSet)
    notes.push(
      `The runs score different prompt sets, ${setName(a)} and ${setName(b)}: they are compared on the ${shared.length} prompts with the same text in both.`,
    );
  else if (shared.length < Math.max(inA.length, inB.length))
    notes.push(`Run A scored ${inA.length} prompts and run B ${inB.length}: they are compared on the ${shared.length} both scored.`);
  return { shared, notes };
}

/** Metric definitions of a benchmark, in display order: what compareMetrics and the primary metric need. */
async function benchmarkMetrics(prisma: PrismaClient, benchmarkId: string) {
  const metrics = await prisma.metricDefinition.findMany({
    where: { benchmarkId },
    orderBy: { ordinal: 'asc' },
    select: { key: true, primary: true, minImagesPerPrompt: true },
  });
  return { metrics, primary: (metrics.find((m) => m.primary) ?? metrics[0])?.key ?? '' };
}

async function computeComparison(prisma: PrismaClient, a: RunRow, b: RunRow): Promise<RunComparison> {
  const [inA, inB, { metrics, primary }] = await Promise.all([scoredPrompts(prisma, a), scoredPrompts(prisma, b), benchmarkMetrics(prisma, a.benchmarkId)]);
  const { shared, notes } = sharedPrompts(a, b, inA, inB);
  if (shared.length === 0) {
    throw inputError(
      ['b'],
      `runs a and b share no scored prompt (a: ${a.benchmark.name}/${a.promptSet.name}, b: ${b.benchmark.name}/${b.promptSet.name}), so there is nothing to compare`,
    );
  }
  const pairing: Pairing = a.seed === b.seed && a.imagesPerPrompt === b.imagesPerPrompt ? 'IMAGE' : 'PROMPT';
  if (pairing === 'PROMPT') {
    const differences = [
      a.seed !== b.seed && `seeds ${a.seed} and ${b.seed}`,
      a.imagesPerPrompt !== b.imagesPerPrompt && `${a.imagesPerPrompt} and ${b.imagesPerPrompt} images per prompt`,
    ].filter(Boolean);
    notes.push(`The runs have ${differences.join(' and ')}, so their images are not paired one to one: every test here pairs prompts, not images.`);
  }
  const rules = TALLY_RULES[a.benchmark.scoring];
  const options = { imagePaired: pairing === 'IMAGE', imagesPerPrompt: [a.imagesPerPrompt, b.imagesPerPrompt] as const };
  const relations = [...new Set(shared.map((p) => p.relation).filter((r): r is string => r !== null))];
  const pairs =
    pairing === 'IMAGE'
      ? shared.flatMap((p) =>
          p.a.flatMap((x) => {
            const y = p.b.find((image) => image.imageIndex === x.imageIndex);
            return y
              ? [
                  {
                    prompt: p.externalId,
                    image: x.imageIndex,
                    aImage: x.imageId,
                    bImage: y.imageId,
                    a: { correct: x.correct, score: x.score },
                    b: { correct: y.correct, score: y.score },
                  },
                ]
              : [];
          }),
        )
      : [];
  const images = pairedTest(pairs);
  return {
    a,
    b,
    pairing,
    notes,
    primaryMetric: primary,
    prompts: shared,
    metrics: compareMetrics(rules, metrics, shared, options),
    byRelation: relations.map((relation) => {
      const subset = shared.filter((p) => p.relation === relation);
      return { relation, prompts: subset.length, metrics: compareMetrics(rules, metrics, subset, options) };
    }),
    pairs,
    pairsCount: images.pairs,
    bothCorrect: images.bothCorrect,
    neitherCorrect: images.neitherCorrect,
    onlyA: images.onlyA,
    onlyB: images.onlyB,
    mcnemarP: pairing === 'IMAGE' ? images.mcnemarP : null,
    meanDifference: images.meanDifference,
    meanDifferenceLow: images.meanDifferenceInterval?.[0] ?? null,
    meanDifferenceHigh: images.meanDifferenceInterval?.[1] ?? null,
  };
}

/** Comparisons of FINISHED runs kept per API process (its Prisma client), most recently used last, with the images each holds. */
const kept = new WeakMap<PrismaClient, Map<string, { comparison: Promise<RunComparison>; images: number }>>();
/** At most this many images, summed over the comparisons kept: a few MB per hundred thousand. */
const KEPT_IMAGES = 2_000_000;

/**
 * Runs a and b compared (differences are b − a). Refuses, as bad input on `b`, a run compared with
 * itself, runs of different benchmarks, and runs that share no scored prompt.
 */
export function compareRunRows(prisma: PrismaClient, a: RunRow, b: RunRow): Promise<RunComparison> {
  if (a.id === b.id) return Promise.reject(inputError(['b'], 'is run a itself; compare two different runs'));
  if (a.benchmarkId !== b.benchmarkId)
    return Promise.reject(inputError(['b'], `run b scores ${b.benchmark.name} and run a ${a.benchmark.name}; only runs of one benchmark share scoring rules`));
  if (a.status !== 'FINISHED' || b.status !== 'FINISHED') return computeComparison(prisma, a, b);
  let comparisons = kept.get(prisma);
  if (!comparisons) kept.set(prisma, (comparisons = new Map()));
  // A finished run's scores never change; its finishing time tells a retried run's new figures apart.
  const key = `${a.id}@${a.finishedAt?.toISOString()}|${b.id}@${b.finishedAt?.toISOString()}`;
  const found = comparisons.get(key);
  if (found) {
    comparisons.delete(key);
    comparisons.set(key, found);
    return found.comparison;
  }
  const entry = { comparison: computeComparison(prisma, a, b), images: a.imagesEvaluated + b.imagesEvaluated };
  comparisons.set(key, entry);
  entry.comparison.catch(() => comparisons.delete(key));
  let held = [...comparisons.values()].reduce((sum, e) => sum + e.images, 0);
  for (const [oldest, e] of comparisons) {
    if (held <= KEPT_IMAGES || oldest === key) break;
    comparisons.delete(oldest);
    held -= e.images;
  }
  return entry.comparison;
}
