/** `infsplign guidance loss | step`: the InfSplign loss of given attention maps, and one guided denoising step. */
import { readFileSync } from 'node:fs';
import { defaultParams, resolveParams, type MethodParams, type ModelFamily } from '../../contracts/method-params.ts';
import { evaluateLoss, LossInputError, mapsFileSchema } from '../../guidance/loss-evaluation.ts';
import { relationOfPhrase } from '../../guidance/relations.ts';
import type { Relation } from '../../prompts/types.ts';
import { readJsonFile } from '../../util/read-data-file.ts';
import { CliError, parseOptions, required, type Command } from '../command.ts';
import { GUIDANCE_STEP_USAGE, guidanceStep } from './guidance-step.ts';

const LOSS_USAGE = `usage: infsplign guidance loss [--method infsplign] --maps MAPS.json --relation REL [--prompt TEXT]
                             [--params JSON|@FILE] [--step I --steps N]

Prints {"guided": true, "loss": x, "layers": [{"name", "spatial", "energy", "total", "centroids": [[x1, y1], [x2, y2]]}]}
for the maps in MAPS.json:
  {"objects": [{"name", "tokens": [..]}, {...}], "layers": [{"name", "height", "width", "tokens", "probs": [...]}]}
probs head-averaged, row-major [height*width][tokens], taken as they enter docs/method.md §2.3 (no resize).
REL: a relation phrase ("to the left of", "on the top of", "next to", ...); "and", "on top of" and
"on bottom of" get no spatial term (energy terms only), as in the reference. --prompt is accepted for
the methods' common contract; InfSplign reads its relation from --relation.
--params: docs/method.md §4 parameters over the SD defaults (every option, e.g. loss_type, loss_num,
energy_loss, strategy, gaussian_smoothing, masked_mean, object_presence, no_wt, sg_t_start, sg_t_end).
--step I --steps N: the loss at denoising step I of N; a step outside the guided ones prints
{"guided": false, "step": I, "guide_steps": [start, end]}.`;

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
  if (relation === undefined) throw new CliError(`--relation '${phrase}' is not a relation docs/method.md knows (left of, right of, above, below, near and their phrasings; "and", "on top of" and "on bottom of" carry no spatial term)`);
  return relation;
}

/** --method: InfSplign is the method with a guidance loss. */
export function checkMethod(method: string | undefined): void {
  if (method !== undefined && method !== 'infsplign') throw new CliError(`--method ${method}: only infsplign has a guidance loss`, 2);
}

/** A non-negative integer option, or undefined when not given. */
export function integerOption(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer of at least ${min}, got '${value}'`, 2);
  return n;
}

/**
 * The parameters for a step of --steps (which overrides `steps`), and whether that step is guided.
 * `defaults` and `family` are the model's.
 */
export function stepParams(values: { params?: string; step?: string; steps?: string }, defaults = defaultParams('sd1'), family: ModelFamily = 'sd1'): { params: MethodParams; step: number; guided: boolean } {
  const steps = integerOption(values.steps, 'steps', 1);
  const overrides = { ...(readParamsOption(values.params) as object), ...(steps === undefined ? {} : { steps }) };
  const params = resolveParams(defaults, overrides, values.params ? '--params' : 'method parameters', family);
  const step = integerOption(values.step, 'step', 0) ?? 0;
  if (step >= params.steps) throw new CliError(`--step ${step} is past the last step (${params.steps} steps)`, 2);
  const [start, end] = params.guide_steps;
  return { params, step, guided: step >= start && step < end };
}

async function guidanceLoss(argv: string[]): Promise<void> {
  const spec = { method: { type: 'string' }, maps: { type: 'string' }, relation: { type: 'string' }, prompt: { type: 'string' }, params: { type: 'string' }, step: { type: 'string' }, steps: { type: 'string' } } as const;
  const { values } = parseOptions(argv, spec, LOSS_USAGE);
  checkMethod(values.method);
  const maps = readJsonFile(required(values, 'maps', LOSS_USAGE), mapsFileSchema);
  const relation = parseRelation(required(values, 'relation', LOSS_USAGE));
  const { params, step, guided } = stepParams(values);
  if (!guided) {
    console.log(JSON.stringify({ guided: false, step, guide_steps: params.guide_steps }));
    return;
  }
  try {
    console.log(JSON.stringify({ guided: true, ...(await evaluateLoss(maps, relation, params)) }));
  } catch (err) {
    if (err instanceof LossInputError) throw new CliError(`--relation '${values.relation}': ${err.message}`);
    throw err;
  }
}

export const guidanceCommand: Command = {
  name: 'guidance',
  summary: 'the InfSplign loss of given attention maps (guidance loss), one guided denoising step (guidance step)',
  usage: USAGE,
  subcommands: ['loss', 'step'],
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'loss') return guidanceLoss(rest);
    if (sub === 'step') return guidanceStep(rest);
    throw new CliError(sub ? `unknown subcommand '${sub}'\n\n${USAGE}` : USAGE, 2);
  },
};
