/**
 * npm run bench:generate — first what every registered method costs per image (method-cost.ts:
 * seconds, U-Net evaluations and backward passes per image through the real sampling loop, at batch
 * 1 and 2, a few steps, on the SD-2.1-shaped U-Net with a 32x32 latent), then the per-step cost of
 * InfSplign guidance in the sampling loop (issue 5), on
 * the tiny test model and on U-Nets with Stable Diffusion 2.1's block structure at reduced width
 * (make_sd21_like_unet.py, generated on first use into .cache/bench/, which needs Debian's
 * python3-torch; the rest of those folders, text encoder and tokenizer included, is written here).
 *
 * A step is timed as the pipeline (workers/src/diffusion/pipeline.ts) runs it, on the sessions it
 * uses, at a mid-schedule timestep:
 *   unguided (CFG):  plain U-Net on the unconditional half, then on the conditional half;
 *   guided:          plain U-Net on the unconditional half, then the prepared guided U-Net (eps,
 *                    loss and d loss / d latent) on the conditional half.
 * Inputs are real: the folder's text encoder on two-object prompts with a relation ("an apple to
 * the left of a tree", "a box above a lemon"), token weights from objectTokenSpans, latents from the
 * noise streams. Each (model, threads, batch) runs in its own child process: it opens the plain
 * U-Net and warms up (peak RSS of the unguided sampler), opens the guided U-Net, then alternates
 * unguided and guided steps, so that both see the same load on a shared machine, and reports
 * medians, the median per-pair ratio (wall and CPU time) and the final peak RSS. The guided U-Net is
 * prepared (and cached) by the parent first, so the children only load it.
 *
 * Environment: BENCH_PARTS (methods, steps or both, default both), BENCH_METHOD_STEPS (default 10),
 * BENCH_RUNS (default 7), BENCH_THREADS (default 1,2), BENCH_BATCHES (default 1,2),
 * BENCH_MODELS (comma list of tiny, sd21-32, sd21-64; default all), BENCH_PROFILE=1 adds an ONNX
 * Runtime profile of both steps per child (op types by time, the guided step's forward, loss and
 * backward parts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaultParams, resolveParams, type MethodParams } from '../src/contracts/method-params.ts';
import { float32Data } from '../src/diffusion/float-data.ts';
import { readModelFolder, type ModelFolder } from '../src/diffusion/model-folder.ts';
import { noiseStream } from '../src/diffusion/noise.ts';
import { createSession } from '../src/diffusion/providers.ts';
import { parseSchedulerConfig } from '../src/diffusion/schedulers/config.ts';
import { createScheduler } from '../src/diffusion/schedulers/scheduler.ts';
import { encodePrompts, type PromptEncoding } from '../src/diffusion/text-encoder.ts';
import { GUIDED_IO, prepareGuidedUnet, type PreparedGuidance } from '../src/guidance/prepare.ts';
import { DEFAULT_CACHE_MAX_BYTES, type GuidedCache } from '../src/guidance/guided-cache.ts';
import { lossValueFeeds } from '../src/guidance/loss-evaluation.ts';
import { relationOneHot, RELATIONS } from '../src/guidance/relations.ts';
import { objectTokenSpans, tokenWeights } from '../src/guidance/token-spans.ts';
import type { Relation } from '../src/prompts/types.ts';
import { REPO_ROOT } from '../test/onnx/support/reference.ts';
import { SD_SCHEDULER_CONFIG, textEncoderModel, writeJson, writeModel, writeWordLevelTokenizer } from '../test/support/model-parts.ts';
import { buildTinyModelFolder, TINY_WORDS } from '../test/support/tiny-model.ts';
import { measureMethodCosts, methodCostTable } from './method-cost.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const WARMUP = 2;
const list = (value: string | undefined, fallback: string) =>
  (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const THREADS = list(process.env.BENCH_THREADS, '1,2').map(Number);
const BATCHES = list(process.env.BENCH_BATCHES, '1,2').map(Number);
const PROFILE = process.env.BENCH_PROFILE === '1';
const PARTS = list(process.env.BENCH_PARTS, 'methods,steps');
const METHOD_STEPS = Number(process.env.BENCH_METHOD_STEPS ?? 10);
const BENCH_DIR = join(REPO_ROOT, '.cache/bench');

const PROMPTS: Array<{ text: string; objects: [string, string]; relation: Relation }> = [
  { text: 'an apple to the left of a tree', objects: ['apple', 'tree'], relation: 'left of' },
  { text: 'a box above a lemon', objects: ['box', 'lemon'], relation: 'above' },
];

// ---------------------------------------------------------------------------------------------
// Model folders

interface BenchModel {
  key: string;
  label: string;
  /** Builds the folder if needed; null when it cannot be built here. */
  folder: () => string | null;
}

