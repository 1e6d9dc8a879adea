/**
 * Divide & Bind (Li et al., BMVC 2023; official code boschresearch/Divide-and-Bind @ 644dfda) as a
 * method of the arena (docs/method.md §6.3): the pooled maps at attn_res, its total-variation loss
 * (loss.ts) on each object's token, and latent updates with iterative refinement (schedule.ts). Each
 * object's token is the last token of its span (`token_alignment: correct`), as the official
 * `token_indices` take one position per object.
 */
import type { LatentUpdate, MethodDefinition } from '../method.ts';
import { sliceColumns } from '../prompt-tokens.ts';
import { lastMapsTokens, lastObjectTokens, objectRow, tokenFeeds, type TokenRow } from '../token-maps.ts';
import { buildDivideAndBindLoss, type DivideAndBindStructure } from './loss.ts';
import { divideAndBindParams, indicatorOf, lossModeOf, type DivideAndBindParams } from './params.ts';
import { divideAndBindPlan, scheduleAt } from './schedule.ts';

/** D&B's softmax always runs over [1:-1]: the end token and the padding but the last position stay in it (DB:597). */
const tokenRow = (tokens: number[], positions: number): TokenRow => ({ tokens, columns: sliceColumns(positions, positions - 1) });

const guidance: LatentUpdate<DivideAndBindParams, DivideAndBindStructure, TokenRow> = {
  kind: 'latent-update',
  ioPrefix: 'divide_and_bind_',
  maps: (params) => ({ resolution: params.attn_res, aggregate: 'pooled' }),
  structure: (params) => ({
    attn_res: params.attn_res,
    loss_mode: lossModeOf(params),
    threshold_indicator: indicatorOf(params),
    smooth_attentions: params.smooth_attentions,
    sigma: params.sigma,
    kernel_size: params.kernel_size,
  }),
  inputs: (_structure, { tokens }) => ({ tokens: ['batch', 'objects', tokens], columns: ['batch', tokens] }),
  buildLoss: (b, maps, inputs, structure) => buildDivideAndBindLoss(b, maps, { tokens: inputs.tokens!, columns: inputs.columns! }, structure),
  prepare(prompt) {
    const tokens = lastObjectTokens(prompt);
    return tokens && tokenRow(tokens, prompt.tokens);
  },
  prepareFromMaps: (prompt) => tokenRow(lastMapsTokens(prompt), prompt.tokens),
  feeds: (rows, _params, { tokens }) => tokenFeeds(rows, tokens, 'divide-and-bind'),
  read(outputs, rows) {
    const perObject = (data: Float32Array, b: number) => objectRow(data, b, rows.length);
    const report = (b: number) => ({
      threshold: outputs.threshold![b]!,
      max_attention: perObject(outputs.max_attention!, b),
      ...(outputs.tv ? { tv: perObject(outputs.tv, b) } : {}),
    });
    return rows.map((row, b) => (row ? { loss: outputs.loss_per_image![b]!, report: report(b) } : null));
  },
  plan: (params, stepIndex, steps) => divideAndBindPlan(scheduleAt(params, stepIndex, steps)),
};

export const divideAndBind: MethodDefinition<DivideAndBindParams, DivideAndBindStructure, TokenRow> = {
  name: 'divide-and-bind',
  description:
    "Divide & Bind (Li et al., 2023): latent updates that raise the smallest total variation of the object tokens' smoothed attention maps, with iterative refinement (docs/method.md §6.3).",
  params: divideAndBindParams,
  guidance,
  // The official scale_factor 20 (DB:852), halved and doubled, as every latent-update method's.
  arena: { strength: 'scale_factor', grid: [10, 20, 40] },
};
