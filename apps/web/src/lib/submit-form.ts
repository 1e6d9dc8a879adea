/**
 * The submit form's state as data: what it starts from (the defaults, or a run's configuration for
 * "start from run X"), the inputs it sends (one, or one per value of a sweep), and the estimate of
 * its size and generation time. Pure, so that it is tested without a browser.
 */
import type { RunKind, SubmitFromQuery, SubmitRunInput } from '../gql/graphql';
import { fromText, toText, type ParamField } from './param-schema';

export interface Basics {
  detector: string;
  threshold: string;
  seed: string;
  imagesPerPrompt: string;
  limit: string;
  imageSet: string;
  force: boolean;
}

export interface FormStart {
  kind: RunKind;
  benchmark: string;
  promptSet: string;
  model: string;
  method: string;
  basics: Basics;
  /** parameter name to its text, for the parameters that differ from the model's defaults */
  edits: Record<string, string>;
}

/** A run's configuration as `/submit?from=RUN` reads it (configChanges: what differs from the method's defaults for the model). */
export type SourceRun = NonNullable<SubmitFromQuery['run']>;

/**
 * The form filled from a run: its benchmark, prompt set, model, method, detector, threshold, seed,
 * images per prompt and limit; its parameters where they differ from the model's defaults today (the
 * ones the method's schema has: a baseline's configuration also records guidance_weight 0).
 */
export function startFromRun(run: SourceRun, fields: readonly ParamField[]): FormStart {
  const edits: Record<string, string> = {};
  for (const { key, value } of run.configChanges ?? []) {
    const field = fields.find((f) => f.name === key);
    if (field) edits[key] = toText(field, value);
  }
  return {
    kind: run.kind,
    benchmark: run.benchmark,
    promptSet: run.promptSet.name,
    model: run.model?.name ?? '',
    method: run.method ?? '',
    basics: {
      detector: run.detector,
      threshold: String(run.threshold),
      seed: String(run.seed),
      imagesPerPrompt: String(run.imagesPerPrompt),
      limit: run.limit === null ? '' : String(run.limit),
      imageSet: run.imageSet?.id ?? '',
      force: false,
    },
    edits,
  };
}

/** The parameters the form changed, checked as the schema says, or each bad one's message by field name. */
export function editedParams(
  fields: readonly ParamField[],
  edits: Record<string, string>,
): { params: Record<string, unknown>; errors: Record<string, string> } {
  const params: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    if (!(field.name in edits)) continue;
    const parsed = fromText(field, edits[field.name]!);
    if ('error' in parsed) errors[field.name] = parsed.error;
    else params[field.name] = parsed.value;
  }
  return { params, errors };
}

const optionalNumber = (text: string) => (text.trim() === '' ? undefined : Number(text));

/** The submission for the form's fields (a sweep's run: `params` with its value set). */
export function submitInput(start: Omit<FormStart, 'edits'>, params: Record<string, unknown>): SubmitRunInput {
  const { kind, benchmark, promptSet, model, method, basics } = start;
  return {
    kind,
    benchmark,
    promptSet,
    detector: basics.detector.trim(),
    threshold: optionalNumber(basics.threshold),
    seed: optionalNumber(basics.seed),
    imagesPerPrompt: optionalNumber(basics.imagesPerPrompt),
    limit: optionalNumber(basics.limit),
    force: basics.force || undefined,
    ...(kind === 'GENERATE_AND_EVALUATE' ? { model, method, params } : { imageSet: basics.imageSet.trim() }),
  };
}

export interface Estimate {
  images: number;
  /** seconds of generation, or null when the model has no recorded time for the method */
  seconds: number | null;
}

/**
 * Images a submission makes: prompts (the limit, at most the set's size) × images per prompt (the
 * benchmark's own when blank) × runs; and their generation time at the model's recorded seconds per image.
 */
export function estimate({
  promptCount,
  limit,
  imagesPerPrompt,
  defaultImagesPerPrompt,
  runs,
  secondsPerImage,
}: {
  promptCount: number;
  limit: string;
  imagesPerPrompt: string;
  defaultImagesPerPrompt: number;
  runs: number;
  secondsPerImage: number | null;
}): Estimate | null {
  const prompts = limit.trim() === '' ? promptCount : Math.min(promptCount, Number(limit));
  const perPrompt = imagesPerPrompt.trim() === '' ? defaultImagesPerPrompt : Number(imagesPerPrompt);
  if (!Number.isInteger(prompts) || !Number.isInteger(perPrompt) || prompts < 0 || perPrompt < 1) return null;
  const images = prompts * perPrompt * runs;
  return { images, seconds: secondsPerImage === null ? null : images * secondsPerImage };
}

/** A duration a person reads at a glance: 45 s, 12 min, 3.5 h. */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
