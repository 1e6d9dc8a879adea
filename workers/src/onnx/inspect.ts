/**
 * What a model is made of, for people and for the guidance code: inputs, outputs, opsets, an op
 * histogram, and the cross-attention probability tensors (Softmax under an `/attn2/` scope) that
 * InfSplign reads, or the reason there are none.
 */
import { Graph } from './graph.ts';
import { dataTypeName, type Dim, type ModelProto } from './proto.ts';
import { inferTypes } from './type-inference.ts';

export interface ValueSummary {
  name: string;
  type: string;
  dims: Dim[] | null;
}

export interface CrossAttentionMap {
  /** The Softmax node. */
  node: string;
  /** Its output: the attention probabilities [batch*heads, queries, tokens]. */
  value: string;
  /** Module path of the attention layer, e.g. `up_blocks.1/attentions.0/transformer_blocks.0/attn2`. */
  block: string;
  /** Number of query positions (H*W of the feature map), when static. */
  queries: number | null;
  /** H x W when the map is square, e.g. "16x16". */
  spatial: string | null;
  tokens: number | null;
}

export interface ModelSummary {
  irVersion: number;
  producer: string;
  opsets: Array<{ domain: string; version: number }>;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  nodes: number;
  initializers: number;
  opHistogram: Record<string, number>;
  crossAttention: CrossAttentionMap[];
  fusedAttention: Array<{ node: string; op: string }>;
  /** Why guidance cannot read this model's attention, or null when it can. */
  guidanceProblem: string | null;
}

/** Fused attention kernels (ONNX Runtime contrib ops) in which the probabilities never exist as a tensor. */
const FUSED_ATTENTION_OPS = new Set([
  'Attention',
  'MultiHeadAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'GroupQueryAttention',
  'DecoderMaskedMultiHeadAttention',
]);

export const UNFUSED_EXPORT_ADVICE =
  "export an unfused model: in diffusers, set the U-Net's attention processors to AttnProcessor() (not the SDPA AttnProcessor2_0, which hides the Softmax), " +
  'export with torch.onnx.export(..., dynamo=False) at opset 14-17, and do not run an ONNX Runtime transformer optimizer (Olive / optimum "optimized") on it';

export function isCrossAttentionSoftmax(nodeName: string, opType: string): boolean {
  return opType === 'Softmax' && /(^|\/)attn2\//.test(nodeName);
}

export function attentionBlock(nodeName: string): string {
  return nodeName.replace(/^\//, '').replace(/\/Softmax[^/]*$/, '');
}

export function summarizeModel(model: ModelProto): ModelSummary {
  const graph = Graph.of(model);
  const { types } = inferTypes(graph);
  const describe = (name: string): ValueSummary => {
    const declared = graph.declaredType(name);
    const t = declared.dims ? declared : types.get(name);
    return { name, type: t?.elemType !== undefined ? dataTypeName(t.elemType) : 'unknown', dims: t?.dims ?? null };
  };
  const opHistogram: Record<string, number> = {};
  for (const n of graph.nodes) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    opHistogram[key] = (opHistogram[key] ?? 0) + 1;
  }
  const crossAttention = graph.nodes
    .filter((n) => isCrossAttentionSoftmax(n.name, n.opType))
    .map((n): CrossAttentionMap => {
      const dims = types.get(n.output[0]!)?.dims;
      const queries = typeof dims?.[dims.length - 2] === 'number' ? (dims[dims.length - 2] as number) : null;
      const side = queries !== null ? Math.round(Math.sqrt(queries)) : null;
      const tokens = dims?.[dims.length - 1];
      return {
        node: n.name,
        value: n.output[0]!,
        block: attentionBlock(n.name),
        queries,
        spatial: side !== null && side * side === queries ? `${side}x${side}` : null,
        tokens: typeof tokens === 'number' ? tokens : null,
      };
    });
  const fusedAttention = graph.nodes
    .filter((n) => n.domain === 'com.microsoft' && FUSED_ATTENTION_OPS.has(n.opType))
    .map((n) => ({ node: n.name, op: `${n.domain}.${n.opType}` }));
  let guidanceProblem: string | null = null;
  if (fusedAttention.length > 0) {
    guidanceProblem = `attention is fused (${fusedAttention.length} ${fusedAttention[0]!.op} nodes): the attention probabilities never exist as a tensor, so InfSplign cannot read or differentiate them; ${UNFUSED_EXPORT_ADVICE}`;
  } else if (crossAttention.length === 0) {
    guidanceProblem = `no cross-attention Softmax (a Softmax node under an '/attn2/' scope) was found; ${UNFUSED_EXPORT_ADVICE}`;
  }
  return {
    irVersion: Number(model.irVersion),
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    opsets: model.opsetImport.map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version) })),
    inputs: graph
      .inputNames()
      .filter((n) => !graph.isInitializer(n))
      .map(describe),
    outputs: graph.outputNames().map(describe),
    nodes: graph.nodes.length,
    initializers: graph.proto.initializer.length,
    opHistogram,
    crossAttention,
    fusedAttention,
    guidanceProblem,
  };
}

const dimsText = (dims: Dim[] | null) => (dims ? `[${dims.map((d) => d ?? '?').join(', ')}]` : '[unknown rank]');

export function formatSummary(s: ModelSummary): string {
  const lines = [
    `ir_version ${s.irVersion}${s.producer ? `, produced by ${s.producer}` : ''}`,
    `opsets: ${s.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`,
    'inputs:',
    ...s.inputs.map((v) => `  ${v.name}: ${v.type} ${dimsText(v.dims)}`),
    'outputs:',
    ...s.outputs.map((v) => `  ${v.name}: ${v.type} ${dimsText(v.dims)}`),
    `${s.nodes} nodes, ${s.initializers} initializers; ops:`,
    ...Object.entries(s.opHistogram)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([op, n]) => `  ${op.padEnd(28)} ${n}`),
    `cross-attention probabilities (${s.crossAttention.length}):`,
    ...s.crossAttention.map((a) => `  ${a.block}  ${a.spatial ?? `${a.queries ?? '?'} queries`}, ${a.tokens ?? '?'} tokens  (${a.value})`),
  ];
  if (s.guidanceProblem) lines.push(`cannot be guided: ${s.guidanceProblem}`);
  return lines.join('\n');
}
