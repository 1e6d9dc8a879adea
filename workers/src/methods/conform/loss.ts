/**
 * CONFORM's loss (docs/method.md §6.4) as an ONNX subgraph on the pooled maps A [B, N, T] (the mean
 * over every head of every layer at attn_res, CF:85-97) and the previous step's pooled maps P:
 *   S = softmax(100 A[:, :, 1:-1]) over the text columns (CF:689-692; A[:, :, 1:-1] itself without
 *       softmax_normalize), the same of P (CF:697-699, scaled once: docs/method.md §6.4);
 *   one embedding per object token k: G(S[:, k - 1]) flattened (G the references' smoothing,
 *       CF:714-726), then, with previous maps, G(P's[:, k - 1]) in the same class (CF:729-746);
 *   L = pytorch_metric_learning's NTXentLoss(temperature) on the embeddings with the objects as
 *       classes (CF:756-772): cosine similarities s (rows divided by max(|row|, 1e-12)), for every
 *       ordered positive pair (a, p) of one class, a != p,
 *       l_ap = -log(e^(s_ap / tau) / (e^(s_ap / tau) + sum_{n of another class} e^(s_an / tau)) + tiny),
 *       mean over the positive pairs; 0 without positive pairs (one-token objects at step 0).
 * Which embeddings exist and pair up differs per prompt and step, so the pairs are inputs (masks);
 * one graph serves every prompt. Exponentials are taken relative to max(s_ap, max_n s_an) / tau, as
 * the library does, so no temperature overflows them.
 */
import type { GraphBuilder } from '../../onnx/graph-builder.ts';
import { DataType } from '../../onnx/proto.ts';
import type { AttentionMap, LossGraph } from '../method.ts';
import { smoothMaps, smoothedSize } from '../smoothing.ts';

/** What the graph is built from (the guided U-Net's cache key). */
export interface ConformStructure {
  attn_res: number;
  do_smoothing: boolean;
  smoothing_kernel_size: number;
  smoothing_sigma: number;
  temperature: number;
  softmax_normalize: boolean;
  softmax_normalize_attention_maps: boolean;
}

/** The reference's factor on the maps before each softmax (CF:691, 725). */
const SOFTMAX_SCALE = 100;
/** F.normalize's eps (CosineSimilarity), squared: the norm's floor applied before the square root, which keeps zero rows' gradient finite. */
const NORM_EPS_SQUARED = 1e-24;
/** torch.finfo(float32).tiny, pytorch_metric_learning's small_val inside the log. */
const FLOAT32_TINY = 1.1754943508222875e-38;

export interface ConformInputs {
  /** [B, K, T] one-hot rows: the objects' tokens (zero rows pad the batch's K) */
  tokens: string;
  /** [B, N, T] the previous step's pooled maps (zeros where there are none) */
  previous: string;
  /** [B, 2K, 2K] 1 on the ordered positive pairs, 1 on the negative pairs: embeddings 0..K-1 are A's tokens, K..2K-1 P's */
  positive: string;
  negative: string;
}

/** The embeddings [B, K, D] of one set of maps [B, N, T] (CF:704-726). */
function embeddings(b: GraphBuilder, maps: string, tokens: string, map: AttentionMap, s: ConformStructure): string {
  const text = (x: string) => b.op('Slice', [x, b.ints([1]), b.ints([-1]), b.ints([2])]);
  const columns = text(maps); // [B, N, T - 2]
  const normalized = s.softmax_normalize ? b.op('Softmax', [b.mul(columns, b.scalar(SOFTMAX_SCALE, columns))], { axis: -1 }) : columns;
  const perToken = b.op('MatMul', [text(tokens), b.op('Transpose', [normalized], { perm: [0, 2, 1] })]); // [B, K, N]
  const byToken = b.op('Slice', [b.shape(perToken), b.ints([0]), b.ints([2])]);
  let flat = perToken;
  if (s.do_smoothing) {
    const images = b.reshape(perToken, b.ints([-1, 1, map.height, map.width]));
    const side = smoothedSize(map.height, s.smoothing_kernel_size) * smoothedSize(map.width, s.smoothing_kernel_size);
    flat = b.reshape(
      smoothMaps(b, images, map.height, map.width, s.smoothing_kernel_size, s.smoothing_sigma),
      b.op('Concat', [byToken, b.ints([side])], { axis: 0 }),
    );
  }
  return s.softmax_normalize_attention_maps ? b.op('Softmax', [b.mul(flat, b.scalar(SOFTMAX_SCALE, flat))], { axis: -1 }) : flat;
}

/** NT-Xent per image [B] on embeddings [B, M, D] with the pairs' masks [B, M, M]. */
function ntXent(b: GraphBuilder, e: string, positive: string, negative: string, temperature: number): string {
  const norm = b.sqrt(b.op('Max', [b.reduceSum(b.mul(e, e), [2], true), b.scalar(NORM_EPS_SQUARED, e)]));
  const unit = b.div(e, norm);
  const logits = b.div(b.op('MatMul', [unit, b.op('Transpose', [unit], { perm: [0, 2, 1] })]), b.scalar(temperature, e)); // s / tau, [B, M, M]
  // a cosine is at least -1: -1 / tau stands for "no negative" in the maximum without changing it
  const isNegative = b.op('Greater', [negative, b.scalar(0, negative)], undefined, DataType.BOOL);
  const negativeMax = b.reduceMax(b.op('Where', [isNegative, logits, b.scalar(-1 / temperature, logits)], undefined, DataType.FLOAT), [2], true); // [B, M, 1]
  const negativeSum = b.reduceSum(
    b.exp(b.op('Where', [isNegative, b.sub(logits, negativeMax), b.scalar(-Infinity, logits)], undefined, DataType.FLOAT)),
    [2],
    true,
  );
  const pairMax = b.op('Max', [logits, negativeMax]); // per pair (a, p): max(s_ap, max_n s_an) / tau
  const numerator = b.exp(b.sub(logits, pairMax));
  const denominator = b.add(b.mul(b.exp(b.sub(negativeMax, pairMax)), negativeSum), numerator); // >= 1: one of the two exponentials is 1
  const pairLoss = b.neg(b.log(b.add(b.div(numerator, denominator), b.scalar(FLOAT32_TINY, e))));
  const pairs = b.reduceSum(positive, [1, 2], false);
  return b.div(b.reduceSum(b.mul(pairLoss, positive), [1, 2], false), b.op('Max', [pairs, b.scalar(1, pairs)]));
}

export function buildConformLoss(b: GraphBuilder, [map]: AttentionMap[], inputs: ConformInputs, s: ConformStructure): LossGraph {
  b.enter('conform_loss');
  const current = embeddings(b, map!.probs, inputs.tokens, map!, s);
  const previous = embeddings(b, inputs.previous, inputs.tokens, map!, s);
  const perImage = ntXent(b, b.op('Concat', [current, previous], { axis: 1 }), inputs.positive, inputs.negative, s.temperature);
  return {
    loss: b.reduceSum(perImage, [0], false),
    outputs: {
      loss_per_image: { value: perImage, dims: ['batch'] },
      // the maps this evaluation read: the next step's previous maps (CF:1100-1104)
      maps: { value: map!.probs, dims: ['batch', map!.height * map!.width, 'tokens'] },
    },
  };
}
