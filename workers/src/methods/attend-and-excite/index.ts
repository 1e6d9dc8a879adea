/**
 * Attend-and-Excite (Chefer et al., SIGGRAPH 2023; official code yuval-alaluf/Attend-and-Excite @
 * 163efdf) as a method of the arena (docs/method.md §6.2): the pooled maps at attention_res, its loss
 * (loss.ts) on each object's token, and latent updates with iterative refinement (schedule.ts).
 * Each object's token is the last token of its span (`token_alignment: correct`), the index the
 * official run.py asks for.
 */
import { UnguidablePromptError, type LatentUpdate, type MethodDefinition } from '../method.ts';
import { endTokenPosition, textColumns } from '../prompt-tokens.ts';
import { lastMapsTokens, lastObjectTokens, objectRow, tokenFeeds, type TokenRow } from '../token-maps.ts';
import { buildAttendAndExciteLoss, type AttendAndExciteStructure } from './loss.ts';
import { attendAndExciteParams, type AttendAndExciteParams } from './params.ts';
import { attendAndExcitePlan, scheduleAt } from './schedule.ts';

/** What the loss needs of one prompt: the token position of each object, the text columns of the softmax (AE:199-205). */
export type AttendAndExciteRow = TokenRow;

const guidance: LatentUpdate<AttendAndExciteParams, AttendAndExciteStructure, AttendAndExciteRow> = {
  kind: 'latent-update',
  ioPrefix: 'attend_and_excite_',
  maps: (params) => ({ resolution: params.attention_res, aggregate: 'pooled' }),
  structure: ({ attention_res, smooth_attentions, sigma, kernel_size }) => ({ attention_res, smooth_attentions, sigma, kernel_size }),
  inputs: (_structure, { tokens }) => ({ tokens: ['batch', 'objects', tokens], columns: ['batch', tokens] }),
  buildLoss: (b, maps, inputs, structure) => buildAttendAndExciteLoss(b, maps, { tokens: inputs.tokens!, columns: inputs.columns! }, structure),
  prepare(prompt, params) {
    const tokens = lastObjectTokens(prompt);
    if (!tokens) return null;
    return { tokens, columns: textColumns(prompt.tokens, endTokenPosition(prompt.encoding), params.normalize_eot) };
  },
  prepareFromMaps(prompt, params) {
    if (params.normalize_eot && prompt.eot === undefined)
      throw new UnguidablePromptError('normalize_eot keeps the prompt\'s words [1:eot] in the softmax: the maps file needs "eot", the end token\'s position');
    return { tokens: lastMapsTokens(prompt), columns: textColumns(prompt.tokens, prompt.eot, params.normalize_eot) };
  },
  feeds: (rows, _params, { tokens }) => tokenFeeds(rows, tokens, 'attend-and-excite'),
  read(outputs, rows) {
    const perObject = (data: Float32Array, b: number) => objectRow(data, b, rows.length);
    return rows.map((row, b) =>
      row
        ? { loss: outputs.loss_per_image![b]!, report: { losses: perObject(outputs.losses!, b), max_attention: perObject(outputs.max_attention!, b) } }
        : null,
    );
  },
  plan: (params, stepIndex, steps) => attendAndExcitePlan(scheduleAt(params, stepIndex, steps)),
};

export const attendAndExcite: MethodDefinition<AttendAndExciteParams, AttendAndExciteStructure, AttendAndExciteRow> = {
  name: 'attend-and-excite',
  description:
    "Attend-and-Excite (Chefer et al., 2023): latent updates that raise the weakest object token's smoothed attention maximum, with iterative refinement (docs/method.md §6.2).",
  params: attendAndExciteParams,
  guidance,
  // The official scale_factor 20 (AEC:31), halved and doubled.
  arena: { strength: 'scale_factor', grid: [10, 20, 40] },
};
