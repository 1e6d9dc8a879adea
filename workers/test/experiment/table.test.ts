import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExperimentResult, ExperimentRow } from '../../src/experiment/run-experiment.ts';
import { experimentMarkdown } from '../../src/experiment/table.ts';

function row(
  name: string,
  method: string,
  cost: Pick<ExperimentRow, 'seconds_per_image' | 'unet_evaluations_per_image' | 'backward_passes_per_image'>,
): ExperimentRow {
  return {
    name,
    method,
    overrides: {},
    config_hash: '0'.repeat(64),
    images: 8,
    ...cost,
    aggregates: { OA: 90, VISOR_cond: 50 },
    intervals: { OA: [80, 95], VISOR_cond: [40, 60] },
  };
}

describe('experiment table', () => {
  test("each configuration's seconds (3 significant figures), U-Net evaluations and backward passes per image", () => {
    const result: ExperimentResult = {
      model: 'bundled',
      model_dir: '/m',
      benchmark: 'visor-shapes',
      prompts_file: 'p.json',
      prompts: 4,
      images_per_prompt: 2,
      seed: 42,
      device: 'cpu',
      detector: 'shapes',
      threshold: 0.1,
      notes: [],
      rows: [
        row('baseline', 'baseline', { seconds_per_image: 0.004123, unet_evaluations_per_image: 40, backward_passes_per_image: 0 }),
        row('ae', 'attend-and-excite', { seconds_per_image: 13.46, unet_evaluations_per_image: 47.25, backward_passes_per_image: 7.25 }),
      ],
    };
    const lines = experimentMarkdown(result).split('\n');
    const head = lines.findIndex((l) => l.startsWith('| configuration'));
    assert.match(lines[head]!, /\| s \/ image \| U-Net evaluations \/ image \| backward passes \/ image \|$/);
    assert.match(lines[head + 2]!, /^\| baseline \| .* \| 0\.00412 \| 40 \| 0 \|$/);
    assert.match(lines[head + 3]!, /^\| ae \| .* \| 13\.5 \| 47\.3 \| 7\.3 \|$/);
  });
});
