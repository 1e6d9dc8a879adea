import { z } from 'zod';
import { readJsonLines } from '../util/read-data-file.ts';
import type { PromptRecord } from './types.ts';

export const GENEVAL_RELATIONS = ['left of', 'right of', 'above', 'below'] as const;

const includeClauseSchema = z.looseObject({
  class: z.string().min(1),
  count: z.number().int().positive(),
  color: z.string().min(1).optional(),
  /** [relation, index of the earlier include clause this one is placed against] */
  position: z.tuple([z.enum(GENEVAL_RELATIONS), z.number().int().nonnegative()]).optional(),
});

const excludeClauseSchema = z.looseObject({
  class: z.string().min(1),
  count: z.number().int().positive(),
});

/** One line of `evaluation_metadata.jsonl`; unknown keys are kept, since GenEval's results.jsonl echoes the whole record. */
export const genevalMetadataSchema = z
  .looseObject({
    tag: z.string().min(1),
    prompt: z.string().min(1),
    include: z.array(includeClauseSchema).min(1),
    exclude: z.array(excludeClauseSchema).optional(),
  })
  .superRefine((record, ctx) => {
    record.include.forEach((clause, index) => {
      // The reference looks the target up among clauses already matched, so it must come earlier.
      if (clause.position && clause.position[1] >= index) {
        const message =
          index === 0 ? 'the first include clause has no earlier clause to be placed against' : `must name an earlier include clause (0 to ${index - 1})`;
        ctx.addIssue({ code: 'custom', path: ['include', index, 'position', 1], message });
      }
    });
  });

export type GenEvalMetadata = z.infer<typeof genevalMetadataSchema>;
export type GenEvalIncludeClause = GenEvalMetadata['include'][number];
export type GenEvalPrompt = PromptRecord<GenEvalMetadata>;

/**
 * The scorer's view of a metadata line. Position prompts list the reference object B first and the
 * subject A second with `position: [rel, 0]`; `objects` puts A first, as for the other benchmarks.
 */
export function toGenEvalPrompt(record: GenEvalMetadata, id: number): GenEvalPrompt {
  const placed = record.include.find((clause) => clause.position);
  if (placed?.position) {
    const [relation, target] = placed.position;
    return { id, text: record.prompt, objects: [placed.class, record.include[target].class], relation, raw: record };
  }
  const objects = [...new Set(record.include.map((clause) => clause.class))];
  return { id, text: record.prompt, objects, relation: null, raw: record };
}

/** Reads GenEval's metadata; ids are 0-based line indices of the file, kept when filtering by `tag`. */
export function readGenEvalPrompts(path: string, options: { tag?: string } = {}): GenEvalPrompt[] {
  return readJsonLines(path, genevalMetadataSchema, (record, lineNumber) => toGenEvalPrompt(record, lineNumber - 1)).filter(
    (prompt) => options.tag === undefined || prompt.raw.tag === options.tag,
  );
}
