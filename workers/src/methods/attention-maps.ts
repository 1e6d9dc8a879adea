/**
 * The attention maps a method reads (method.ts MapSelection): which cross-attention layers, and their
 * aggregation over heads and layers, emitted into the graph in front of the method's loss. The
 * guided U-Net and the loss model of a maps file (`guidance loss`) present the layers alike, as the
 * U-Net's probabilities [B * heads, H * W, T], so one aggregation serves both.
 */
import { selectLayers } from '../guidance/layers.ts';
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import { DataType } from '../onnx/proto.ts';
import type { AttentionMap, MapSelection } from './method.ts';

/** A cross-attention layer as the aggregation receives it. */
export interface AttentionLayer {
  /** module path (dotted or as the graph names it) */
  name: string;
  /** [B * heads, height * width, T] */
  probs: string;
  height: number;
  width: number;
}

/** A layer that may be selected: the module path the selection's patterns are matched against. */
export interface CandidateLayer {
  block: string;
}

export type MapSize = { height: number; width: number };

/**
 * The layers a selection reads, in the model's order, each with its map size (`sizeOf`, asked only
 * of the layers that need it); an error naming what the model has when none is selected.
 */
export function selectMapLayers<T extends CandidateLayer>(layers: readonly T[], selection: MapSelection, sizeOf: (layer: T) => MapSize): Array<T & MapSize> {
  if ('layers' in selection) {
    const selected = selectLayers(layers, selection.layers);
    if (selected.length === 0)
      throw new Error(`no cross-attention layer matches ${selection.layers.join(', ')} (the model has: ${layers.map((l) => l.block).join(', ') || 'none'})`);
    return selected.map((l) => ({ ...l, ...sizeOf(l) }));
  }
  const r = selection.resolution;
  const sized = layers.map((l) => ({ ...l, ...sizeOf(l) }));
  const selected = sized.filter((l) => l.height * l.width === r * r);
  if (selected.length === 0) {
    const sizes = [...new Set(sized.map((l) => `${l.height}x${l.width}`))];
    throw new Error(`no cross-attention layer has ${r}x${r} maps (attention_res ${r}); the model's maps are ${sizes.join(', ') || 'none'}`);
  }
  return selected;
}

/** A layer's probabilities with the heads apart: [B, heads, N, T]; `batch` is the batch size as a 1-element int64 tensor. */
function headsApart(b: GraphBuilder, layer: AttentionLayer, batch: string): string {
  const probs = b.dtype(layer.probs) === DataType.FLOAT ? layer.probs : b.op('Cast', [layer.probs], { to: DataType.FLOAT }, DataType.FLOAT);
  const tokens = b.op('Slice', [b.shape(probs), b.ints([2]), b.ints([3])]);
  return b.reshape(probs, b.op('Concat', [batch, b.ints([-1, layer.height * layer.width]), tokens], { axis: 0 }));
}

/**
 * The selection's aggregation: per layer, the mean over its heads; pooled, the mean over every head of
 * every layer (layers weigh by their heads, as the references' aggregate_attention concatenates them).
 */
export function aggregateMaps(b: GraphBuilder, layers: readonly AttentionLayer[], selection: MapSelection, batch: string): AttentionMap[] {
  if (selection.aggregate === 'per-layer') {
    return layers.map((layer) => ({
      name: layer.name,
      probs: b.reduceMean(headsApart(b, layer, batch), [1], false),
      height: layer.height,
      width: layer.width,
    }));
  }
  const { height, width } = layers[0]!;
  const odd = layers.find((l) => l.height !== height || l.width !== width);
  if (odd) throw new Error(`pooled maps need one size: ${layers[0]!.name} is ${height}x${width}, ${odd.name} ${odd.height}x${odd.width}`);
  const all = layers.map((layer) => headsApart(b, layer, batch));
  const stacked = all.length === 1 ? all[0]! : b.op('Concat', all, { axis: 1 });
  return [{ name: `${height}x${width}`, probs: b.reduceMean(stacked, [1], false), height, width }];
}
