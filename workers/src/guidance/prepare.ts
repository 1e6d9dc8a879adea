/**
 * Builds the guided U-Net: the U-Net with its selected cross-attention probabilities feeding the
 * InfSplign loss subgraph, differentiated with respect to the latent. One prepared model serves
 * every prompt of a loss configuration (token weights, relation and prompt weights are inputs), and
 * it is cached on disk, keyed by the U-Net's content hash, the latent size and the loss structure.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { grad } from '../onnx/autodiff/grad.ts';
import { GradBuilder } from '../onnx/autodiff/builder.ts';
import { Graph, opsetVersion } from '../onnx/graph.ts';
import { summarizeModel } from '../onnx/inspect.ts';
import { loadModel, saveModel } from '../onnx/model-io.ts';
import { DataType, type Dim, type ModelProto, create, NodeProtoSchema, valueInfo, describeValueInfo } from '../onnx/proto.ts';
import { inferTypes } from '../onnx/type-inference.ts';
import { selectLayers } from './layers.ts';
import { buildLossGraph, type LossLayer, type LossParams } from './loss-graph.ts';
import { RELATIONS } from './relations.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

/** Names of the guided model's extra inputs and outputs. */
export const GUIDED_IO = {
  tokenWeights: 'infsplign_token_weights',
  relation: 'infsplign_relation',
  promptWeight: 'infsplign_prompt_weight',
  loss: 'infsplign_loss',
  perPrompt: 'infsplign_loss_per_prompt',
  centroids: 'infsplign_centroids',
} as const;

export interface GuidanceSpec {
  /** Attention-layer patterns (METHOD.md §4 `layers`). */
  layers: readonly string[];
  params: LossParams;
  latentHeight: number;
  latentWidth: number;
  /** The U-Net's latent input (diffusers: `sample`). */
  latentInput?: string;
}

export interface GuidedUnet {
  model: ModelProto;
  layers: Array<{ name: string; height: number; width: number }>;
  tokens: number;
  /** Output name of d loss / d latent. */
  gradient: string;
}

/** Each layer's map size, derived from the latent size and its number of query positions. */
function mapSize(queries: Dim | undefined, latentHeight: number, latentWidth: number, layer: string): { height: number; width: number } {
  if (typeof queries !== 'number') throw new Error(`cannot tell the spatial size of ${layer}'s attention map from the graph`);
  const factor = Math.sqrt((latentHeight * latentWidth) / queries);
  const height = latentHeight / factor;
  const width = latentWidth / factor;
  if (!Number.isInteger(height) || !Number.isInteger(width)) throw new Error(`${layer}: ${queries} query positions do not tile a ${latentHeight}x${latentWidth} latent`);
  return { height, width };
}

