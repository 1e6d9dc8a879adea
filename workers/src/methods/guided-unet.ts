/**
 * The guided U-Net of a method: the U-Net with the attention maps the method reads aggregated as it
 * declares (attention-maps.ts) and feeding its loss subgraph, differentiated with respect to the
 * latent. One prepared model serves every prompt and every value the method takes as an input; it is
 * cached on disk (guidance/guided-cache.ts), keyed by the U-Net's content, the latent size, the
 * method, the layers it reads and its structural parameters only.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createEntry, entryName, useEntry, WEIGHTS_FILE, type CacheEntry, type GuidedCache } from '../guidance/guided-cache.ts';
import { grad } from '../onnx/autodiff/grad.ts';
import { Graph, opsetVersion } from '../onnx/graph.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { summarizeModel, type ModelSummary } from '../onnx/inspect.ts';
import { loadModel, saveModelReferencing, weightsLayout, writeWeightsFile } from '../onnx/model-io.ts';
import { DataType, type Dim, type ModelProto, create, NodeProtoSchema, valueInfo, describeValueInfo } from '../onnx/proto.ts';
import { inferTypes, type GraphTypes } from '../onnx/type-inference.ts';
import { selectLayers } from '../guidance/layers.ts';
import { aggregateMaps, selectMapLayers, type AttentionLayer } from './attention-maps.ts';
import type { AnyMethod, MapSelection, MethodGuidance } from './method.ts';

export interface MethodUnetSpec {
  /** a method with a loss */
  method: AnyMethod;
  /** the method's parameters (only its maps and structure are read) */
  params: unknown;
  latentHeight: number;
  latentWidth: number;
  /** The U-Net's latent input (diffusers: `sample`). */
  latentInput?: string;
}

/** The names of a guided U-Net's extra inputs and outputs, by the method's keys. */
export interface GuidedIo {
  inputs: Record<string, string>;
  /** the differentiated scalar (the sum of the images' losses) */
  loss: string;
  outputs: Record<string, string>;
}

/** What the sampler needs to know about a prepared guided U-Net. */
export interface GuidedUnetMeta {
  /** the attention layers read, with their map sizes */
  layers: Array<{ name: string; height: number; width: number }>;
  /** the aggregated maps the loss received (per layer: the layers' names; pooled: one) */
  maps: string[];
  tokens: number;
  /** Output name of d loss / d latent. */
  gradient: string;
  io: GuidedIo;
}

export interface GuidedUnet extends GuidedUnetMeta {
  model: ModelProto;
}

export function guidanceOf(method: AnyMethod): MethodGuidance<never, unknown, unknown> {
  if (!method.guidance) throw new Error(`method ${method.name} has no loss to guide with`);
  return method.guidance as MethodGuidance<never, unknown, unknown>;
}

/** The names the method's inputs and outputs get in a graph (`prefix + key`). */
export function guidedIo(method: AnyMethod, inputKeys: readonly string[], outputKeys: readonly string[]): GuidedIo {
  const { ioPrefix } = guidanceOf(method);
  const named = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, `${ioPrefix}${k}`]));
  return { inputs: named(inputKeys), loss: `${ioPrefix}loss`, outputs: named(outputKeys) };
}

/** Each layer's map size, derived from the latent size and its number of query positions. */
function mapSize(queries: Dim | undefined, latentHeight: number, latentWidth: number, layer: string): { height: number; width: number } {
  if (typeof queries !== 'number') throw new Error(`cannot tell the spatial size of ${layer}'s attention map from the graph`);
  const factor = Math.sqrt((latentHeight * latentWidth) / queries);
  const height = latentHeight / factor;
  const width = latentWidth / factor;
  if (!Number.isInteger(height) || !Number.isInteger(width))
    throw new Error(`${layer}: ${queries} query positions do not tile a ${latentHeight}x${latentWidth} latent`);
  return { height, width };
}

/** The U-Net's cross-attention layers the selection reads, their map sizes from the graph's types. */
function selectedLayers(summary: ModelSummary, selection: MapSelection, types: GraphTypes, latentHeight: number, latentWidth: number): AttentionLayer[] {
  if (summary.fusedAttention.length > 0) throw new Error(summary.guidanceProblem!);
  const selected = selectMapLayers(summary.crossAttention, selection, (a) => mapSize(types.types.get(a.value)?.dims?.[1], latentHeight, latentWidth, a.block));
  return selected.map((a) => ({ name: a.block, probs: a.value, height: a.height, width: a.width }));
}

/** Declares a graph's extra inputs for the method's keys ('batch' in dims becomes the latent's batch axis). */
function declareInputs(graph: Graph, types: GraphTypes, io: GuidedIo, dims: Record<string, Dim[]>, batch: Dim): void {
  for (const [key, d] of Object.entries(dims)) {
    const name = io.inputs[key]!;
    graph.addInput(
      name,
      DataType.FLOAT,
      d.map((x) => (x === 'batch' ? batch : x)),
    );
    types.types.set(name, graph.declaredType(name));
  }
}