function tinyFolder(): string {
  const dir = join(BENCH_DIR, 'generate-tiny');
  if (!existsSync(join(dir, 'infsplign.json'))) buildTinyModelFolder(dir);
  return dir;
}

const SD21_CHANNELS = '32,64,128,128';
const SD21_CONTEXT = 128;
const SD21_TOKENS = 77;

/**
 * A pixel-space `custom` folder around make_sd21_like_unet.py's U-Net: a word-level tokenizer of 77
 * tokens over the tiny model's words, a seeded embedding + tanh text encoder 128 wide, SD's DDPM
 * scheduler, and infsplign.json with SD's cfg_scale and default layers (docs/method.md §2.1) and map_size 64.
 */
function sd21Folder(side: number): string | null {
  const dir = join(BENCH_DIR, `generate-sd21-like-${side}px-${SD21_CHANNELS.replace(/,/g, '-')}`);
  if (existsSync(join(dir, 'infsplign.json')) && existsSync(join(dir, 'attend-and-excite.json'))) return dir;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'unet/model.onnx'))) {
    try {
      console.log(`generating the SD-2.1-shaped U-Net (${side}x${side} latent) with /usr/bin/python3 (Debian python3-torch) ...`);
      execFileSync(
        '/usr/bin/python3',
        [join(import.meta.dirname, 'make_sd21_like_unet.py'), dir, String(side), SD21_CHANNELS, String(SD21_CONTEXT), String(SD21_TOKENS)],
        { stdio: ['ignore', 'inherit', 'ignore'] },
      );
    } catch {
      console.log("could not generate it: install Debian's python3-torch (apt-get install -y python3-torch python3-onnx) and rerun");
      return null;
    }
  }
  writeModel(
    join(dir, 'text_encoder/model.onnx'),
    textEncoderModel({ vocabSize: 4 + TINY_WORDS.length, tokens: SD21_TOKENS, width: SD21_CONTEXT, seed: 21, layers: 1 }),
  );
  writeWordLevelTokenizer(join(dir, 'tokenizer'), TINY_WORDS, SD21_TOKENS);
  writeJson(join(dir, 'scheduler/scheduler_config.json'), SD_SCHEDULER_CONFIG);
  writeJson(join(dir, 'model_index.json'), {
    _class_name: 'InfSplignBenchSd21LikePipeline',
    _diffusers_version: '0.30.0',
    scheduler: ['diffusers', 'DDPMScheduler'],
    text_encoder: ['diffusers', 'OnnxRuntimeModel'],
    tokenizer: ['infsplign', 'WordLevelTokenizer'],
    unet: ['diffusers', 'OnnxRuntimeModel'],
  });
  writeJson(join(dir, 'infsplign.json'), { cfg_scale: 7.5, layers: defaultParams('sd2').layers, map_size: 64 });
  // Attend-and-Excite's maps at width / 32 (its 16 x 16 of SD at 512 px) and SD 2.x's normalize_eot (docs/method.md §6.2).
  writeJson(join(dir, 'attend-and-excite.json'), { attention_res: (side * 8) / 32, normalize_eot: true });
  return dir;
}

const MODELS: BenchModel[] = [
  { key: 'tiny', label: 'tiny (fixture U-Net, 8x8, 2 attn layers)', folder: tinyFolder },
  { key: 'sd21-32', label: `SD2.1-shaped ${SD21_CHANNELS}, 32x32 latent`, folder: () => sd21Folder(32) },
  { key: 'sd21-64', label: `SD2.1-shaped ${SD21_CHANNELS}, 64x64 latent`, folder: () => sd21Folder(64) },
];

function benchParams(folder: ModelFolder): MethodParams {
  return resolveParams({ ...defaultParams(folder.family), ...folder.defaultParams }, {});
}

function guidedCacheDir(): string {
  return join(BENCH_DIR, 'guided');
}

const guidedCache = (): GuidedCache => ({ dir: guidedCacheDir(), maxBytes: DEFAULT_CACHE_MAX_BYTES });

