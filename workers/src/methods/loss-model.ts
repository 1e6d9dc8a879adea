/**
 * A method's loss as a model of its own, on the attention maps of a maps file (maps-file.ts): the
 * `guidance loss` command, and the conformance tests against the official losses. The maps enter as
 * the U-Net's attention would hand them over for one image, [heads, H * W, T] per layer, and go
 * through the same aggregation and loss subgraph as in the guided U-Net. A method that reads layers
 * by pattern reads every layer of the file (the file is the selection); one that reads a resolution
 * reads the file's layers of that resolution.
 */
import * as ort from 'onnxruntime-node';
import { Graph } from '../onnx/graph.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { buildModel, DEFAULT_OPSET } from '../onnx/model-builder.ts';
import { serializeModel } from '../onnx/model-io.ts';
import { DataType, create, NodeProtoSchema, valueInfo, type ModelProto } from '../onnx/proto.ts';
import { inferTypes } from '../onnx/type-inference.ts';
import { aggregateMaps, selectMapLayers } from './attention-maps.ts';
import { guidanceOf } from './guided-unet.ts';
import { layerProbabilities, type MapsFile, type MapsLayout } from './maps-file.ts';
import type { AnyMethod, EvaluationStep, ImageEvaluation, MapSelection, MapsPrompt } from './method.ts';

/** The file's layers a selection reads, with their positions in the file. */
function readLayers(layout: MapsLayout, selection: MapSelection) {
  const layers = layout.layers.map((l, k) => ({ ...l, block: l.name, index: k }));
  return 'layers' in selection ? layers : selectMapLayers(layers, selection, (l) => l);
}

/** The names of the loss model's outputs: `loss` and the method's output keys. */
export interface LossModel {
  model: ModelProto;
  /** inputs `probs_K` for the file's layers K that are read */
  layerInputs: Array<{ name: string; layer: number }>;
  /** the aggregated maps the loss received (AttentionMap names) */
  maps: string[];
  outputs: string[];
}

/**
 * The loss model for maps of this layout: inputs `probs_K` [heads, H * W, T] per layer read, the
 * method's inputs under their own keys; outputs `loss` and the method's outputs under their keys.
 */
export function buildMethodLossModel(method: AnyMethod, params: unknown, layout: MapsLayout): LossModel {
  const guidance = guidanceOf(method);
  const selection = guidance.maps(params as never);
  const structure = guidance.structure(params as never);
  const tokens = layout.layers[0]!.tokens;
  const layers = readLayers(layout, selection);
  const inputDims = guidance.inputs(structure, { tokens });
  const layerInputs = layers.map((l) => ({ name: `probs_${l.index}`, layer: l.index }));
  const model = buildModel({
    opset: DEFAULT_OPSET,
    inputs: [
      ...layers.map((l, k) => ({ name: layerInputs[k]!.name, type: DataType.FLOAT, dims: [l.heads?.length ?? 1, l.height * l.width, tokens] })),
      ...Object.entries(inputDims).map(([name, dims]) => ({ name, type: DataType.FLOAT, dims: dims.map((d) => (d === 'batch' ? 1 : d)) })),
    ],
    outputs: [],
    nodes: [],
  });
  const graph = Graph.of(model);
  const b = new GraphBuilder(graph, inferTypes(graph), DEFAULT_OPSET);
  const attention = layers.map((l, k) => ({ name: l.name, probs: layerInputs[k]!.name, height: l.height, width: l.width }));
  const maps = aggregateMaps(b, attention, selection, b.ints([1]));
  const out = guidance.buildLoss(b, maps, Object.fromEntries(Object.keys(inputDims).map((k) => [k, k])), structure, 'maps-file');
  const named: Array<[string, string]> = [[out.loss, 'loss'], ...Object.entries(out.outputs).map(([key, o]): [string, string] => [o.value, key])];
  for (const [value, name] of named) {
    b.nodes.push(create(NodeProtoSchema, { opType: 'Identity', name: `/report/${name}`, input: [value], output: [name] }));
    graph.proto.output.push(valueInfo(name, DataType.FLOAT));
  }
  graph.proto.node.push(...b.nodes);
  return { model, layerInputs, maps: maps.map((m) => m.name), outputs: named.map(([, name]) => name) };
}

/** The loss model's inputs for a maps file's prompt (`row`, the method's prepareFromMaps) and parameters. */
export function methodLossFeeds(
  method: AnyMethod,
  lossModel: LossModel,
  maps: MapsFile,
  row: unknown,
  params: unknown,
  step: EvaluationStep,
): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const { name, layer } of lossModel.layerInputs) {
    const { data, dims } = layerProbabilities(maps.layers[layer]!);
    feeds[name] = new ort.Tensor('float32', data, dims);
  }
  const values = guidanceOf(method).feeds([row], params as never, { tokens: maps.layers[0]!.tokens }, step);
  for (const [key, v] of Object.entries(values)) feeds[key] = new ort.Tensor('float32', v.data, v.dims);
  return feeds;
}

/** The prompt a maps file describes (with the prompt's text, when given), for the method's prepareFromMaps. */
export function mapsPrompt(maps: MapsFile, relation: MapsPrompt['relation'], text?: string): MapsPrompt {
  return { objects: maps.objects, eot: maps.eot, tokens: maps.layers[0]!.tokens, relation, ...(text === undefined ? {} : { text }) };
}

/** The method's loss and report on the maps (UnguidablePromptError: what the file or relation lacks). */
export async function evaluateMethodLoss(
  method: AnyMethod,
  maps: MapsFile,
  relation: MapsPrompt['relation'],
  params: unknown,
  step: EvaluationStep,
  text?: string,
): Promise<ImageEvaluation> {
  const guidance = guidanceOf(method);
  const row = guidance.prepareFromMaps(mapsPrompt(maps, relation, text), params as never);
  const lossModel = buildMethodLossModel(method, params, maps);
  const session = await ort.InferenceSession.create(serializeModel(lossModel.model), { logSeverityLevel: 3 });
  try {
    const result = await session.run(methodLossFeeds(method, lossModel, maps, row, params, step));
    const outputs = Object.fromEntries(lossModel.outputs.filter((n) => n !== 'loss').map((n) => [n, result[n]!.data as Float32Array]));
    return guidance.read(outputs, [row], lossModel.maps)[0]!;
  } finally {
    await session.release();
  }
}
