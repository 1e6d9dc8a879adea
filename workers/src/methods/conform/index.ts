/**
 * CONFORM (Meral et al., CVPR 2024; official code gemlab-vt/CONFORM @ 4ad0e37) as a method of the
 * arena (docs/method.md §6.4): the pooled maps at attn_res, its contrastive loss (loss.ts) with each
 * object's span as one class and the previous step's maps as more members of the classes, and latent
 * updates with a fixed-length refinement (schedule.ts). The spans are the objects' own tokens
 * (`token_alignment: correct`): the reference's `token_groups`.
 */
import { objectTokenSpans } from '../../guidance/token-spans.ts';
import type { FeedValues, LatentUpdate, MethodDefinition } from '../method.ts';
import { buildConformLoss, type ConformStructure } from './loss.ts';
import { conformParams, type ConformParams } from './params.ts';
import { conformPlan, scheduleAt } from './schedule.ts';

/** What the loss needs of one prompt: its tokens in the reference's order and each one's class (its object). */
export interface ConformRow {
  tokens: number[];
  classes: number[];
}

/**
 * The reference's `indices_to_clases` (CF:704-707): a dict from token to its group's index, so the
 * tokens come in their first group's order and a token in two groups belongs to the last.
 */
export function tokenClasses(groups: ReadonlyArray<readonly number[]>): ConformRow {
  const classes = new Map<number, number>();
  groups.forEach((group, c) => group.forEach((token) => classes.set(token, c)));
  return { tokens: [...classes.keys()], classes: [...classes.values()] };
}

/**
 * The pair masks [2K, 2K] of one image: embeddings 0..K-1 are its tokens' current maps, K..2K-1 their
 * previous maps (present or not); positive = same class and not itself, negative = another class
 * (pytorch_metric_learning's get_all_pairs_indices).
 */
function pairMasks(row: ConformRow, objects: number, withPrevious: boolean): { positive: Float32Array; negative: Float32Array } {
  const m = 2 * objects;
  const classOf = (e: number): number | undefined => {
    const k = e % objects;
    if (k >= row.tokens.length || (e >= objects && !withPrevious)) return undefined;
    return row.classes[k];
  };
  const positive = new Float32Array(m * m);
  const negative = new Float32Array(m * m);
  for (let a = 0; a < m; a++) {
    for (let p = 0; p < m; p++) {
      const [ca, cp] = [classOf(a), classOf(p)];
      if (ca === undefined || cp === undefined || a === p) continue;
      (ca === cp ? positive : negative)[a * m + p] = 1;
    }
  }
  return { positive, negative };
}

const guidance: LatentUpdate<ConformParams, ConformStructure, ConformRow> = {
  kind: 'latent-update',
  ioPrefix: 'conform_',
  maps: (params) => ({ resolution: params.attn_res, aggregate: 'pooled' }),
  structure: ({ attn_res, do_smoothing, smoothing_kernel_size, smoothing_sigma, temperature, softmax_normalize, softmax_normalize_attention_maps }) => ({
    attn_res,
    do_smoothing,
    smoothing_kernel_size,
    smoothing_sigma,
    temperature,
    softmax_normalize,
    softmax_normalize_attention_maps,
  }),
  inputs: ({ attn_res }, { tokens }) => ({
    tokens: ['batch', 'objects', tokens],
    previous: ['batch', attn_res * attn_res, tokens],
    positive: ['batch', 'embeddings', 'embeddings'],
    negative: ['batch', 'embeddings', 'embeddings'],
  }),
  buildLoss: (b, maps, inputs, structure) =>
    buildConformLoss(b, maps, { tokens: inputs.tokens!, previous: inputs.previous!, positive: inputs.positive!, negative: inputs.negative! }, structure),
  prepare(prompt) {
    // as InfSplign: prompts with a subject and a reference object are guided, others sampled plainly
    if (prompt.objects.length < 2) return null;
    return tokenClasses(objectTokenSpans(prompt.tokenizer, prompt.encoding, prompt.objects.slice(0, 2), 'last_word', 'correct'));
  },
  prepareFromMaps: (prompt) => tokenClasses(prompt.objects.map((o) => o.tokens)),
  feeds(rows, params, { tokens }, step): Record<string, FeedValues> {
    const batch = rows.length;
    const objects = Math.max(...rows.map((r) => r?.tokens.length ?? 0));
    const m = 2 * objects;
    const pixels = params.attn_res * params.attn_res;
    const selection = new Float32Array(batch * objects * tokens);
    const previous = new Float32Array(batch * pixels * tokens);
    const positive = new Float32Array(batch * m * m);
    const negative = new Float32Array(batch * m * m);
    rows.forEach((row, b) => {
      if (!row) throw new Error('conform evaluates guided images only');
      row.tokens.forEach((t, k) => (selection[(b * objects + k) * tokens + t] = 1));
      const carried = params.add_previous_attention_maps ? (step.carried?.[b] as Float32Array | undefined) : undefined;
      if (carried) previous.set(carried, b * pixels * tokens);
      const masks = pairMasks(row, objects, carried !== undefined);
      positive.set(masks.positive, b * m * m);
      negative.set(masks.negative, b * m * m);
    });
    return {
      tokens: { data: selection, dims: [batch, objects, tokens] },
      previous: { data: previous, dims: [batch, pixels, tokens] },
      positive: { data: positive, dims: [batch, m, m] },
      negative: { data: negative, dims: [batch, m, m] },
    };
  },
  read(outputs, rows) {
    const size = outputs.maps!.length / rows.length;
    return rows.map((row, b) => (row ? { loss: outputs.loss_per_image![b]!, report: {}, carry: outputs.maps!.slice(b * size, (b + 1) * size) } : null));
  },
  plan: (params, stepIndex, steps) => conformPlan(scheduleAt(params, stepIndex, steps)),
};

export const conform: MethodDefinition<ConformParams, ConformStructure, ConformRow> = {
  name: 'conform',
  description:
    "CONFORM (Meral et al., 2024): latent updates that pull each object's token maps together and push the objects apart (a contrastive NT-Xent loss, with the previous step's maps), with refinement (docs/method.md §6.4).",
  params: conformParams,
  guidance,
  // The official scale_factor 20 (CF:904), halved and doubled, as every latent-update method's.
  arena: { strength: 'scale_factor', grid: [10, 20, 40] },
};
