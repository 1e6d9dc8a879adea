/** `infsplign guidance loss | step`: a method's loss on given attention maps, and one guided denoising step of InfSplign. */
import { readFileSync } from 'node:fs';
import { MethodParamsError, type SamplerParams } from '../../contracts/common-params.ts';
import { defaultParams, resolveParams, type MethodParams, type ModelFamily } from '../../contracts/method-params.ts';
import { methodDefaults } from '../../contracts/model-defaults.ts';
import { relationOfPhrase } from '../../guidance/relations.ts';
import { evaluateMethodLoss } from '../../methods/loss-model.ts';
import { mapsFileSchema, type MapsFile } from '../../methods/maps-file.ts';
import { UnguidablePromptError, type AnyMethod } from '../../methods/method.ts';
import { findMethod, methodNames } from '../../methods/registry.ts';
import type { Relation } from '../../prompts/types.ts';
import { readJsonFile } from '../../util/read-data-file.ts';
import { CliError, parseOptions, required, type Command } from '../command.ts';
import { GUIDANCE_STEP_USAGE, guidanceStep } from './guidance-step.ts';

const LOSS_USAGE = `usage: infsplign guidance loss [--method ${methodNames()
  .filter((m) => findMethod(m)!.guidance)
  .join('|')}] --maps MAPS.json --relation REL
                             [--previous-maps PREV.json] [--prompt TEXT] [--params JSON|@FILE] [--step I --steps N] [--refinement]

Prints {"guided": true, "loss": x, ...} for the maps in MAPS.json, with what the method reports:
  infsplign: "layers": [{"name", "spatial", "energy", "total", "centroids": [[x1, y1], [x2, y2]]}];
  attend-and-excite: "losses" and "max_attention", per object;
  divide-and-bind: "threshold" (the refinement's indicator), "max_attention" and, under tv, "tv", per object;
  conform: the loss only;
  storm: "losses" ([subject, object]), "coordinate" (its refinement gate), "w", "spatial_condition";
  it reads the relation from --prompt's text (docs/method.md §6.5).
MAPS.json: {"objects": [{"name", "tokens": [..]}, ...], "layers": [{"name", "height", "width", "tokens",
"probs": [...]}], "eot": E} with probs averaged over each layer's heads, row-major [height*width][tokens];
optional per layer "heads": [[...], ...] (each head's probabilities) and "eot", the end token's position.
infsplign (the default method) reads two objects and every layer as it enters docs/method.md §2.3 (no
resize); attend-and-excite and divide-and-bind the last token of each object and the layers of their
attention_res / attn_res (docs/method.md §6.2, §6.3), attend-and-excite "eot" with normalize_eot; conform
each object's span as one class, the layers of its attn_res (docs/method.md §6.4).
--previous-maps: the maps of the step before (same prompt, same objects: MAPS.json's are used), for a
method that reads them (conform); without it the step has none, as the first step.
REL: a relation phrase ("to the left of", "on the top of", "next to", ...); for infsplign "and", "on top
of" and "on bottom of" get no spatial term (energy terms only), as in the reference.
--params: the method's parameters over its SD 1.x defaults (docs/method.md §4, §6).
--step I --steps N: the loss at denoising step I of N; a step where the method reads no loss (outside
InfSplign's guide_steps; for a latent-updating method a step that neither updates nor refines) prints
{"guided": false, "step": I, ...}. --refinement: the evaluation is inside a refinement loop.`;

const USAGE = `${LOSS_USAGE}\n\n${GUIDANCE_STEP_USAGE}`;

/** `--params` as inline JSON or `@file`. */
export function readParamsOption(value: string | undefined): unknown {
  if (value === undefined) return {};
  const [text, source] = value.startsWith('@') ? [readFileSync(value.slice(1), 'utf8'), value.slice(1)] : [value, '--params'];
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
}

/** --relation: a phrase the reference lists, or one known to carry no spatial term. */
export function parseRelation(phrase: string): Relation | null {
  const relation = relationOfPhrase(phrase);
  if (relation === undefined)
    throw new CliError(
      `--relation '${phrase}' is not a relation docs/method.md knows (left of, right of, above, below, near and their phrasings; "and", "on top of" and "on bottom of" carry no spatial term)`,
    );
  return relation;
}

/** --method for `guidance step`: it runs InfSplign's noise-correcting step. */
export function checkMethod(method: string | undefined): void {
  if (method !== undefined && method !== 'infsplign')
    throw new CliError(`--method ${method}: guidance step runs InfSplign's step (guidance loss evaluates any method's loss)`, 2);
}