/** The guided U-Net, unpinned at once: the bench's cache is never over its bound. */
function prepare(folder: ModelFolder, params: MethodParams): PreparedGuidance {
  const { height, width } = folder.unet.latent;
  const prepared = prepareGuidedUnet(
    folder.unet.file,
    { layers: params.layers, params, latentHeight: height, latentWidth: width, latentInput: folder.unet.sample.name },
    guidedCache(),
  );
  prepared.unpin();
  return prepared;
}

// ---------------------------------------------------------------------------------------------
// Child: one model, thread count and batch size

interface OpTime {
  op: string;
  plainMs: number;
  guidedMs: number;
}

interface ChildResult {
  unguidedMs: number;
  guidedMs: number;
  /** Median of guided / unguided over interleaved pairs of steps (wall time). */
  ratio: number;
  /** The same with the process's CPU time (user + system, all threads). */
  cpuRatio: number;
  plainHalfMs: number;
  guidedHalfMs: number;
  guidedOpenMs: number;
  /** The guided U-Net's first run (allocation, weight pre-packing). */
  coldGuidedMs: number;
  unguidedPeakMb: number;
  guidedPeakMb: number;
  load: number[];
  profile?: { ops: OpTime[]; parts: Record<string, number> };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function rows(encoding: PromptEncoding, indices: number[]): ort.Tensor {
  const [, tokens, dim] = encoding.dims;
  const size = tokens * dim;
  const out = new Float32Array(indices.length * size);
  indices.forEach((r, k) => out.set(encoding.embeddings.subarray(r * size, (r + 1) * size), k * size));
  return new ort.Tensor('float32', out, [indices.length, tokens, dim]);
}

/**
 * Sums the kernel times of an ONNX Runtime profile per op type and per part of the graph (forward,
 * loss, backward by node name), per run, over the session's runs after its first `skip` (the cold
 * ones, which allocate and pre-pack).
 */
function readProfile(file: string, skip: number): { ops: Map<string, number>; parts: Map<string, number>; runs: number } {
  type Shapes = Array<Record<string, number[]>>;
  const events = JSON.parse(readFileSync(file, 'utf8')) as Array<{
    cat: string;
    name: string;
    ts: number;
    dur: number;
    args?: { op_name?: string; input_type_shape?: Shapes; output_type_shape?: Shapes };
  }>;
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const counted = runs.slice(skip);
  if (counted.length === 0) throw new Error(`bench: ${file} has ${runs.length} runs, none after the first ${skip}`);
  const from = counted[0]!.ts;
  const ops = new Map<string, number>();
  const parts = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name || e.ts < from) continue;
    const ms = e.dur / 1000 / counted.length;
    ops.set(e.args.op_name, (ops.get(e.args.op_name) ?? 0) + ms);
    const node = e.name.replace(/_kernel_time$/, '');
    const part = /(^|\/)grad\//.test(node) || node.startsWith('grad_') ? 'backward' : /infsplign_loss/.test(node) ? 'loss' : 'forward';
    parts.set(part, (parts.get(part) ?? 0) + ms);
    if (e.args.op_name === 'ReduceSum') {
      // A ReduceSum whose output has its input's shape (over no axis, or only over size-1 axes) sums nothing.
      const shape = (s?: Shapes) => JSON.stringify(s?.[0] ? Object.values(s[0])[0] : null);
      if (shape(e.args.input_type_shape) === shape(e.args.output_type_shape))
        parts.set('shape-preserving ReduceSum', (parts.get('shape-preserving ReduceSum') ?? 0) + ms);
    }
  }
  return { ops, parts, runs: counted.length };
}

