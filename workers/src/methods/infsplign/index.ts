/**
 * InfSplign (docs/method.md §1-§5) as a method of the arena: each selected layer's head-averaged maps
 * feed its loss (guidance/loss-graph.ts), and the gradient corrects the noise prediction,
 * eps = eps_u + w (eps_c - eps_u) + guidance_weight g, on the steps of guide_steps. Its parameters
 * are contracts/method-params.ts.
 */
import type { z } from 'zod';
import {
  canonicalInfsplignParams,
  defaultParams,
  methodParamsSchema,
  partialMethodParamsObject,
  partialMethodParamsSchema,
  resolveParams,
  type MethodParams,
  type PartialMethodParams,
} from '../../contracts/method-params.ts';
import {
  buildLossGraph,
  LAYER_TABLE_COLUMNS,
  layerTable,
  LOSS_VALUES,
  lossStructure,
  promptLossWeight,
  readLayerTable,
  relationProblem,
  type LossStructure,
} from '../../guidance/loss-graph.ts';
import { relationOneHot, RELATIONS } from '../../guidance/relations.ts';
import { objectTokenSpans, tokenWeights } from '../../guidance/token-spans.ts';
import type { Relation } from '../../prompts/types.ts';
import { UnguidablePromptError, type MethodDefinition, type NoiseCorrection } from '../method.ts';

/** What the loss needs of one prompt (docs/method.md §2.2, §2.6). */
export interface InfsplignRow {
  /** token weights [2][T] (token-spans.ts) */
  weights: Float32Array;
  relation: Relation | null;
  /** the factor of its loss: 1, or 5 with no_wt off (loss-graph.ts promptLossWeight) */
  lossWeight: number;
}

/** The guided U-Net's extra inputs and outputs, as the method's prefix names them. */
export const INFSPLIGN_IO_PREFIX = 'infsplign_';

const guidance: NoiseCorrection<MethodParams, LossStructure, InfsplignRow> = {
  kind: 'noise-correction',
  ioPrefix: INFSPLIGN_IO_PREFIX,
  maps: (params) => ({ layers: params.layers, aggregate: 'per-layer' }),
  structure: (params) => lossStructure(params),
  inputs: (_structure, { tokens }) => ({
    token_weights: ['batch', 2, tokens],
    relation: ['batch', RELATIONS.length],
    prompt_weight: ['batch'],
    ...Object.fromEntries(LOSS_VALUES.map((name) => [name, []])),
  }),
  buildLoss(b, maps, inputs, structure, source) {
    const values = Object.fromEntries(LOSS_VALUES.map((name) => [name, inputs[name]!])) as Record<(typeof LOSS_VALUES)[number], string>;
    // a maps file holds the maps as they enter the statistics (docs/method.md §2.3): already resized
    const out = buildLossGraph(
      b,
      maps,
      { tokenWeights: inputs.token_weights!, relation: inputs.relation!, promptWeight: inputs.prompt_weight!, values },
      structure,
      source === 'unet',
    );
    return {
      loss: out.loss,
      outputs: {
        loss_per_prompt: { value: out.perPrompt, dims: ['batch'] },
        centroids: { value: out.centroids, dims: ['batch', 2, 2] },
        layers: { value: layerTable(b, out.layers), dims: ['batch', maps.length, LAYER_TABLE_COLUMNS.length] },
      },
    };
  },
  prepare(prompt, params) {
    if (prompt.objects.length < 2) return null;
    const problem = relationProblem(prompt.relation, params);
    if (problem) throw new UnguidablePromptError(problem);
    const spans = objectTokenSpans(prompt.tokenizer, prompt.encoding, prompt.objects.slice(0, 2), params.object_tokens, params.token_alignment);
    return { weights: tokenWeights(spans, prompt.tokens), relation: prompt.relation, lossWeight: promptLossWeight(params) };
  },
  prepareFromMaps(prompt, params) {
    if (prompt.objects.length !== 2)
      throw new UnguidablePromptError(`InfSplign reads two objects, subject then reference; the maps file has ${prompt.objects.length}`);
    const problem = relationProblem(prompt.relation, params);
    if (problem) throw new UnguidablePromptError(problem);
    return {
      weights: tokenWeights(
        prompt.objects.map((o) => o.tokens),
        prompt.tokens,
      ),
      relation: prompt.relation,
      lossWeight: promptLossWeight(params),
    };
  },
  feeds(rows, params, { tokens }) {
    const batch = rows.length;
    const weights = new Float32Array(batch * 2 * tokens);
    const relation = new Float32Array(batch * RELATIONS.length);
    const promptWeight = new Float32Array(batch);
    rows.forEach((row, b) => {
      // Unguided rows still get valid maps (token 1 for both objects) so the loss stays finite.
      weights.set(row?.weights ?? tokenWeights([[1], [1]], tokens), b * 2 * tokens);
      relation.set(relationOneHot(row ? row.relation : null), b * RELATIONS.length);
      promptWeight[b] = row ? row.lossWeight : 0;
    });
    return {
      token_weights: { data: weights, dims: [batch, 2, tokens] },
      relation: { data: relation, dims: [batch, RELATIONS.length] },
      prompt_weight: { data: promptWeight, dims: [batch] },
      ...Object.fromEntries(LOSS_VALUES.map((name) => [name, { data: Float32Array.of(params[name]), dims: [] }])),
    };
  },
  read(outputs, rows, mapNames) {
    const losses = outputs.loss_per_prompt!;
    const centroids = outputs.centroids!;
    return rows.map((row, b) =>
      row
        ? {
            loss: losses[b]! * row.lossWeight,
            centroids: [
              [centroids[b * 4]!, centroids[b * 4 + 1]!],
              [centroids[b * 4 + 2]!, centroids[b * 4 + 3]!],
            ],
            report: { layers: readLayerTable(outputs.layers!, mapNames, b) },
          }
        : null,
    );
  },
  guides: (params, stepIndex) => stepIndex >= params.guide_steps[0] && stepIndex < params.guide_steps[1],
  weight: (params) => params.guidance_weight,
};

export const infsplign: MethodDefinition<MethodParams, LossStructure, InfsplignRow> = {
  name: 'infsplign',
  description: "InfSplign: inference-time spatial alignment by a loss on the U-Net's cross-attention maps (docs/method.md).",
  // The bundled model's arena (its default weight is 30: models/bundled/infsplign.json), halved and doubled.
  arena: { strength: 'guidance_weight', grid: [15, 30, 60] },
  params: {
    schema: partialMethodParamsObject,
    partial: partialMethodParamsSchema as unknown as z.ZodType<Record<string, unknown>>,
    defaults: (family) => defaultParams(family),
    resolve: (defaults, overrides, source, family) => resolveParams(defaults as PartialMethodParams, overrides, source, family),
    canonical: canonicalInfsplignParams,
    canonicalSchema: methodParamsSchema,
  },
  guidance,
};
