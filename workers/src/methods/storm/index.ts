/**
 * STORM (MICV-yonsei/STORM @ 88dbc3a) as a method of the arena (docs/method.md §6.5): the pooled 16 x 16
 * maps, its optimal-transport loss (loss.ts) between each object's map and a target placed by the
 * relation, and latent updates with a clipped gradient and gated refinement (schedule.ts). It guides
 * prompts with exactly two objects (ST:818) whose text holds a relation word it recognises
 * (relation.ts); each object's token is the last token of its span (`token_alignment: correct`), as
 * its run.py keeps the last token of each noun.
 */
import { objectTokenSpans } from '../../guidance/token-spans.ts';
import { UnguidablePromptError, type LatentUpdate, type MethodDefinition } from '../method.ts';
import { endTokenPosition, lastToken, textColumns } from '../prompt-tokens.ts';
import { buildStormLoss, type StormStructure } from './loss.ts';
import { stormParams, type StormParams } from './params.ts';
import { stormRelation, type StormRelation } from './relation.ts';
import { scheduleAt, stormPlan, stormTimeWeight } from './schedule.ts';

/** What the loss needs of one prompt. */
export interface StormRow {
  /** the subject's and the object's token positions */
  tokens: [number, number];
  /** the end token's position (the main evaluations' softmax ends there with normalize_eot) */
  eot: number | undefined;
  relation: StormRelation;
}

/** The relation the text holds for STORM, or the reason it cannot guide it. */
function relationOf(text: string | undefined): StormRelation {
  if (text === undefined) throw new UnguidablePromptError("STORM reads the relation from the prompt's words: give the prompt (--prompt)");
  const relation = stormRelation(text);
  if ('problem' in relation) throw new UnguidablePromptError(relation.problem);
  return relation;
}

function twoObjects(count: number): void {
  if (count !== 2) throw new UnguidablePromptError(`STORM guides prompts with exactly two objects (its pipeline.py:818), this one has ${count}`);
}

const guidance: LatentUpdate<StormParams, StormStructure, StormRow> = {
  kind: 'latent-update',
  ioPrefix: 'storm_',
  maps: (params) => ({ resolution: params.attention_res, aggregate: 'pooled' }),
  structure: ({ attention_res, smooth_attentions, sigma, kernel_size }) => ({ attention_res, smooth_attentions, sigma, kernel_size }),
  inputs: (_structure, { tokens }) => ({ tokens: ['batch', 2, tokens], columns: ['batch', tokens], relation: ['batch', 3], time_weight: ['batch'] }),
  buildLoss: (b, maps, inputs, structure) =>
    buildStormLoss(b, maps, { tokens: inputs.tokens!, columns: inputs.columns!, relation: inputs.relation!, time_weight: inputs.time_weight! }, structure),
  prepare(prompt) {
    twoObjects(prompt.objects.length);
    const relation = relationOf(prompt.text);
    const spans = objectTokenSpans(prompt.tokenizer, prompt.encoding, prompt.objects, 'last_word', 'correct');
    return { tokens: [lastToken(spans[0]!), lastToken(spans[1]!)], eot: endTokenPosition(prompt.encoding), relation };
  },
  prepareFromMaps(prompt, params) {
    twoObjects(prompt.objects.length);
    const relation = relationOf(prompt.text);
    if (params.normalize_eot && prompt.eot === undefined)
      throw new UnguidablePromptError(
        "normalize_eot keeps the prompt's words [1:eot] in the softmax of the step's evaluations: the maps file needs \"eot\", the end token's position",
      );
    return { tokens: [lastToken(prompt.objects[0]!.tokens), lastToken(prompt.objects[1]!.tokens)], eot: prompt.eot, relation };
  },
  feeds(rows, params, { tokens }, step) {
    const selection = new Float32Array(rows.length * 2 * tokens);
    const columns = new Float32Array(rows.length * tokens);
    const relation = new Float32Array(rows.length * 3);
    rows.forEach((row, b) => {
      if (!row) throw new Error('storm evaluates guided images only');
      row.tokens.forEach((t, k) => (selection[(b * 2 + k) * tokens + t] = 1));
      // the end-token normalisation belongs to the step's evaluations, never to the refinement's (ST:286)
      columns.set(textColumns(tokens, row.eot, params.normalize_eot && !step.refinement[b]), b * tokens);
      relation.set([Number(row.relation.vertical), Number(row.relation.horizontal), Number(row.relation.objectRelation)], b * 3);
    });
    return {
      tokens: { data: selection, dims: [rows.length, 2, tokens] },
      columns: { data: columns, dims: [rows.length, tokens] },
      relation: { data: relation, dims: [rows.length, 3] },
      time_weight: { data: new Float32Array(rows.length).fill(stormTimeWeight(step.index)), dims: [rows.length] },
    };
  },
  read(outputs, rows) {
    const pair = (data: Float32Array, b: number) => [data[2 * b]!, data[2 * b + 1]!];
    return rows.map((row, b) =>
      row
        ? {
            loss: outputs.loss_per_image![b]!,
            report: { losses: pair(outputs.losses!, b), coordinate: pair(outputs.coordinate!, b), spatial_condition: row.relation.gateAxis, w: outputs.w![b]! },
          }
        : null,
    );
  },
  plan: (params, stepIndex, steps) => stormPlan(scheduleAt(params, stepIndex, steps)),
  refinementLossDiffers: (params) => params.normalize_eot,
};

export const storm: MethodDefinition<StormParams, StormStructure, StormRow> = {
  name: 'storm',
  description:
    "STORM (official code MICV-yonsei/STORM): latent updates by an optimal-transport loss that moves each object's attention toward its side of the other, with a clipped gradient and gated refinement (docs/method.md §6.5).",
  params: stormParams,
  guidance,
  // The official scale_factor 20 (STC:30), halved and doubled, as every latent-update method's.
  arena: { strength: 'scale_factor', grid: [10, 20, 40] },
};
