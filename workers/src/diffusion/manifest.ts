/**
 * manifest.json beside generated images: the canonical configuration and its hash, the model,
 * device, and per image its timing, cost and guidance trace. It is rewritten after every batch, so an
 * interrupted run loses at most one batch, and `--resume` continues it.
 *
 * Per image (`images[]`):
 *   prompt, index, file   the prompt id, the image index, `{prompt}_{index}.png`
 *   ms                    wall milliseconds: its batch's time over the batch's size
 *   guided                whether the method's loss guided it (false: baseline, single-object prompt)
 *   loss                  the loss at every step that evaluated it (InfSplign: each guided step; a
 *                         latent-updating method: each step's first evaluation, before its updates)
 *   steps                 the 0-based steps of `loss` (absent when nothing was evaluated)
 *   centroids             per entry of `loss`, [[x1, y1], [x2, y2]], the objects' attention centroids
 *                         averaged over layers, for methods that compute them (InfSplign); else []
 *   cost                  { unet_evaluations, backward_passes, seconds } (diffusion/cost.ts): U-Net
 *                         forward passes over the image (a CFG pair is 2), backward passes of a loss
 *                         through the U-Net, and `ms` in seconds. The device is the manifest's `device`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CanonicalConfig } from '../contracts/run-config.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { ImageCost } from './cost.ts';

export interface ImageRecord {
  prompt: number;
  index: number;
  file: string;
  /** Wall time per image of its batch. */
  ms: number;
  guided: boolean;
  /** The image's loss at every step that evaluated it. */
  loss: number[];
  /** The steps of `loss`. */
  steps?: number[];
  /** Per entry of `loss`: [[x1, y1], [x2, y2]], the objects' centroids averaged over layers (InfSplign); [] for other methods. */
  centroids: number[][][];
  /** What the image cost (missing in manifests written before costs were recorded). */
  cost?: ImageCost;
}

export interface Manifest {
  config: CanonicalConfig;
  config_hash: string;
  model: { dir: string; family: string; unet_sha256: string };
  device: string;
  provider: string;
  seed: number;
  images: ImageRecord[];
  /** Prompts that could not be generated, with the reason. */
  failures: Array<{ prompt: number; reason: string }>;
}

export const MANIFEST_FILE = 'manifest.json';

/**
 * The manifest to continue, when resuming a run of the same configuration. Resuming into a folder
 * made with another configuration is refused rather than mixing images of two methods.
 */
export function readManifest(dir: string, configHash: string, seed: number, resume: boolean): Manifest | null {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return null;
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  if (!resume) throw new Error(`${path} exists: pass --resume to continue that run, or choose another --out`);
  if (manifest.config_hash !== configHash)
    throw new Error(`${path} was made with another configuration (hash ${manifest.config_hash.slice(0, 12)}…); --resume needs the same one`);
  if (manifest.seed !== seed) throw new Error(`${path} was made with seed ${manifest.seed}; --resume needs the same seed, got ${seed}`);
  return { ...manifest, failures: [] };
}

export function writeManifest(dir: string, manifest: Manifest): void {
  const images = [...manifest.images].sort((a, b) => a.prompt - b.prompt || a.index - b.index);
  writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify({ ...manifest, images }, null, 1)}\n`);
}