export function buildGuidedUnet(model: ModelProto, spec: GuidanceSpec): GuidedUnet {
  const latent = spec.latentInput ?? 'sample';
  const summary = summarizeModel(model);
  if (summary.fusedAttention.length > 0) throw new Error(summary.guidanceProblem!);
  const graph = Graph.of(model);
  const latentInfo = graph.proto.input.find((i) => i.name === latent);
  if (!latentInfo) throw new Error(`the U-Net has no input '${latent}' (inputs: ${graph.inputNames().join(', ')})`);
  // A fixed latent size makes every attention map's size static, which the loss needs.
  const declared = describeValueInfo(latentInfo);
  const dims = declared.dims ?? [];
  graph.proto.input[graph.proto.input.indexOf(latentInfo)] = valueInfo(latent, declared.elemType ?? DataType.FLOAT, [dims[0] ?? 'batch', dims[1] ?? null, spec.latentHeight, spec.latentWidth]);
  const types = inferTypes(graph);

  const selected = selectLayers(summary.crossAttention, spec.layers);
  if (selected.length === 0) {
    throw new Error(`no cross-attention layer matches ${spec.layers.join(', ')} (the model has: ${summary.crossAttention.map((a) => a.block).join(', ') || 'none'})`);
  }
  const layers: LossLayer[] = selected.map((a) => {
    const probsDims = types.types.get(a.value)?.dims;
    return { name: a.block, probs: a.value, ...mapSize(probsDims?.[1], spec.latentHeight, spec.latentWidth, a.block) };
  });
  const tokenDims = types.types.get(layers[0]!.probs)?.dims;
  const tokens = tokenDims?.[2];
  if (typeof tokens !== 'number') throw new Error('cannot tell the number of text tokens from the attention maps');

  const batch: Dim = dims[0] ?? 'batch';
  graph.addInput(GUIDED_IO.tokenWeights, DataType.FLOAT, [batch, 2, tokens]);
  graph.addInput(GUIDED_IO.relation, DataType.FLOAT, [batch, RELATIONS.length]);
  graph.addInput(GUIDED_IO.promptWeight, DataType.FLOAT, [batch]);
  for (const name of [GUIDED_IO.tokenWeights, GUIDED_IO.relation, GUIDED_IO.promptWeight]) types.types.set(name, graph.declaredType(name));

  const b = new GradBuilder(graph, types, opsetVersion(model));
  const out = buildLossGraph(b, layers, { tokenWeights: GUIDED_IO.tokenWeights, relation: GUIDED_IO.relation, promptWeight: GUIDED_IO.promptWeight }, spec.params, true);
  const named: Array<[string, string, Dim[]]> = [
    [out.loss, GUIDED_IO.loss, []],
    [out.perPrompt, GUIDED_IO.perPrompt, [batch]],
    [out.centroids, GUIDED_IO.centroids, [batch, 2, 2]],
  ];
  for (const [value, name] of named) b.nodes.push(create(NodeProtoSchema, { opType: 'Identity', name: `/infsplign_loss/${name}`, input: [value], output: [name] }));
  graph.proto.node.push(...b.nodes);
  graph.invalidate();
  for (const [, name, d] of named) graph.proto.output.push(valueInfo(name, DataType.FLOAT, d));

  const result = grad(model, GUIDED_IO.loss, [latent]);
  return { model: result.model, layers: layers.map(({ name, height, width }) => ({ name, height, width })), tokens, gradient: result.gradients[0]! };
}

const hashes = new Map<string, string>();

/** SHA-256 of a model file and the external data files beside it (memoised per size and mtime). */
export function modelContentHash(path: string, model: ModelProto): string {
  const files = [path, ...new Set(model.graph!.initializer.flatMap((t) => t.externalData.filter((e) => e.key === 'location').map((e) => join(dirname(path), e.value))))];
  const key = files.map((f) => `${f}:${statSync(f).size}:${statSync(f).mtimeMs}`).join('|');
  const known = hashes.get(key);
  if (known) return known;
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1 << 22);
  for (const f of files) {
    const fd = openSync(f, 'r');
    try {
      for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  const digest = hash.digest('hex');
  hashes.set(key, digest);
  return digest;
}

/** Bumped whenever the prepared graph's construction changes, so stale caches are not reused. */
const PREPARATION_VERSION = 2;

export interface PreparedGuidance {
  path: string;
  cacheKey: string;
  layers: GuidedUnet['layers'];
  tokens: number;
  gradient: string;
}

/** The guided U-Net for `unetPath`, from the cache or built and cached now. */
export function prepareGuidedUnet(unetPath: string, spec: GuidanceSpec, cacheDir: string): PreparedGuidance {
  const source = loadModel(unetPath);
  const structure = { version: PREPARATION_VERSION, layers: spec.layers, params: spec.params, latent: [spec.latentHeight, spec.latentWidth], input: spec.latentInput ?? 'sample' };
  const cacheKey = createHash('sha256').update(modelContentHash(unetPath, source)).update(JSON.stringify(structure)).digest('hex').slice(0, 32);
  const dir = join(cacheDir, `guided-${cacheKey}`);
  const path = join(dir, 'model.onnx');
  const metaPath = join(dir, 'guidance.json');
  if (existsSync(path) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Omit<PreparedGuidance, 'path' | 'cacheKey'>;
    return { path, cacheKey, ...meta };
  }
  const guided = buildGuidedUnet(source, spec);
  saveModel(guided.model, path);
  const meta = { layers: guided.layers, tokens: guided.tokens, gradient: guided.gradient };
  writeFileAtomic(metaPath, JSON.stringify(meta, null, 2));
  return { path, cacheKey, ...meta };
}
