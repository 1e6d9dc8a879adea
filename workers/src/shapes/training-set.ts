/**
 * The bundled model's training data, rendered by the project's own renderer so that the world has
 * one definition (training, prompts and detector read SHAPES_WORLD). Writes into a folder:
 *   images.u8     count x side x side x 3 bytes (rows top to bottom, RGB, 0..255)
 *   tokens.i32    count x maxLength little-endian int32 token ids, as the bundled tokenizer encodes
 *                 the captions (start, words, end, padding)
 *   meta.json     count, side, maxLength, seed, the captions and each scene's objects
 *   tokenizer/    the word-level tokenizer folder the model is shipped with
 * Usage: node --import tsx workers/src/shapes/training-set.ts --out DIR [--count N] [--seed S]
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadTokenizer } from '../text/tokenizer.ts';
import { writeWordLevelTokenizer } from '../text/word-level.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { Random } from '../util/random.ts';
import { CAPTION_WORDS, trainingCaption } from './captions.ts';
import { renderLayout, sampleLayout, type LabelledBox } from './render.ts';
import { classNames, SHAPES_WORLD, type ShapesWorld } from './world.ts';

/** Tokens per caption: the longest caption or VISOR-Shapes prompt has 8 words, plus start and end. */
export const BUNDLED_MAX_TOKENS = 12;

/** Objects per training scene, one to three, mostly two (the case VISOR prompts ask about). */
const OBJECT_COUNT_WEIGHTS: readonly [number, number][] = [
  [1, 0.2],
  [2, 0.6],
  [3, 0.2],
];

export function writeBundledTokenizer(dir: string, world: ShapesWorld = SHAPES_WORLD): void {
  writeWordLevelTokenizer(dir, [...classNames(world), ...CAPTION_WORDS], BUNDLED_MAX_TOKENS);
}

function objectCount(random: Random): number {
  let u = random.next();
  for (const [count, weight] of OBJECT_COUNT_WEIGHTS) {
    if (u < weight) return count;
    u -= weight;
  }
  return OBJECT_COUNT_WEIGHTS[OBJECT_COUNT_WEIGHTS.length - 1]![0];
}

export interface TrainingSetOptions {
  count: number;
  seed: number;
  world?: ShapesWorld;
}

export function writeTrainingSet(dir: string, { count, seed, world = SHAPES_WORLD }: TrainingSetOptions): void {
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${count}`);
  writeBundledTokenizer(join(dir, 'tokenizer'), world);
  const tokenizer = loadTokenizer(join(dir, 'tokenizer'));
  const side = world.imageSize;
  const images = new Uint8Array(count * side * side * 3);
  const tokens = new Int32Array(count * BUNDLED_MAX_TOKENS);
  const captions: string[] = [];
  const scenes: LabelledBox[][] = [];
  const random = new Random(seed);
  for (let i = 0; i < count; i++) {
    const scene = renderLayout(world, sampleLayout(world, random, { count: objectCount(random) }));
    scene.image.data.forEach((v, k) => (images[i * side * side * 3 + k] = Math.round(v * 255)));
    const caption = trainingCaption(scene.objects, random);
    const encoding = tokenizer.encode(caption, { length: BUNDLED_MAX_TOKENS });
    if (encoding.ids.length !== BUNDLED_MAX_TOKENS || encoding.truncated) throw new Error(`caption '${caption}' does not fit ${BUNDLED_MAX_TOKENS} tokens`);
    tokens.set(encoding.ids, i * BUNDLED_MAX_TOKENS);
    captions.push(caption);
    scenes.push(scene.objects);
  }
  writeFileAtomic(join(dir, 'images.u8'), images);
  writeFileAtomic(join(dir, 'tokens.i32'), new Uint8Array(tokens.buffer));
  writeFileAtomic(join(dir, 'meta.json'), JSON.stringify({ count, side, maxLength: BUNDLED_MAX_TOKENS, seed, captions, scenes }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, count: { type: 'string', default: '65536' }, seed: { type: 'string', default: '0' } } });
  if (!values.out) {
    console.error('usage: node --import tsx workers/src/shapes/training-set.ts --out DIR [--count N] [--seed S]');
    process.exit(2);
  }
  const started = performance.now();
  writeTrainingSet(resolve(values.out), { count: Number(values.count), seed: Number(values.seed) });
  console.log(`wrote ${values.count} scenes to ${values.out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
