/**
 * InfSplign's guided U-Net (methods/guided-unet.ts with the infsplign method): the U-Net with its
 * selected cross-attention probabilities feeding the InfSplign loss subgraph, differentiated with
 * respect to the latent. Token weights, relation, prompt weights and the loss's values are inputs, so
 * one prepared model serves every prompt and every value; it is cached by the loss's structure.
 */
import { buildGuidedUnet as buildMethodUnet, prepareGuidedUnet as prepareMethodUnet, type GuidedUnet, type PreparedGuidance } from '../methods/guided-unet.ts';
import { INFSPLIGN_IO_PREFIX, infsplign } from '../methods/infsplign/index.ts';
import type { ModelProto } from '../onnx/proto.ts';
import type { GuidedCache } from './guided-cache.ts';
import { LOSS_VALUES, type LossStructure, type LossValueName } from './loss-graph.ts';

export type { GuidedUnet, PreparedGuidance } from '../methods/guided-unet.ts';

/** Names of the guided model's extra inputs and outputs. */
export const GUIDED_IO = {
  tokenWeights: `${INFSPLIGN_IO_PREFIX}token_weights`,
  relation: `${INFSPLIGN_IO_PREFIX}relation`,
  promptWeight: `${INFSPLIGN_IO_PREFIX}prompt_weight`,
  /** one float scalar input per loss value: `infsplign_alpha`, ... */
  values: Object.fromEntries(LOSS_VALUES.map((name) => [name, `${INFSPLIGN_IO_PREFIX}${name}`])) as Record<LossValueName, string>,
  loss: `${INFSPLIGN_IO_PREFIX}loss`,
  perPrompt: `${INFSPLIGN_IO_PREFIX}loss_per_prompt`,
  centroids: `${INFSPLIGN_IO_PREFIX}centroids`,
  /** every layer's terms and centroids [B, layers, LAYER_TABLE_COLUMNS] (loss-graph.ts layerTable) */
  layers: `${INFSPLIGN_IO_PREFIX}layers`,
} as const;

export interface GuidanceSpec {
  /** Attention-layer patterns (docs/method.md §4 `layers`). */
  layers: readonly string[];
  /** the loss's structure (any MethodParams will do; the values are not looked at) */
  params: LossStructure;
  latentHeight: number;
  latentWidth: number;
  /** The U-Net's latent input (diffusers: `sample`). */
  latentInput?: string;
}

const methodSpec = (spec: GuidanceSpec) => ({
  method: infsplign,
  params: { ...spec.params, layers: spec.layers },
  latentHeight: spec.latentHeight,
  latentWidth: spec.latentWidth,
  latentInput: spec.latentInput,
});

/** Builds InfSplign's guided model; `model` is extended in place. */
export function buildGuidedUnet(model: ModelProto, spec: GuidanceSpec): GuidedUnet {
  return buildMethodUnet(model, methodSpec(spec));
}

/** InfSplign's guided U-Net for `unetPath`, from the cache or built and cached now; unpin it once opened. */
export function prepareGuidedUnet(unetPath: string, spec: GuidanceSpec, cache: GuidedCache): PreparedGuidance {
  return prepareMethodUnet(unetPath, methodSpec(spec), cache);
}
