/**
 * InfSplign's loss on given attention maps (the `guidance loss` command; methods/loss-model.ts with
 * the infsplign method): the same ONNX subgraph the guided U-Net uses, fed with head-averaged maps
 * taken as they enter docs/method.md §2.3.
 */
import * as ort from 'onnxruntime-node';
import type { MethodParams } from '../contracts/method-params.ts';
import { infsplign } from '../methods/infsplign/index.ts';
import { buildMethodLossModel, evaluateMethodLoss, mapsPrompt, methodLossFeeds } from '../methods/loss-model.ts';
import type { MapsFile, MapsLayout } from '../methods/maps-file.ts';
import { UnguidablePromptError } from '../methods/method.ts';
import type { ModelProto } from '../onnx/proto.ts';
import type { Relation } from '../prompts/types.ts';
import { LOSS_VALUES, type LayerReport, type LossParams, type LossValueName } from './loss-graph.ts';

export { mapsFileSchema, type MapsFile, type MapsLayout } from '../methods/maps-file.ts';

export interface LossReport {
  /** what is differentiated: the mean of the layers' totals, times 5 with no_wt off */
  loss: number;
  layers: LayerReport[];
}

type InfsplignLossParams = LossParams &
  Pick<
    MethodParams,
    | 'no_wt'
    | 'object_presence'
    | 'map_size'
    | 'loss_type'
    | 'loss_num'
    | 'energy_loss'
    | 'strategy'
    | 'top_loss'
    | 'top_strategy'
    | 'L2_norm'
    | 'gaussian_smoothing'
    | 'masked_mean'
  >;

/** The loss values as the graph's scalar inputs, named by `inputName`. */
export function lossValueFeeds(params: LossParams, inputName: (name: LossValueName) => string): Record<string, ort.Tensor> {
  return Object.fromEntries(LOSS_VALUES.map((name) => [inputName(name), new ort.Tensor('float32', Float32Array.of(params[name]), [])]));
}

/** The loss step of a maps file: the loss reads no step, so any. */
const ANY_STEP = { index: 0, steps: 1, refinement: [false] };

/**
 * The loss of docs/method.md §2 as a model of its own, on head-averaged maps as they enter §2.3 (no
 * resize): inputs `probs_K` [1, height * width, tokens] per layer, `token_weights`, `relation`,
 * `prompt_weight` and one scalar per LOSS_VALUES name; outputs `loss`, `loss_per_prompt`, `centroids`
 * and `layers` (layerTable).
 */
export function buildLossModel(maps: MapsLayout, params: InfsplignLossParams): ModelProto {
  return buildMethodLossModel(infsplign, params, maps).model;
}

/** The loss model's inputs for the maps, relation and parameters. */
export function lossModelFeeds(maps: MapsFile, relation: Relation | null, params: InfsplignLossParams): Record<string, ort.Tensor> {
  const row = infsplign.guidance!.prepareFromMaps(mapsPrompt(maps, relation), params as MethodParams);
  return methodLossFeeds(infsplign, buildMethodLossModel(infsplign, params, maps), maps, row, params, ANY_STEP);
}

export class LossInputError extends Error {}

export async function evaluateLoss(maps: MapsFile, relation: Relation | null, params: InfsplignLossParams): Promise<LossReport> {
  try {
    const evaluation = await evaluateMethodLoss(infsplign, maps, relation, params, ANY_STEP);
    return { loss: evaluation.loss, layers: evaluation.report.layers as LayerReport[] };
  } catch (err) {
    if (err instanceof UnguidablePromptError) throw new LossInputError(err.message);
    throw err;
  }
}
