/**
 * Divide & Bind's loss (docs/method.md §6.3) as an ONNX subgraph on the pooled maps A [B, N, T] (the
 * mean over every head of every layer at attn_res, DB:56-67), DB = the official
 * pipeline_divide_and_bind_latest.py:
 *   M_k = G(softmax(100 A[:, :, 1:-1])[:, k - 1]) for each object's token k (DB:597-630; no end-token
 *     normalisation in D&B: the slice is always [1:-1]),
 *   tv:  TV_k = mean |M[:, :-1] - M[:, 1:]| + mean |M[-1:, :] - M[1:, :]| (DB:640: the vertical term
 *        compares every row from the second on with the LAST row, broadcast), L = max_k (-TV_k),
 *   max: L = max_k (-max M_k) (DB:636-638, 704-708),
 * and the threshold indicator refinement reads: min_k TV_k or min_k max M_k (DB:715-718).
 */
import type { GraphBuilder } from '../../onnx/graph-builder.ts';
import type { AttentionMap, LossGraph } from '../method.ts';
import { smoothedSize } from '../smoothing.ts';
import { tokenMaps, type TokenInputs, type TokenMapSmoothing } from '../token-maps.ts';
import type { DivideAndBindLossMode, ThresholdIndicator } from './params.ts';

/** What the graph is built from (the guided U-Net's cache key). */
export interface DivideAndBindStructure extends TokenMapSmoothing {
  attn_res: number;
  loss_mode: DivideAndBindLossMode;
  threshold_indicator: ThresholdIndicator;
}

/** x[start:end] along `axis`. */
const slice = (b: GraphBuilder, x: string, axis: number, start: number, end: number) => b.op('Slice', [x, b.ints([start]), b.ints([end]), b.ints([axis])]);

/** torch.nn.L1Loss()(x, y): the mean of |x - y| over their broadcast shape, per image of [N, 1, H, W]. */
const l1 = (b: GraphBuilder, x: string, y: string) => b.reduceMean(b.op('Abs', [b.sub(x, y)]), [1, 2, 3], false);

/** The official TV of maps [N, 1, H, W], per map [N] (DB:640, its vertical term against the last row). */
function officialTotalVariation(b: GraphBuilder, maps: string, height: number, width: number): string {
  if (height < 2 || width < 2) throw new Error(`Divide & Bind's total variation needs maps of at least 2 x 2, not ${height} x ${width}`);
  const horizontal = l1(b, slice(b, maps, 3, 0, width - 1), slice(b, maps, 3, 1, width));
  const vertical = l1(b, slice(b, maps, 2, height - 1, height), slice(b, maps, 2, 1, height));
  return b.add(horizontal, vertical);
}

/** The smallest of x [B, K] per image [B]. */
const minOverObjects = (b: GraphBuilder, x: string) => b.neg(b.reduceMax(b.neg(x), [1], false));

/**
 * inputs: `tokens` [B, K, T] one-hot rows (each object's token), `columns` [B, T] (the [1:-1] columns).
 */
export function buildDivideAndBindLoss(b: GraphBuilder, [map]: AttentionMap[], inputs: TokenInputs, s: DivideAndBindStructure): LossGraph {
  b.enter('divide_and_bind_loss');
  const { images, byObject } = tokenMaps(b, map!, inputs, s);
  const [height, width] = s.smooth_attentions ? [smoothedSize(map!.height, s.kernel_size), smoothedSize(map!.width, s.kernel_size)] : [map!.height, map!.width];
  const maxima = b.reshape(b.reduceMax(images, [1, 2, 3], false), byObject); // [B, K]
  const tv = s.loss_mode === 'tv' ? b.reshape(officialTotalVariation(b, images, height, width), byObject) : null;
  const perImage = b.reduceMax(b.neg(tv ?? maxima), [1], false);
  const indicator = s.threshold_indicator === 'tv_loss' ? tv : maxima;
  if (!indicator) throw new Error('threshold_indicator tv_loss needs loss_mode tv');
  return {
    loss: b.reduceSum(perImage, [0], false),
    outputs: {
      loss_per_image: { value: perImage, dims: ['batch'] },
      threshold: { value: minOverObjects(b, indicator), dims: ['batch'] },
      max_attention: { value: maxima, dims: ['batch', 'objects'] },
      ...(tv ? { tv: { value: tv, dims: ['batch', 'objects'] } } : {}),
    },
  };
}
