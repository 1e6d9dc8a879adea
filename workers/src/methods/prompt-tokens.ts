/**
 * What the competitor methods read of a prompt's tokens, shared by them: each object's token (the last
 * of its span, as their official scripts pick nouns), the end token's position, and the text columns
 * their softmax keeps (A&E pipeline_attend_and_excite.py:199-205, STORM pipeline.py:499-503).
 */
import type { Encoding } from '../text/tokenizer.ts';

/** The last token of an object's span: the single index the references take per object. */
export const lastToken = (span: readonly number[]): number => span[span.length - 1]!;

/** The end token's position: len(tokenizer(prompt).input_ids) - 1 (the tokens the attention mask keeps, minus one). */
export const endTokenPosition = (encoding: Encoding): number => encoding.attentionMask.reduce((a, b) => a + b, 0) - 1;

/** 1 on the columns of a slice [1:end] of `tokens` positions (the start token always dropped, as every reference does). */
export function sliceColumns(tokens: number, end: number): Float32Array {
  const columns = new Float32Array(tokens);
  columns.fill(1, 1, end);
  return columns;
}

/** 1 on the columns of `[1:-1]` (the end token and the padding but the last position included) or, with normalizeEot, `[1:eot]`. */
export function textColumns(tokens: number, eot: number | undefined, normalizeEot: boolean): Float32Array {
  return sliceColumns(tokens, normalizeEot ? eot! : tokens - 1);
}
