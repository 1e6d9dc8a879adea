/**
 * bench:generate's method part: what every registered method costs per image through the real
 * sampling loop (diffusion/pipeline.ts `generate`, the code `infsplign generate` and the workers run):
 * wall seconds per image and, from the pipeline's own counters (diffusion/cost.ts), U-Net evaluations
 * and backward passes per image, at each batch size.
 *
 * Per (method, batch size B): the bench's two prompts, B images each, in batches of B. The first batch
 * warms the sessions (ONNX Runtime's first run allocates and pre-packs weights), so seconds are the
 * second batch's; evaluations and backward passes are the mean over every image (they depend on the
 * prompt and, for refinement, on the image, never on the clock). Few steps keep it short: a method's
 * step-dependent schedule (refinement at steps 0/10/20, updates before step 25) is cut where the
 * steps end, which the table's steps column says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveMethodParams } from '../src/contracts/model-defaults.ts';
import { readModelFolder } from '../src/diffusion/model-folder.ts';
import { generate, type GenerationPrompt } from '../src/diffusion/pipeline.ts';
import type { GuidedCache } from '../src/guidance/guided-cache.ts';
import { registeredMethods } from '../src/methods/registry.ts';

export interface MethodCostRow {
  method: string;
  batch: number;
  steps: number;
  secondsPerImage: number;
  unetEvaluationsPerImage: number;
  backwardPassesPerImage: number;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Every registered method at each batch size on the model folder `dir`, `steps` denoising steps. */
export async function measureMethodCosts(
  dir: string,
  prompts: readonly GenerationPrompt[],
  { batches, steps, cache }: { batches: readonly number[]; steps: number; cache: GuidedCache },
): Promise<MethodCostRow[]> {
  const folder = readModelFolder(dir);
  const rows: MethodCostRow[] = [];
  for (const method of registeredMethods()) {
    const params = resolveMethodParams(method, folder.family, folder.defaults, { steps }, `bench: ${method.name} on ${dir}`);
    for (const batch of batches) {
      const outDir = mkdtempSync(join(tmpdir(), 'bench-method-cost-'));
      try {
        const manifest = await generate({
          folder,
          prompts: [...prompts],
          method: method.name,
          params,
          seed: 42,
          imagesPerPrompt: batch,
          batchSize: batch,
          device: 'cpu',
          outDir,
          resume: false,
          cache,
        });
        if (manifest.failures.length > 0) throw new Error(`bench: ${method.name} could not generate: ${manifest.failures.map((f) => f.reason).join('; ')}`);
        const costs = manifest.images.map((image) => image.cost!);
        rows.push({
          method: method.name,
          batch,
          steps,
          secondsPerImage: mean(costs.slice(batch).map((c) => c.seconds)),
          unetEvaluationsPerImage: mean(costs.map((c) => c.unet_evaluations)),
          backwardPassesPerImage: mean(costs.map((c) => c.backward_passes)),
        });
        console.log(`  ${method.name}, batch ${batch}: ${rows.at(-1)!.secondsPerImage.toFixed(3)} s/image`);
      } finally {
        rmSync(outDir, { recursive: true, force: true });
      }
    }
  }
  return rows;
}

/** The rows as a Markdown table, with each method's seconds against the baseline's at the same batch size. */
export function methodCostTable(label: string, rows: readonly MethodCostRow[]): string {
  const baseline = new Map(rows.filter((r) => r.method === 'baseline').map((r) => [r.batch, r.secondsPerImage]));
  const count = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  const lines = [
    `Per method on ${label} (ONNX Runtime CPU, its default threads):`,
    '',
    '| method | batch | steps | s / image | × baseline | U-Net evaluations / image | backward passes / image |',
    '|---|--:|--:|--:|--:|--:|--:|',
    ...rows.map((r) => {
      const base = baseline.get(r.batch);
      return `| ${r.method} | ${r.batch} | ${r.steps} | ${r.secondsPerImage.toFixed(3)} | ${base ? (r.secondsPerImage / base).toFixed(2) : 'n/a'} | ${count(r.unetEvaluationsPerImage)} | ${count(r.backwardPassesPerImage)} |`;
    }),
  ];
  return lines.join('\n');
}
