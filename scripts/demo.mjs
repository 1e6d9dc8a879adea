#!/usr/bin/env node
// npm run demo — shows what the platform can do so far: the ONNX engine (inspect a U-Net exported
// by PyTorch, differentiate it, check the gradient against PyTorch's) and the benchmark scoring
// (Shapes scenes detected and scored by the VISOR rules). What is not built yet is named at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensurePrismaClient } from './db/generate.mjs';
import { ensureDependencies } from './ensure-deps.mjs';

const root = resolve(import.meta.dirname, '..');
ensureDependencies();
ensurePrismaClient();

function step(title, args) {
  console.log(`\n=== ${title}\n$ ${args.join(' ')}`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo step failed: ${title}`);
    process.exit(r.status ?? 1);
  }
}

const fixture = join(root, '../shared/fixtures/torch-unet');
const work = mkdtempSync(join(tmpdir(), 'infsplign-demo-'));
const out = join(work, 'unet_loss.grad.onnx');
const cli = join(root, 'workers/bin/infsplign.mjs');
step('Inspect a U-Net exported by PyTorch: its cross-attention maps', [cli, 'onnx', 'inspect', '--model', join(fixture, 'unet.onnx')]);
step('Differentiate its attention loss with respect to the latent', [cli, 'onnx', 'grad', '--model', join(fixture, 'unet_loss.onnx'), '--of', 'loss', '--wrt', 'sample', '--out', out]);
step('Run the differentiated graph in onnxruntime and compare with PyTorch autograd', ['--import', 'tsx', join(root, 'workers/src/demo/check-gradient.ts'), out, fixture]);

step(
  'The bundled Shapes model: baseline and InfSplign on 16 VISOR-Shapes eval prompts x 2 images, generated, detected and scored',
  [cli, 'experiment', '--model', 'bundled', '--benchmark', 'visor-shapes', '--limit', '16', '--images-per-prompt', '2', '--out', join(work, 'experiment')],
);

console.log(`
The full table (240 prompts x 4 images) is in models/bundled/README.md.
Not built yet (see the open issues): the demo's wiring of the platform (API, worker, submissions and
the leaderboard) and the web app. When they land, this demo submits both runs through the API,
prints the leaderboard and leaves the web app up.`);
