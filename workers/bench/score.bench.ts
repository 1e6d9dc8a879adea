// Times `score` end to end on 100,000 detection lines per benchmark: read and validate the lines,
// score every image, bootstrap the intervals (1,000 resamples) and serialise RESULT.json.
// The issue's budget is 5 s. Run: npm run bench:score
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDetectionsFile } from '../src/evaluation/detections-file.ts';
import { scoreImages } from '../src/evaluation/score.ts';
import { loadPrompts, type PromptSet } from '../src/prompts/load.ts';
import { JSON_FILES_DIR, OFFICIAL_FILES } from '../src/prompts/official-files.ts';
import type { BenchmarkName } from '../src/prompts/types.ts';

const LINES = 100_000;
const BUDGET_MS = 5_000;
const PROMPT_FILES: [BenchmarkName, string][] = [
  ['visor', join(JSON_FILES_DIR, 'visor_prompts.json')],
  ['t2i', OFFICIAL_FILES.t2iSpatialVal],
  ['geneval', OFFICIAL_FILES.genevalMetadata],
];

/** Deterministic pseudo-random numbers (an LCG is plenty for made-up boxes). */
function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** LINES detection lines spread over the prompts: each image holds the prompt's objects and a distractor, at random places. */
function syntheticLines(set: PromptSet): string {
  const random = lcg(42);
  const box = () => {
    const [x, y] = [random() * 400, random() * 400];
    return [x, y, x + 20 + random() * 90, y + 20 + random() * 90].map((v) => Math.round(v * 10) / 10);
  };
  const lines: string[] = [];
  for (let i = 0; lines.length < LINES; i++) {
    const prompt = set.prompts[i % set.prompts.length];
    const image = Math.floor(i / set.prompts.length);
    const labels = [...prompt.objects, 'distractor'];
    const detections = labels.filter(() => random() < 0.8).map((label) => ({ label, score: Math.round(random() * 1000) / 1000, box: box() }));
    lines.push(JSON.stringify({ prompt: prompt.id, image, width: 512, height: 512, detections }));
  }
  return lines.join('\n');
}

const dir = mkdtempSync(join(tmpdir(), 'score-bench-'));
let overBudget = false;
try {
  for (const [benchmark, promptsPath] of PROMPT_FILES) {
    const set = loadPrompts(benchmark, promptsPath);
    const detectionsPath = join(dir, `${benchmark}.jsonl`);
    writeFileSync(detectionsPath, syntheticLines(set));

    const start = performance.now();
    const images = readDetectionsFile(detectionsPath, new Set(set.prompts.map((p) => p.id)), promptsPath);
    const result = scoreImages(benchmark, set, images);
    const bytes = JSON.stringify(result, null, 2).length;
    const ms = performance.now() - start;

    overBudget ||= ms > BUDGET_MS;
    console.log(
      `score ${benchmark.padEnd(7)} ${LINES.toLocaleString('en')} lines (${result.prompts_scored} prompts, ${(bytes / 1e6).toFixed(1)} MB result): ${(ms / 1000).toFixed(2)} s${ms > BUDGET_MS ? ` OVER the ${BUDGET_MS / 1000} s budget` : ''}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = overBudget ? 1 : 0;