/** Builds the guided model; `model` is extended in place (its tensors are the guided model's too). */
export function buildGuidedUnet(model: ModelProto, spec: MethodUnetSpec, summary = summarizeModel(model)): GuidedUnet {
  const guidance = guidanceOf(spec.method);
  const selection = guidance.maps(spec.params as never);
  const structure = guidance.structure(spec.params as never);
  const latent = spec.latentInput ?? 'sample';
  const graph = Graph.of(model);
  const latentInfo = graph.proto.input.find((i) => i.name === latent);
  if (!latentInfo) throw new Error(`the U-Net has no input '${latent}' (inputs: ${graph.inputNames().join(', ')})`);
  // A fixed latent size makes every attention map's size static, which the losses need.
  const declared = describeValueInfo(latentInfo);
  const dims = declared.dims ?? [];
  graph.proto.input[graph.proto.input.indexOf(latentInfo)] = valueInfo(latent, declared.elemType ?? DataType.FLOAT, [
    dims[0] ?? 'batch',
    dims[1] ?? null,
    spec.latentHeight,
    spec.latentWidth,
  ]);
  const types = inferTypes(graph);

  const layers = selectedLayers(summary, selection, types, spec.latentHeight, spec.latentWidth);
  const tokens = types.types.get(layers[0]!.probs)?.dims?.[2];
  if (typeof tokens !== 'number') throw new Error('cannot tell the number of text tokens from the attention maps');

  const inputDims = guidance.inputs(structure, { tokens });
  const b = new GraphBuilder(graph, types, opsetVersion(model));
  const batch = b.op('Slice', [b.shape(latent), b.ints([0]), b.ints([1])]);
  const maps = aggregateMaps(b, layers, selection, batch);
  const ioIn = guidedIo(spec.method, Object.keys(inputDims), []);
  declareInputs(graph, types, ioIn, inputDims, dims[0] ?? 'batch');
  const out = guidance.buildLoss(b, maps, ioIn.inputs, structure, 'unet');
  const io = guidedIo(spec.method, Object.keys(inputDims), Object.keys(out.outputs));

  const named: Array<[string, string, Dim[]]> = [
    [out.loss, io.loss, []],
    ...Object.entries(out.outputs).map(([key, o]): [string, string, Dim[]] => [
      o.value,
      io.outputs[key]!,
      o.dims.map((d) => (d === 'batch' ? (dims[0] ?? 'batch') : d)),
    ]),
  ];
  for (const [value, name] of named)
    b.nodes.push(create(NodeProtoSchema, { opType: 'Identity', name: `/${guidance.ioPrefix}outputs/${name}`, input: [value], output: [name] }));
  graph.proto.node.push(...b.nodes);
  graph.invalidate();
  for (const [, name, d] of named) graph.proto.output.push(valueInfo(name, DataType.FLOAT, d));

  const result = grad(model, io.loss, [latent]);
  return {
    model: result.model,
    layers: layers.map(({ name, height, width }) => ({ name, height, width })),
    maps: maps.map((m) => m.name),
    tokens,
    gradient: result.gradients[0]!,
    io,
  };
}

const hashes = new Map<string, string>();

/** SHA-256 of a model file and the external data files beside it (memoised per size and mtime). */
export function modelContentHash(path: string, model: ModelProto): string {
  const files = [
    path,
    ...new Set(model.graph!.initializer.flatMap((t) => t.externalData.filter((e) => e.key === 'location').map((e) => join(dirname(path), e.value)))),
  ];
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
const PREPARATION_VERSION = 5;

export interface PreparedGuidance extends GuidedUnetMeta {
  path: string;
  /** the cache entry's folder name */
  cacheKey: string;
  /** the entry is kept in the cache until this is called, once the model is opened (guided-cache.ts) */
  unpin(): void;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The guided U-Net for `unetPath`, from the cache or built and cached now; unpin it once opened. */
export function prepareGuidedUnet(unetPath: string, spec: MethodUnetSpec, cache: GuidedCache): PreparedGuidance {
  const guidance = guidanceOf(spec.method);
  const source = loadModel(unetPath);
  const summary = summarizeModel(source);
  const unetKey = modelContentHash(unetPath, source).slice(0, 16);
  const selection = guidance.maps(spec.params as never);
  if (summary.fusedAttention.length > 0) throw new Error(summary.guidanceProblem!);
  const structure = {
    version: PREPARATION_VERSION,
    method: spec.method.name,
    latent: [spec.latentHeight, spec.latentWidth],
    input: spec.latentInput ?? 'sample',
    // layers named by patterns are keyed by what they select (equivalent patterns share an entry)
    maps: 'layers' in selection ? { ...selection, layers: selectLayers(summary.crossAttention, selection.layers).map((a) => a.block) } : selection,
    loss: guidance.structure(spec.params as never),
  };
  const name = entryName(unetKey, sha256(JSON.stringify(structure)).slice(0, 16));
  const prepared = (entry: CacheEntry<GuidedUnetMeta>): PreparedGuidance => ({
    path: join(entry.dir, 'model.onnx'),
    cacheKey: name,
    ...entry.meta,
    unpin: entry.unpin,
  });
  const found = useEntry<GuidedUnetMeta>(cache, name);
  if (found) return prepared(found);

  // The U-Net's own initializers go to the shared weights file; what the guidance adds stays in the graph.
  const layout = weightsLayout([...source.graph!.initializer]);
  const { model, ...meta } = buildGuidedUnet(source, spec, summary);
  return prepared(
    createEntry(cache, unetKey, name, {
      weights: (path) => writeWeightsFile(path, layout),
      files: (folder) => saveModelReferencing(model, join(folder, 'model.onnx'), WEIGHTS_FILE, layout),
      meta,
    }),
  );
}