async function child(dir: string, threads: number, batch: number): Promise<ChildResult> {
  const folder = readModelFolder(dir);
  const params = benchParams(folder);
  const prepared = prepare(folder, params); // a cache hit: the parent prepared it
  const prompts = Array.from({ length: batch }, (_, b) => PROMPTS[b % PROMPTS.length]!);
  const cond = await encodePrompts(
    folder,
    prompts.map((p) => p.text),
    'cpu',
  );
  const uncond = await encodePrompts(folder, [''], 'cpu', { zeros: folder.zeroUnconditional });
  const condRows = rows(
    cond,
    prompts.map((_, b) => b),
  );
  const uncondRows = rows(
    uncond,
    prompts.map(() => 0),
  );

  const { channels, height, width } = folder.unet.latent;
  const size = channels * height * width;
  const scheduler = createScheduler(params.scheduler, parseSchedulerConfig(folder.scheduler.config, folder.scheduler.file), params.steps);
  const step = Math.floor(scheduler.timesteps.length / 2);
  const t = scheduler.timesteps[step]!;
  const latent = new Float32Array(batch * size);
  prompts.forEach((_, b) => latent.set(scheduler.scaleModelInput(noiseStream(42, b).normal(size), step), b * size));
  const timestep = folder.unet.timestep;
  const count = timestep.dims?.length === 1 && timestep.dims[0] === 1 ? 1 : batch;
  if (timestep.type !== 'int64') throw new Error(`bench: expected an int64 timestep, ${folder.unet.file} has ${timestep.type}`);
  const common = {
    [folder.unet.sample.name]: new ort.Tensor('float32', latent, [batch, channels, height, width]),
    [folder.unet.timestep.name]: new ort.Tensor('int64', new BigInt64Array(count).fill(BigInt(t)), [count]),
  };
  const weights = new Float32Array(batch * 2 * prepared.tokens);
  const relation = new Float32Array(batch * RELATIONS.length);
  prompts.forEach((p, b) => {
    const spans = objectTokenSpans(cond.tokenizer, cond.encodings[b]!, p.objects, params.object_tokens, params.token_alignment);
    weights.set(tokenWeights(spans, prepared.tokens), b * 2 * prepared.tokens);
    relation.set(relationOneHot(p.relation), b * RELATIONS.length);
  });
  const guidedExtra = {
    [GUIDED_IO.tokenWeights]: new ort.Tensor('float32', weights, [batch, 2, prepared.tokens]),
    [GUIDED_IO.relation]: new ort.Tensor('float32', relation, [batch, RELATIONS.length]),
    [GUIDED_IO.promptWeight]: new ort.Tensor('float32', new Float32Array(batch).fill(1), [batch]),
    ...lossValueFeeds(params, (name) => GUIDED_IO.values[name]),
  };
  const profileDir = PROFILE ? mkdtempSync(join(tmpdir(), 'bench-generate-profile-')) : null;
  const options = (prefix: string): ort.InferenceSession.SessionOptions => ({
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    ...(profileDir ? { enableProfiling: true, profileFilePrefix: join(profileDir, prefix) } : {}),
  });
  const load = [loadavg()[0]!];

  const plain = await createSession(folder.unet.file, 'cpu', options('plain'));
  const half = async (session: ort.InferenceSession, embeddings: ort.Tensor, extra: Record<string, ort.Tensor> = {}) => {
    const t0 = performance.now();
    const out = await session.run({ ...common, [folder.unet.encoderHiddenStates.name]: embeddings, ...extra });
    const ms = performance.now() - t0;
    float32Data(out[folder.unet.prediction.name]!, 'the U-Net output');
    return { out, ms };
  };
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  /** One CFG step without guidance: wall ms, the process's CPU ms, and the conditional half's wall ms. */
  const unguidedStep = async () => {
    const cpu = cpuMs();
    const u = await half(plain, uncondRows);
    const c = await half(plain, condRows);
    return { ms: u.ms + c.ms, cpu: cpuMs() - cpu, half: c.ms };
  };
  for (let i = 0; i < WARMUP; i++) await unguidedStep();
  const unguidedPeakMb = process.resourceUsage().maxRSS / 1024;

  const t0 = performance.now();
  const guidedSession = await createSession(prepared.path, 'cpu', options('guided'));
  const guidedOpenMs = performance.now() - t0;
  const guidedStep = async () => {
    const cpu = cpuMs();
    const u = await half(plain, uncondRows);
    const g = await half(guidedSession, condRows, guidedExtra);
    const spent = cpuMs() - cpu;
    const loss = g.out[GUIDED_IO.loss]!.data as Float32Array;
    const gradient = float32Data(g.out[prepared.gradient]!, 'the latent gradient');
    if (!Number.isFinite(loss[0]!) || !gradient.every(Number.isFinite)) throw new Error('bench: the guided U-Net gave a non-finite loss or gradient');
    return { ms: u.ms + g.ms, cpu: spent, half: g.ms };
  };
  const coldGuidedMs = (await guidedStep()).half;
  for (let i = 1; i < WARMUP; i++) await guidedStep();
  // Unguided and guided steps alternate, so that both see the same load on a shared machine; the
  // ratio is the median of the per-pair ratios.
  const pairs: Array<{ u: Awaited<ReturnType<typeof unguidedStep>>; g: Awaited<ReturnType<typeof guidedStep>> }> = [];
  for (let i = 0; i < RUNS; i++) pairs.push({ u: await unguidedStep(), g: await guidedStep() });
  const guidedPeakMb = process.resourceUsage().maxRSS / 1024;
  load.push(loadavg()[0]!);

  const result: ChildResult = {
    unguidedMs: median(pairs.map((p) => p.u.ms)),
    guidedMs: median(pairs.map((p) => p.g.ms)),
    ratio: median(pairs.map((p) => p.g.ms / p.u.ms)),
    cpuRatio: median(pairs.map((p) => p.g.cpu / p.u.cpu)),
    plainHalfMs: median(pairs.map((p) => p.u.half)),
    guidedHalfMs: median(pairs.map((p) => p.g.half)),
    guidedOpenMs,
    coldGuidedMs,
    unguidedPeakMb,
    guidedPeakMb,
    load,
  };
  if (profileDir) {
    // The warm-up runs are left out: the plain session's unguided warm-up (2 runs a step), the guided session's own.
    const plainProfile = readProfile(await profileFile(plain, profileDir, 'plain'), 2 * WARMUP);
    const guidedProfile = readProfile(await profileFile(guidedSession, profileDir, 'guided'), WARMUP);
    const opNames = new Set([...plainProfile.ops.keys(), ...guidedProfile.ops.keys()]);
    result.profile = {
      ops: [...opNames]
        .map((op) => ({ op, plainMs: plainProfile.ops.get(op) ?? 0, guidedMs: guidedProfile.ops.get(op) ?? 0 }))
        .sort((a, b) => b.guidedMs - b.plainMs - (a.guidedMs - a.plainMs)),
      parts: Object.fromEntries(guidedProfile.parts),
    };
    rmSync(profileDir, { recursive: true, force: true });
  }
  return result;
}

