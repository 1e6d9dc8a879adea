/**
 * Builds the guided U-Net: the U-Net with its selected cross-attention probabilities feeding the
 * InfSplign loss subgraph, differentiated with respect to the latent. One prepared model serves
 * every prompt and every value of the loss's numbers (token weights, relation, prompt weights,
 * alpha, margin, slope and lambdas are inputs), and it is cached on disk (guided-cache.ts), keyed
 * by its structure only: the U-Net's content, the latent size, the layers selected and the loss's
 * structure (map size, activation, energies, strategies and the loss's switches).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { grad } from '../onnx/autodiff/grad.ts';
import { GradBuilder } from '../onnx/autodiff/builder.ts';
import { Graph, opsetVersion } from '../onnx/graph.ts';
import { summarizeModel, type ModelSummary } from '../onnx/inspect.ts';
import { loadModel, saveModelReferencing, weightsLayout, writeWeightsFile } from '../onnx/model-io.ts';
import { DataType, type Dim, type ModelProto, create, NodeProtoSchema, valueInfo, describeValueInfo } from '../onnx/proto.ts';
import { inferTypes } from '../onnx/type-inference.ts';
import { createEntry, entryName, useEntry, WEIGHTS_FILE, type CacheEntry, type GuidedCache } from './guided-cache.ts';
import { selectLayers } from './layers.ts';
import { buildLossGraph, LAYER_TABLE_COLUMNS, layerTable, LOSS_VALUES, lossStructure, type LossLayer, type LossStructure, type LossValueName } from './loss-graph.ts';
import { RELATIONS } from './relations.ts';

/** Names of the guided model's extra inputs and outputs. */
export const GUIDED_IO = {
  tokenWeights: 'infsplign_token_weights',
  relation: 'infsplign_relation',
  promptWeight: 'infsplign_prompt_weight',
  /** one float scalar input per loss value: `infsplign_alpha`, ... */
  values: Object.fromEntries(LOSS_VALUES.map((name) => [name, `infsplign_${name}`])) as Record<LossValueName, string>,
  loss: 'infsplign_loss',
  perPrompt: 'infsplign_loss_per_prompt',
  centroids: 'infsplign_centroids',
  /** every layer's terms and centroids [B, layers, LAYER_TABLE_COLUMNS] (loss-graph.ts layerTable) */
  layers: 'infsplign_layers',
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

/** The cross-attention layers the patterns select; an error when the model cannot be guided or none matches. */
function selectedLayers(summary: ModelSummary, patterns: readonly string[]): ModelSummary['crossAttention'] {
  if (summary.fusedAttention.length > 0) throw new Error(summary.guidanceProblem!);
  const selected = selectLayers(summary.crossAttention, patterns);
  if (selected.length === 0) {
    throw new Error(`no cross-attention layer matches ${patterns.join(', ')} (the model has: ${summary.crossAttention.map((a) => a.block).join(', ') || 'none'})`);
  }
  return selected;
}

/** Builds the guided model; `model` is extended in place (its tensors are the guided model's too). */
export function buildGuidedUnet(model: ModelProto, spec: GuidanceSpec, summary = summarizeModel(model)): GuidedUnet {
  const latent = spec.latentInput ?? 'sample';
  const selected = selectedLayers(summary, spec.layers);
  const graph = Graph.of(model);
  const latentInfo = graph.proto.input.find((i) => i.name === latent);
  if (!latentInfo) throw new Error(`the U-Net has no input '${latent}' (inputs: ${graph.inputNames().join(', ')})`);
  // A fixed latent size makes every attention map's size static, which the loss needs.
  const declared = describeValueInfo(latentInfo);
  const dims = declared.dims ?? [];
  graph.proto.input[graph.proto.input.indexOf(latentInfo)] = valueInfo(latent, declared.elemType ?? DataType.FLOAT, [dims[0] ?? 'batch', dims[1] ?? null, spec.latentHeight, spec.latentWidth]);
  const types = inferTypes(graph);

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
  for (const name of Object.values(GUIDED_IO.values)) graph.addInput(name, DataType.FLOAT, []);
  for (const name of [GUIDED_IO.tokenWeights, GUIDED_IO.relation, GUIDED_IO.promptWeight, ...Object.values(GUIDED_IO.values)]) types.types.set(name, graph.declaredType(name));

  const b = new GradBuilder(graph, types, opsetVersion(model));
  const inputs = { tokenWeights: GUIDED_IO.tokenWeights, relation: GUIDED_IO.relation, promptWeight: GUIDED_IO.promptWeight, values: GUIDED_IO.values };
  const out = buildLossGraph(b, layers, inputs, spec.params, true);
  const named: Array<[string, string, Dim[]]> = [
    [out.loss, GUIDED_IO.loss, []],
    [out.perPrompt, GUIDED_IO.perPrompt, [batch]],
    [out.centroids, GUIDED_IO.centroids, [batch, 2, 2]],
    [layerTable(b, out.layers), GUIDED_IO.layers, [batch, layers.length, LAYER_TABLE_COLUMNS.length]],
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
const PREPARATION_VERSION = 4;

export interface PreparedGuidance {
  path: string;
  /** the cache entry's folder name */
  cacheKey: string;
  layers: GuidedUnet['layers'];
  tokens: number;
  gradient: string;
  /** the entry is kept in the cache until this is called, once the model is opened (guided-cache.ts) */
  unpin(): void;
}

type EntryMeta = Omit<PreparedGuidance, 'path' | 'cacheKey' | 'unpin'>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The guided U-Net for `unetPath`, from the cache or built and cached now; unpin it once opened. */
export function prepareGuidedUnet(unetPath: string, spec: GuidanceSpec, cache: GuidedCache): PreparedGuidance {
  const source = loadModel(unetPath);
  const summary = summarizeModel(source);
  const unetKey = modelContentHash(unetPath, source).slice(0, 16);
  const structure = {
    version: PREPARATION_VERSION,
    latent: [spec.latentHeight, spec.latentWidth],
    input: spec.latentInput ?? 'sample',
    layers: selectedLayers(summary, spec.layers).map((a) => a.block),
    loss: lossStructure(spec.params),
  };
  const name = entryName(unetKey, sha256(JSON.stringify(structure)).slice(0, 16));
  const prepared = (entry: CacheEntry<EntryMeta>): PreparedGuidance => ({ path: join(entry.dir, 'model.onnx'), cacheKey: name, ...entry.meta, unpin: entry.unpin });
  const found = useEntry<EntryMeta>(cache, name);
  if (found) return prepared(found);

  // The U-Net's own initializers go to the shared weights file; what the guidance adds stays in the graph.
  const layout = weightsLayout([...source.graph!.initializer]);
  const guided = buildGuidedUnet(source, spec, summary);
  const meta: EntryMeta = { layers: guided.layers, tokens: guided.tokens, gradient: guided.gradient };
  return prepared(
    createEntry(cache, unetKey, name, {
      weights: (path) => writeWeightsFile(path, layout),
      files: (folder) => saveModelReferencing(guided.model, join(folder, 'model.onnx'), WEIGHTS_FILE, layout),
      meta,
    }),
  );
}