/** A non-negative integer option, or undefined when not given. */
export function integerOption(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer of at least ${min}, got '${value}'`, 2);
  return n;
}

/**
 * InfSplign's parameters for a step of --steps (which overrides `steps`), and whether that step is
 * guided. `defaults` and `family` are the model's.
 */
export function stepParams(
  values: { params?: string; step?: string; steps?: string },
  defaults = defaultParams('sd1'),
  family: ModelFamily = 'sd1',
): { params: MethodParams; step: number; guided: boolean } {
  const steps = integerOption(values.steps, 'steps', 1);
  const overrides = { ...(readParamsOption(values.params) as object), ...(steps === undefined ? {} : { steps }) };
  const params = resolveParams(defaults, overrides, values.params ? '--params' : 'method parameters', family);
  const step = integerOption(values.step, 'step', 0) ?? 0;
  if (step >= params.steps) throw new CliError(`--step ${step} is past the last step (${params.steps} steps)`, 2);
  const [start, end] = params.guide_steps;
  return { params, step, guided: step >= start && step < end };
}

/** Whether the method reads its loss at step i of `steps` (the plan of a latent-updating method asks for an evaluation). */
function readsLoss(method: AnyMethod, params: unknown, step: number, steps: number): boolean {
  const guidance = method.guidance!;
  if (guidance.kind === 'noise-correction') return guidance.guides(params as never, step);
  return !guidance.plan(params as never, step, steps).next().done;
}

/** What the method's evaluation of the previous step's maps leaves the step (method.ts ImageEvaluation.carry). */
async function previousCarry(
  method: AnyMethod,
  previous: MapsFile,
  relation: Relation | null,
  params: SamplerParams,
  step: number,
  file: string,
): Promise<unknown> {
  const evaluation = await evaluateMethodLoss(method, previous, relation, params, { index: Math.max(step - 1, 0), steps: params.steps, refinement: [false] });
  if (evaluation.carry === undefined) throw new CliError(`--previous-maps ${file}: ${method.name} reads no previous step's maps`, 2);
  return evaluation.carry;
}

async function guidanceLoss(argv: string[]): Promise<void> {
  const spec = {
    method: { type: 'string' },
    maps: { type: 'string' },
    'previous-maps': { type: 'string' },
    relation: { type: 'string' },
    prompt: { type: 'string' },
    params: { type: 'string' },
    step: { type: 'string' },
    steps: { type: 'string' },
    refinement: { type: 'boolean' },
  } as const;
  const { values } = parseOptions(argv, spec, LOSS_USAGE);
  const method = findMethod(values.method ?? 'infsplign');
  if (!method?.guidance)
    throw new CliError(
      `--method must be a method with a loss (${methodNames()
        .filter((m) => findMethod(m)!.guidance)
        .join(', ')}), got '${values.method}'`,
      2,
    );
  const maps = readJsonFile(required(values, 'maps', LOSS_USAGE), mapsFileSchema);
  const previousFile = values['previous-maps'];
  const previous = previousFile === undefined ? undefined : readJsonFile(previousFile, mapsFileSchema);
  if (previous && previous.layers[0]!.tokens !== maps.layers[0]!.tokens)
    throw new CliError(
      `--previous-maps ${previousFile}: its maps have ${previous.layers[0]!.tokens} token positions, ${values.maps}'s ${maps.layers[0]!.tokens}`,
    );
  const relation: Relation | null = parseRelation(required(values, 'relation', LOSS_USAGE));
  const steps = integerOption(values.steps, 'steps', 1);
  let params;
  try {
    params = method.params.resolve(
      methodDefaults(method, 'sd1', null),
      { ...(readParamsOption(values.params) as object), ...(steps === undefined ? {} : { steps }) },
      values.params ? '--params' : 'method parameters',
      'sd1',
    );
  } catch (err) {
    if (err instanceof MethodParamsError) throw new CliError(err.message);
    throw err;
  }
  const step = integerOption(values.step, 'step', 0) ?? 0;
  if (step >= params.steps) throw new CliError(`--step ${step} is past the last step (${params.steps} steps)`, 2);
  if (!readsLoss(method, params, step, params.steps)) {
    console.log(JSON.stringify({ guided: false, step, ...('guide_steps' in params ? { guide_steps: params.guide_steps } : {}) }));
    return;
  }
  try {
    const carried = previous
      ? [await previousCarry(method, { ...previous, objects: maps.objects, eot: maps.eot }, relation, params, step, previousFile!)]
      : undefined;
    const evaluation = await evaluateMethodLoss(
      method,
      maps,
      relation,
      params,
      { index: step, steps: params.steps, refinement: [values.refinement ?? false], carried },
      values.prompt,
    );
    console.log(JSON.stringify({ guided: true, loss: evaluation.loss, ...evaluation.report }));
  } catch (err) {
    if (err instanceof UnguidablePromptError) throw new CliError(`${values.maps} with --relation '${values.relation}': ${err.message}`);
    throw err;
  }
}

export const guidanceCommand: Command = {
  name: 'guidance',
  summary: "a method's loss on given attention maps (guidance loss), one InfSplign denoising step (guidance step)",
  usage: USAGE,
  subcommands: ['loss', 'step'],
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'loss') return guidanceLoss(rest);
    if (sub === 'step') return guidanceStep(rest);
    throw new CliError(sub ? `unknown subcommand '${sub}'\n\n${USAGE}` : USAGE, 2);
  },
};