/** Ends a session's profile and finds its file in `dir` by the session's prefix. */
async function profileFile(session: ort.InferenceSession, dir: string, prefix: string): Promise<string> {
  session.endProfiling();
  const file = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.json'));
  if (!file) throw new Error(`bench: no ${prefix} profile in ${dir}`);
  return join(dir, file);
}

// ---------------------------------------------------------------------------------------------
// Parent

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

async function parent(): Promise<void> {
  if (PARTS.includes('methods')) await methodsPart();
  if (PARTS.includes('steps')) await stepsPart();
}

/** Every registered method's cost per image on the SD-2.1-shaped U-Net (32 x 32 latent), at each of BENCH_BATCHES. */
async function methodsPart(): Promise<void> {
  const model = MODELS.find((m) => m.key === 'sd21-32')!;
  const dir = model.folder();
  if (!dir) {
    console.log(`methods: skipped (no ${model.label} folder)`);
    return;
  }
  console.log(`bench:generate methods — every registered method, ${METHOD_STEPS} steps, batches ${BATCHES.join(', ')}; ${process.env.BENCH_NOTE ?? ''}`);
  const prompts = PROMPTS.map((p, id) => ({ id, text: p.text, objects: p.objects, relation: p.relation }));
  const rows = await measureMethodCosts(dir, prompts, { batches: BATCHES, steps: METHOD_STEPS, cache: guidedCache() });
  console.log(`\n${methodCostTable(model.label, rows)}\n`);
  console.log("s / image: the second batch's wall time over its images (the first warms the sessions); evaluations and backward passes: the");
  console.log("pipeline's counters (diffusion/cost.ts), mean over every image. A schedule tied to steps (refinement at 0/10/20) is cut at the last step.\n");
}

