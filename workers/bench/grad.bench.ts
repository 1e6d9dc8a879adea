/**
 * npm run bench:grad — cost of a gradient relative to a forward pass, on graphs from PyTorch's
 * exporter: the committed test fixtures (opset 14 and 17) and, when it has been made, a larger one
 * (scripts/fixtures/bench-unet.sh makes it into .cache/bench/). For each model and thread count, one
 * child process times the forward model and the differentiated model (loss + d loss / d sample) in
 * turn, and reports their medians, the ratio, and the process's peak RSS after each phase.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { grad } from '../src/onnx/autodiff/grad.ts';
import { loadModel, serializeModel } from '../src/onnx/model-io.ts';
import { OPSET14_FIXTURE, OPSET17_FIXTURE, readReference, referenceFeeds, REPO_ROOT } from '../test/onnx/support/reference.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const WARMUP = 2;

interface ChildResult {
  forwardMs: number;
  gradMs: number;
  forwardPeakMb: number;
  gradPeakMb: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function child(dir: string, threads: number): Promise<ChildResult> {
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3 };
  const feeds = referenceFeeds(readReference(dir));
  const source = loadModel(join(dir, 'unet_loss.onnx'));
  const forward = await ort.InferenceSession.create(serializeModel(source), options);
  const forwardMs = await time(forward, feeds);
  const forwardPeakMb = process.resourceUsage().maxRSS / 1024;
  await forward.release();
  const backward = await ort.InferenceSession.create(serializeModel(grad(source, 'loss', ['sample']).model), options);
  const gradMs = await time(backward, feeds);
  return { forwardMs, gradMs, forwardPeakMb, gradPeakMb: process.resourceUsage().maxRSS / 1024 };
}

/** The larger model, when scripts/fixtures/bench-unet.sh has made it. */
function largeFixture(): string | null {
  const dir = join(REPO_ROOT, '.cache/bench/unet-opset17-32px-128x256');
  return existsSync(join(dir, 'ref.json')) ? dir : null;
}

async function parent(): Promise<void> {
  const models: Array<[string, string | null]> = [
    ['unet-opset14 (8x8 latent, channels 16,32)', OPSET14_FIXTURE],
    ['unet-opset17 (8x8 latent, channels 16,32)', OPSET17_FIXTURE],
    ['opset 17, 32x32 latent, channels 128,256', largeFixture()],
  ];
  console.log(`median of ${RUNS} runs after ${WARMUP} warm-up runs; batch 2; onnxruntime-node ${ort.env.versions.common} CPU\n`);
  console.log(['model', 'threads', 'forward ms', 'forward+grad ms', 'ratio', 'peak RSS fwd MB', 'peak RSS grad MB'].join(' | '));
  for (const [label, dir] of models) {
    if (!dir) {
      console.log(`${label} | skipped: no fixture (scripts/fixtures/bench-unet.sh makes it)`);
      continue;
    }
    for (const threads of [1, 2]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', dir, String(threads)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`benchmark child failed: ${r.stderr}`);
      const c = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
      console.log(
        [
          label,
          threads,
          c.forwardMs.toFixed(1),
          c.gradMs.toFixed(1),
          (c.gradMs / c.forwardMs).toFixed(2),
          c.forwardPeakMb.toFixed(0),
          c.gradPeakMb.toFixed(0),
        ].join(' | '),
      );
    }
  }
}

const args = process.argv.slice(2);
if (args[0] === '--child') console.log(JSON.stringify(await child(args[1]!, Number(args[2]))));
else await parent();
