/**
 * MAPS.json, the attention maps `infsplign guidance loss` evaluates a method's loss on: the objects'
 * token positions, and per layer its probabilities over the token positions, row-major
 * [height * width][tokens], averaged over the layer's heads; optionally `eot`, the end token's
 * position (for methods that keep only the prompt's words in a softmax), and per layer `heads`, the
 * probabilities of each head [heads][height * width * tokens] (for a method that averages over every
 * head of several layers whose head counts differ; with equal counts the averages give the same).
 */
import { z } from 'zod';

const layerSchema = z
  .object({
    name: z.string().min(1),
    height: z.number().int().min(1),
    width: z.number().int().min(1),
    tokens: z.number().int().min(1),
    probs: z.array(z.number()),
    heads: z.array(z.array(z.number())).min(1).optional(),
  })
  .superRefine((l, ctx) => {
    const size = l.height * l.width * l.tokens;
    if (l.probs.length !== size) ctx.addIssue({ code: 'custom', path: ['probs'], message: 'probs must hold height * width * tokens values' });
    l.heads?.forEach((h, k) => {
      if (h.length !== size) ctx.addIssue({ code: 'custom', path: ['heads', k], message: 'each head must hold height * width * tokens values' });
    });
  });

export const mapsFileSchema = z
  .object({
    objects: z.array(z.object({ name: z.string(), tokens: z.array(z.number().int().min(0)).min(1) })).min(1),
    layers: z.array(layerSchema).min(1),
    eot: z.number().int().min(1).optional(),
  })
  .superRefine((maps, ctx) => {
    const tokens = maps.layers[0]!.tokens;
    maps.layers.forEach((l, k) => {
      if (l.tokens !== tokens) ctx.addIssue({ code: 'custom', path: ['layers', k, 'tokens'], message: `every layer must have ${tokens} tokens` });
    });
    maps.objects.forEach((o, k) => {
      if (o.tokens.some((t) => t >= tokens))
        ctx.addIssue({ code: 'custom', path: ['objects', k, 'tokens'], message: `token positions must be below ${tokens}` });
    });
    if (maps.eot !== undefined && maps.eot >= tokens)
      ctx.addIssue({ code: 'custom', path: ['eot'], message: `the end token's position must be below ${tokens}` });
  });
export type MapsFile = z.output<typeof mapsFileSchema>;

/** The shape of a maps file a loss model is built for. */
export type MapsLayout = { layers: Array<Pick<MapsFile['layers'][number], 'name' | 'height' | 'width' | 'tokens'> & { heads?: unknown[] }> };

/** A layer's probabilities as the U-Net's attention hands them over, [heads, height * width, tokens] for one image: `heads` or else `probs` as one head. */
export function layerProbabilities(layer: MapsFile['layers'][number]): { data: Float32Array; dims: number[] } {
  const size = layer.height * layer.width;
  if (!layer.heads) return { data: Float32Array.from(layer.probs), dims: [1, size, layer.tokens] };
  return { data: Float32Array.from(layer.heads.flat()), dims: [layer.heads.length, size, layer.tokens] };
}
