/**
 * Attend-and-Excite's loss (docs/method.md §6.2) as an ONNX subgraph on the pooled 16 x 16 maps A
 * [B, N, T] (the mean over every head of every layer at attention_res, AE:231-236):
 *   S = softmax(100 A) over the text columns kept (AE:199-207: [1:-1], or [1:eot] with normalize_eot),
 *   m_k = max G(S[:, k]) for each object's token k (AE:211-220; G the reference's smoothing),
 *   L = max_k max(0, 1 - m_k) (AE:247-254).
 * The columns kept differ per prompt (the end token's position), so they are an input: a mask whose
 * other columns enter the softmax as -inf, which leaves the kept columns' softmax exactly the slice's.
 * The tokens read are an input too (one-hot rows), so one graph serves every prompt.
 */
import type { GraphBuilder } from '../../onnx/graph-builder.ts';
import type { AttentionMap, LossGraph } from '../method.ts';
import { tokenMaps, type TokenInputs, type TokenMapSmoothing } from '../token-maps.ts';

/** What the graph is built from (the guided U-Net's cache key). */
export interface AttendAndExciteStructure extends TokenMapSmoothing {
  attention_res: number;
}

/**
 * inputs: `tokens` [B, K, T] one-hot rows (each object's token), `columns` [B, T] (1 on the text
 * columns kept in the softmax, 0 elsewhere).
 */
export function buildAttendAndExciteLoss(b: GraphBuilder, [map]: AttentionMap[], inputs: TokenInputs, s: AttendAndExciteStructure): LossGraph {
  b.enter('attend_and_excite_loss');
  const { images: smoothed, byObject } = tokenMaps(b, map!, inputs, s);
  const maxima = b.reshape(b.reduceMax(smoothed, [1, 2, 3], false), byObject);
  const losses = b.op('Relu', [b.sub(b.scalar(1, maxima), maxima)]);
  const perImage = b.reduceMax(losses, [1], false);
  return {
    loss: b.reduceSum(perImage, [0], false),
    outputs: {
      loss_per_image: { value: perImage, dims: ['batch'] },
      losses: { value: losses, dims: ['batch', 'objects'] },
      max_attention: { value: maxima, dims: ['batch', 'objects'] },
    },
  };
}
