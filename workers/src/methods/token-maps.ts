/**
 * What Attend-and-Excite and Divide & Bind share before their losses differ: each object's token map
 * from the pooled maps A [B, N, T] as both references take it (AE:199-220, DB:597-628): a softmax of
 * 100 A over the text columns kept, the token's column, and the references' Gaussian smoothing; and
 * the inputs that select the token and the columns per prompt, so one graph serves every prompt.
 */
import { objectTokenSpans } from '../guidance/token-spans.ts';
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import { DataType } from '../onnx/proto.ts';
import type { AttentionMap, FeedValues, GuidedPrompt, MapsPrompt } from './method.ts';
import { lastToken } from './prompt-tokens.ts';
import { smoothMaps } from './smoothing.ts';

/** The references' factor on the maps before the softmax (AE:206, DB:606). */
const SOFTMAX_SCALE = 100;

/** The smoothing applied to each token's map (the references' smooth_attentions, sigma, kernel_size). */
export interface TokenMapSmoothing {
  smooth_attentions: boolean;
  sigma: number;
  kernel_size: number;
}

/** What a prompt gives the token maps: each object's token position, the text columns of the softmax. */
export interface TokenRow {
  tokens: number[];
  /** 1 on the columns kept in the softmax */
  columns: Float32Array;
}

/** Graph names of the inputs: `tokens` [B, K, T] one-hot rows (each object's token), `columns` [B, T] (1 on the kept columns). */
export interface TokenInputs {
  tokens: string;
  columns: string;
}

/**
 * Each object's (smoothed) map as images [B * K, 1, H', W'], and `byObject`, the shape [B, K] to give
 * per-object values back their axes. Columns not kept enter the softmax as -inf, which leaves the kept
 * columns' softmax exactly the slice's.
 */
export function tokenMaps(b: GraphBuilder, map: AttentionMap, inputs: TokenInputs, s: TokenMapSmoothing): { images: string; byObject: string } {
  const a = map.probs;
  const kept = b.op('Greater', [b.op('Unsqueeze', [inputs.columns, b.ints([1])]), b.scalar(0, inputs.columns)], undefined, DataType.BOOL); // [B, 1, T]
  const logits = b.op('Where', [kept, b.mul(a, b.scalar(SOFTMAX_SCALE, a)), b.scalar(-Infinity, a)], undefined, DataType.FLOAT);
  const softmax = b.op('Softmax', [logits], { axis: -1 }); // [B, N, T]
  const perObject = b.op('Transpose', [b.op('MatMul', [softmax, b.op('Transpose', [inputs.tokens], { perm: [0, 2, 1] })])], { perm: [0, 2, 1] }); // [B, K, N]
  const images = b.reshape(perObject, b.ints([-1, 1, map.height, map.width])); // [B * K, 1, H, W]
  return {
    images: s.smooth_attentions ? smoothMaps(b, images, map.height, map.width, s.kernel_size, s.sigma) : images,
    byObject: b.op('Slice', [b.shape(perObject), b.ints([0]), b.ints([2])]),
  };
}

/** The `tokens` and `columns` inputs for a batch of guided images of one number of objects (`method` names who asks, in errors). */
export function tokenFeeds(rows: ReadonlyArray<TokenRow | null>, tokens: number, method: string): { tokens: FeedValues; columns: FeedValues } {
  const objects = Math.max(...rows.map((r) => r?.tokens.length ?? 0));
  const selection = new Float32Array(rows.length * objects * tokens);
  const columns = new Float32Array(rows.length * tokens);
  rows.forEach((row, b) => {
    if (!row) throw new Error(`${method} evaluates guided images only`);
    if (row.tokens.length !== objects) throw new Error(`${method} evaluates images with one number of objects at a time`);
    row.tokens.forEach((t, k) => (selection[(b * objects + k) * tokens + t] = 1));
    columns.set(row.columns, b * tokens);
  });
  return { tokens: { data: selection, dims: [rows.length, objects, tokens] }, columns: { data: columns, dims: [rows.length, tokens] } };
}

/**
 * Each object's token for the competitors (docs/method.md §6): the last token of its span under
 * `token_alignment: correct`, the single index their run scripts take; null below two objects (the
 * image is sampled plainly, as InfSplign leaves it).
 */
export function lastObjectTokens(prompt: GuidedPrompt): number[] | null {
  if (prompt.objects.length < 2) return null;
  return objectTokenSpans(prompt.tokenizer, prompt.encoding, prompt.objects.slice(0, 2), 'last_word', 'correct').map(lastToken);
}

/** A maps file's objects' tokens: the last of each object's positions. */
export function lastMapsTokens(prompt: MapsPrompt): number[] {
  return prompt.objects.map((o) => lastToken(o.tokens));
}

/** Image b's values of a per-object output [B, K] (B = batch). */
export function objectRow(data: Float32Array, b: number, batch: number): number[] {
  const objects = data.length / batch;
  return [...data.subarray(b * objects, (b + 1) * objects)];
}
