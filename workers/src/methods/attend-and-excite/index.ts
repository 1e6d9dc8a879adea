/**
 * Attend-and-Excite (Chefer et al., SIGGRAPH 2023; official code yuval-alaluf/Attend-and-Excite @
 * 163efdf) as a method of the arena (docs/method.md §6.2): the pooled maps at attention_res, its loss
 * (loss.ts) on each object's token, and latent updates with iterative refinement (schedule.ts).
 * Each object's token is the last token of its span (`token_alignment: correct`), the index the
 * official run.py asks for.
 */
import { objectTokenSpans } from '../../guidance/token-spans.ts';
import { UnguidablePromptError, type LatentUpdate, type MethodDefinition } from '../method.ts';
import { buildAttendAndExciteLoss, type AttendAndExciteStructure } from './loss.ts';
import { attendAndExciteParams, type AttendAndExciteParams } from './params.ts';
import { attendAndExcitePlan, scheduleAt } from './schedule.ts';

/** What the loss needs of one prompt: the token position of each object, the text columns of the softmax. */
export interface AttendAndExciteRow {
  tokens: number[];
  /** 1 on the columns kept in the softmax (AE:199-205) */
  columns: Float32Array;
}

/** The columns of `[1:-1]` (the end token and the padding but the last position included) or, with normalize_eot, `[1:eot]`. */
function textColumns(tokens: number, eot: number | undefined, normalizeEot: boolean): Float32Array {
  const end = normalizeEot ? eot! : tokens - 1;
  const columns = new Float32Array(tokens);
  columns.fill(1, 1, end);
  return columns;
}

const last = (span: readonly number[]) => span[span.length - 1]!;

const guidance: LatentUpdate<AttendAndExciteParams, AttendAndExciteStructure, AttendAndExciteRow> = {
  kind: 'latent-update',
  ioPrefix: 'attend_and_excite_',
  maps: (params) => ({ resolution: params.attention_res, aggregate: 'pooled' }),
  structure: ({ attention_res, smooth_attentions, sigma, kernel_size }) => ({ attention_res, smooth_attentions, sigma, kernel_size }),
  inputs: (_structure, { tokens }) => ({ tokens: ['batch', 'objects', tokens], columns: ['batch', tokens] }),
  buildLoss: (b, maps, inputs, structure) => buildAttendAndExciteLoss(b, maps, { tokens: inputs.tokens!, columns: inputs.columns! }, structure),
  prepare(prompt, params) {
    // as InfSplign: prompts with a subject and a reference object are guided, others sampled plainly
    if (prompt.objects.length < 2) return null;
    const spans = objectTokenSpans(prompt.tokenizer, prompt.encoding, prompt.objects.slice(0, 2), 'last_word', 'correct');
    const eot = prompt.encoding.attentionMask.reduce((a, b) => a + b, 0) - 1;
    return { tokens: spans.map(last), columns: textColumns(prompt.tokens, eot, params.normalize_eot) };
  },
  prepareFromMaps(prompt, params) {
    if (params.normalize_eot && prompt.eot === undefined) throw new UnguidablePromptError('normalize_eot keeps the prompt\'s words [1:eot] in the softmax: the maps file needs "eot", the end token\'s position');
    return { tokens: prompt.objects.map((o) => last(o.tokens)), columns: textColumns(prompt.tokens, prompt.eot, params.normalize_eot) };
  },
  feeds(rows, _params, { tokens }) {
    const objects = Math.max(...rows.map((r) => r?.tokens.length ?? 0));
    const selection = new Float32Array(rows.length * objects * tokens);
    const columns = new Float32Array(rows.length * tokens);
    rows.forEach((row, b) => {
      if (!row) throw new Error('attend-and-excite evaluates guided images only');
      if (row.tokens.length !== objects) throw new Error('attend-and-excite evaluates images with one number of objects at a time');
      row.tokens.forEach((t, k) => (selection[(b * objects + k) * tokens + t] = 1));
      columns.set(row.columns, b * tokens);
    });
    return { tokens: { data: selection, dims: [rows.length, objects, tokens] }, columns: { data: columns, dims: [rows.length, tokens] } };
  },
  read(outputs, rows) {
    const objects = outputs.losses!.length / rows.length;
    const pick = (data: Float32Array, b: number) => [...data.subarray(b * objects, (b + 1) * objects)];
    return rows.map((row, b) => (row ? { loss: outputs.loss_per_image![b]!, report: { losses: pick(outputs.losses!, b), max_attention: pick(outputs.max_attention!, b) } } : null));
  },
  plan: (params, stepIndex, steps) => attendAndExcitePlan(scheduleAt(params, stepIndex, steps)),
};

export const attendAndExcite: MethodDefinition<AttendAndExciteParams, AttendAndExciteStructure, AttendAndExciteRow> = {
  name: 'attend-and-excite',
  description: 'Attend-and-Excite (Chefer et al., 2023): latent updates that raise the weakest object token\'s smoothed attention maximum, with iterative refinement (docs/method.md §6.2).',
  params: attendAndExciteParams,
  guidance,
  // The official scale_factor 20 (AEC:31), halved and doubled.
  arena: { strength: 'scale_factor', grid: [10, 20, 40] },
};