/** The per-step cost of InfSplign guidance, per model, thread count and batch size. */
async function stepsPart(): Promise<void> {
  const wanted = list(process.env.BENCH_MODELS, MODELS.map((m) => m.key).join(','));
  const models = MODELS.filter((m) => wanted.includes(m.key));
  console.log(
    `bench:generate — median of ${RUNS} steps after ${WARMUP} warm-up steps; onnxruntime-node ${ort.env.versions.common} CPU; ${process.env.BENCH_NOTE ?? ''}`,
  );
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const table: string[] = [];
  const profiles: string[] = [];
  const header = [
    'model',
    'threads',
    'batch',
    'unguided step ms (CFG)',
    'guided step ms',
    'ratio',
    'ratio (CPU time)',
    'plain U-Net half ms',
    'guided U-Net half ms',
    'peak RSS unguided MB',
    'peak RSS guided MB',
    'open guided s',
    'first guided run s',
    'load 1-min',
  ];
  table.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
  for (const model of models) {
    const dir = model.folder();
    if (!dir) {
      table.push(`| ${model.label} | skipped (no model folder) |`);
      continue;
    }
    const folder = readModelFolder(dir);
    const params = benchParams(folder);
    const t0 = performance.now();
    const prepared = prepare(folder, params);
    const prepareMs = performance.now() - t0;
    console.log(
      `${model.label}: ${prepared.layers.length} guided layers (${prepared.layers.map((l) => `${l.name} ${l.height}x${l.width}`).join(', ')}); guided U-Net ready in ${(prepareMs / 1000).toFixed(1)} s (cache ${guidedCacheDir()})`,
    );
    for (const threads of THREADS) {
      for (const batch of BATCHES) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', dir, String(threads), String(batch)], {
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        });
        if (r.status !== 0) throw new Error(`benchmark child failed (${model.key}, ${threads} threads, batch ${batch}): ${r.stderr}`);
        const c = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
        const row = [
          model.label,
          threads,
          batch,
          fmt(c.unguidedMs),
          fmt(c.guidedMs),
          c.ratio.toFixed(2),
          c.cpuRatio.toFixed(2),
          fmt(c.plainHalfMs),
          fmt(c.guidedHalfMs),
          c.unguidedPeakMb.toFixed(0),
          c.guidedPeakMb.toFixed(0),
          (c.guidedOpenMs / 1000).toFixed(1),
          (c.coldGuidedMs / 1000).toFixed(1),
          c.load.map((l) => l.toFixed(1)).join('→'),
        ];
        table.push(`| ${row.join(' | ')} |`);
        console.log(table[table.length - 1]);
        if (c.profile) profiles.push(formatProfile(`${model.label}, ${threads} thread(s), batch ${batch}`, c));
      }
    }
  }
  console.log(`\n${table.join('\n')}`);
  console.log('\nunguided step = plain U-Net on the unconditional half + plain U-Net on the conditional half (2 session.run, as the pipeline);');
  console.log('guided step = plain U-Net on the unconditional half + guided U-Net (eps, loss, d loss/d latent) on the conditional half;');
  console.log(
    'the two alternate; ratio = median over the pairs of guided / unguided wall time (target <= 2.0 on the SD-2.1-shaped model); ratio (CPU time) uses',
  );
  console.log('the process CPU time instead, which a loaded machine disturbs less at 1 thread (at 2 threads it counts spin-waiting too).');
  console.log('peak RSS: after the unguided warm-up (plain session only), and at the end (plain and guided sessions open, as in the pipeline).');
  console.log('open guided s: creating the guided session from the cached prepared model (ONNX Runtime graph optimisation); first guided run: its cold run.');
  if (PROFILE)
    console.log("BENCH_PROFILE=1: profiling slows every run (per-node events), so the times above are not the benchmark's figures; rerun without it.");
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const p of profiles) console.log(`\n${p}`);
}

function formatProfile(title: string, c: ChildResult): string {
  const p = c.profile!;
  const { 'shape-preserving ReduceSum': noop = 0, ...parts } = p.parts;
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  const lines = [
    `ONNX Runtime profile, ${title}: kernel ms per U-Net run after warm-up (plain half vs guided half)`,
    `guided half by part: ${Object.entries(parts)
      .map(([k, v]) => `${k} ${fmt(v)} ms (${((100 * v) / total).toFixed(0)}%)`)
      .join(', ')}; ReduceSum nodes whose output keeps the input's shape: ${fmt(noop)} ms`,
    '| op | plain ms | guided ms | extra ms | share of extra |',
    '|---|---|---|---|---|',
  ];
  const extra = p.ops.reduce((a, o) => a + (o.guidedMs - o.plainMs), 0);
  for (const o of p.ops.slice(0, 15))
    lines.push(
      `| ${o.op} | ${fmt(o.plainMs)} | ${fmt(o.guidedMs)} | ${fmt(o.guidedMs - o.plainMs)} | ${((100 * (o.guidedMs - o.plainMs)) / extra).toFixed(0)}% |`,
    );
  lines.push(`| (all ops) | ${fmt(p.ops.reduce((a, o) => a + o.plainMs, 0))} | ${fmt(p.ops.reduce((a, o) => a + o.guidedMs, 0))} | ${fmt(extra)} | 100% |`);
  return lines.join('\n');
}

const args = process.argv.slice(2);
if (args[0] === '--child') console.log(JSON.stringify(await child(args[1]!, Number(args[2]), Number(args[3]))));
else await parent();
