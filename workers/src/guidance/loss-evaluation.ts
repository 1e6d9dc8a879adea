/**
 * Evaluates the loss graph on given attention maps (the `guidance loss` command): the same ONNX
 * subgraph the guided U-Net uses, fed with head-averaged maps taken as they enter docs/method.md §2.3.
 */
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { GradBuilder } from '../onnx/autodiff/builder.ts';
import { Graph } from '../onnx/graph.ts';
import { buildModel, DEFAULT_OPSET } from '../onnx/model-builder.ts';
import { serializeModel } from '../onnx/model-io.ts';
import { DataType, create, NodeProtoSchema, valueInfo, type ModelProto } from '../onnx/proto.ts';
import { inferTypes } from '../onnx/type-inference.ts';
import type { Relation } from '../prompts/types.ts';
import type { MethodParams } from '../contracts/method-params.ts';
import { buildLossGraph, layerTable, LOSS_VALUES, promptLossWeight, readLayerTable, type LayerReport, type LossParams, type LossStructure, type LossValueName } from './loss-graph.ts';
import { relationOneHot, RELATIONS } from './relations.ts';
import { tokenWeights } from './token-spans.ts';

export const mapsFileSchema = z
  .object({
    objects: z.array(z.object({ name: z.string(), tokens: z.array(z.number().int().min(0)).min(1) })).length(2),
    layers: z
      .array(
        z
          .object({ name: z.string().min(1), height: z.number().int().min(1), width: z.number().int().min(1), tokens: z.number().int().min(1), probs: z.array(z.number()) })
          .refine((l) => l.probs.length === l.height * l.width * l.tokens, { message: 'probs must hold height * width * tokens values' }),
      )
      .min(1),
  })
  .superRefine((maps, ctx) => {
    const tokens = maps.layers[0]!.tokens;
    maps.layers.forEach((l, k) => {
      if (l.tokens !== tokens) ctx.addIssue({ code: 'custom', path: ['layers', k, 'tokens'], message: `every layer must have ${tokens} tokens` });
    });
    maps.objects.forEach((o, k) => {
      if (o.tokens.some((t) => t >= tokens)) ctx.addIssue({ code: 'custom', path: ['objects', k, 'tokens'], message: `token positions must be below ${tokens}` });
    });
  });
export type MapsFile = z.output<typeof mapsFileSchema>;

export interface LossReport {
  /** what is differentiated: the mean of the layers' totals, times 5 with no_wt off */
  loss: number;
  layers: LayerReport[];
}

/** The loss values as the graph's scalar inputs, named by `inputName`. */
export function lossValueFeeds(params: LossParams, inputName: (name: LossValueName) => string): Record<string, ort.Tensor> {
  return Object.fromEntries(LOSS_VALUES.map((name) => [inputName(name), new ort.Tensor('float32', Float32Array.of(params[name]), [])]));
}

/** Refuses options that the reference cannot run on a prompt with this relation (docs/method.md §4.2). */
export function relationProblem(relation: Relation | null, params: Pick<MethodParams, 'object_presence'>): string | null {
  if (relation === null && params.object_presence) {
    return 'object_presence needs a relation the reference lists: on a prompt without one the reference raises (object_presence_loss is never assigned, self_guide_batch.py:709-710)';
  }
  return null;
}

export class LossInputError extends Error {}

/** The shape of a maps file the loss model is built for. */
export type MapsLayout = { layers: Array<Pick<MapsFile['layers'][number], 'name' | 'height' | 'width' | 'tokens'>> };

/**
 * The loss of docs/method.md §2 as a model of its own, on head-averaged maps as they enter §2.3 (no
 * resize): inputs `probs_K` [1, height * width, tokens] per layer, `token_weights`, `relation`,
 * `prompt_weight` and one scalar per LOSS_VALUES name; outputs `loss` and `layers` (layerTable).
 */
export function buildLossModel(maps: MapsLayout, params: LossStructure): ModelProto {
  const tokens = maps.layers[0]!.tokens;
  const model = buildModel({
    opset: DEFAULT_OPSET,
    inputs: [
      ...maps.layers.map((l, k) => ({ name: `probs_${k}`, type: DataType.FLOAT, dims: [1, l.height * l.width, tokens] })),
      { name: 'token_weights', type: DataType.FLOAT, dims: [1, 2, tokens] },
      { name: 'relation', type: DataType.FLOAT, dims: [1, RELATIONS.length] },
      { name: 'prompt_weight', type: DataType.FLOAT, dims: [1] },
      ...LOSS_VALUES.map((name) => ({ name, type: DataType.FLOAT, dims: [] })),
    ],
    outputs: [],
    nodes: [],
  });
  const graph = Graph.of(model);
  const b = new GradBuilder(graph, inferTypes(graph), DEFAULT_OPSET);
  const layers = maps.layers.map((l, k) => ({ name: l.name, probs: `probs_${k}`, height: l.height, width: l.width }));
  const values = Object.fromEntries(LOSS_VALUES.map((name) => [name, name])) as Record<LossValueName, string>;
  const out = buildLossGraph(b, layers, { tokenWeights: 'token_weights', relation: 'relation', promptWeight: 'prompt_weight', values }, params, false);
  const named: Array<[string, string]> = [[out.loss, 'loss'], [layerTable(b, out.layers), 'layers']];
  for (const [value, name] of named) {
    b.nodes.push(create(NodeProtoSchema, { opType: 'Identity', name: `/report/${name}`, input: [value], output: [name] }));
    graph.proto.output.push(valueInfo(name, DataType.FLOAT));
  }
  graph.proto.node.push(...b.nodes);
  return model;
}

/** The loss model's inputs for the maps, relation and parameters. */
export function lossModelFeeds(maps: MapsFile, relation: Relation | null, params: LossParams & Pick<MethodParams, 'no_wt'>): Record<string, ort.Tensor> {
  const tokens = maps.layers[0]!.tokens;
  const feeds: Record<string, ort.Tensor> = {
    token_weights: new ort.Tensor('float32', tokenWeights(maps.objects.map((o) => o.tokens), tokens), [1, 2, tokens]),
    relation: new ort.Tensor('float32', Float32Array.from(relationOneHot(relation)), [1, RELATIONS.length]),
    prompt_weight: new ort.Tensor('float32', Float32Array.of(promptLossWeight(params)), [1]),
    ...lossValueFeeds(params, (name) => name),
  };
  maps.layers.forEach((l, k) => (feeds[`probs_${k}`] = new ort.Tensor('float32', Float32Array.from(l.probs), [1, l.height * l.width, tokens])));
  return feeds;
}

export async function evaluateLoss(maps: MapsFile, relation: Relation | null, params: LossParams & Pick<MethodParams, 'no_wt' | 'object_presence'>): Promise<LossReport> {
  const problem = relationProblem(relation, params);
  if (problem) throw new LossInputError(problem);
  const session = await ort.InferenceSession.create(serializeModel(buildLossModel(maps, params)), { logSeverityLevel: 3 });
  try {
    const result = await session.run(lossModelFeeds(maps, relation, params));
    return { loss: result.loss!.data[0] as number, layers: readLayerTable(result.layers!.data as Float32Array, maps.layers.map((l) => l.name), 0) };
  } finally {
    await session.release();
  }
}
