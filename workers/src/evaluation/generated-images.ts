import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One generated image: image `image` (0-based) of prompt `prompt`. */
export interface GeneratedImage {
  prompt: number;
  image: number;
  path: string;
}

const IMAGE_NAME = /^(\d+)_(\d+)\.png$/;

/**
 * The images of a folder, named `{ID}_{K}.png` (prompt id, image index), in (prompt, image) order.
 * Anything that is not a PNG (notes, JSON, subfolders) is ignored. A PNG with any other name is an
 * error rather than skipped: it is almost surely a generated image that would silently go unscored.
 * Two names for the same image (`7_0.png`, `007_0.png`) and ids outside the prompt set are errors too.
 */
export function listGeneratedImages(dir: string, promptIds: ReadonlySet<number>, promptsSource: string): GeneratedImage[] {
  if (!existsSync(dir)) throw new Error(`${dir}: no such images folder`);
  if (!statSync(dir).isDirectory()) throw new Error(`${dir}: not a folder`);
  const byKey = new Map<string, GeneratedImage>();
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!name.toLowerCase().endsWith('.png') || statSync(path).isDirectory()) continue;
    const match = IMAGE_NAME.exec(name);
    if (!match) throw new Error(`${path}: images must be named {ID}_{K}.png (prompt id, underscore, image index), e.g. 12_0.png`);
    const prompt = Number(match[1]);
    const image = Number(match[2]);
    if (!promptIds.has(prompt)) throw new Error(`${path}: prompt ${prompt} is not in ${promptsSource}`);
    const key = `${prompt}_${image}`;
    const earlier = byKey.get(key);
    if (earlier) throw new Error(`${path}: prompt ${prompt} image ${image} is also ${earlier.path}`);
    byKey.set(key, { prompt, image, path });
  }
  if (byKey.size === 0) throw new Error(`${dir}: no images named {ID}_{K}.png`);
  return [...byKey.values()].sort((a, b) => a.prompt - b.prompt || a.image - b.image);
}
