/**
 * `infsplign guidance loss` and `guidance step` at their edges: unguided steps, JSON arrays and
 * explicit token positions, and bad input refused with a message naming what and where (exit 1; 2
 * for usage), nothing written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatNpy, readNpy } from '../../src/util/npy.ts';
import { buildSdLikeFolder, SD_LIKE_TOKENS } from '../support/sd-like-folders.ts';
import { runCli } from './run-cli.ts';

const OFFICIAL = join(import.meta.dirname, '../fixtures/infsplign-official');
const STEP = join(OFFICIAL, 'step');
const MAPS = join(OFFICIAL, 'maps_left.json');
const dir = mkdtempSync(join(tmpdir(), 'guidance-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const loss = (...args: string[]) => runCli(['guidance', 'loss', '--maps', MAPS, ...args]);

describe('guidance loss', () => {
  test('a step outside the guided ones is reported unguided', async () => {
    const run = await loss('--relation', 'to the left of', '--params', '{"sg_t_start": 5}', '--step', '3', '--steps', '50');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { guided: false, step: 3, guide_steps: [5, 50] });
  });

  test('refusals name the problem', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['--relation', 'and', '--params', '{"object_presence": true}'], 1, /--relation 'and': object_presence needs a relation the reference lists/],
      [
        ['--relation', 'to the left of', '--params', '{"update_latents": true}'],
        1,
        /--params: update_latents: 'update_latents' is refused: in the reference it only changes weights/,
      ],
      [['--relation', 'to the left of', '--params', '{"strategy": "maximum"}'], 1, /--params: strategy: "maximum" is not a strategy the reference knows/],
      [['--relation', 'behind'], 1, /--relation 'behind' is not a relation docs\/method.md knows/],
      [['--relation', 'to the left of', '--method', 'baseline'], 2, /--method must be a method with a loss \(infsplign(, [a-z-]+)*\), got 'baseline'/],
      [['--relation', 'to the left of', '--step', '50'], 2, /--step 50 is past the last step \(50 steps\)/],
      [['--relation', 'to the left of', '--step', '1.5'], 2, /--step must be an integer of at least 0/],
    ];
    for (const [args, code, message] of cases) {
      const run = await loss(...args);
      assert.equal(run.code, code, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    }
  });
});

describe('guidance step', () => {
  const common = ['--unet', join(STEP, 'unet.onnx'), '--prompt', 'a cat to the left of a dog', '--objects', 'cat,dog', '--relation', 'to the left of'];
  const inputs = [
    '--latent',
    join(STEP, 'left_defaults/latent.npy'),
    '--cond',
    join(STEP, 'left_defaults/cond.npy'),
    '--uncond',
    join(STEP, 'left_defaults/uncond.npy'),
  ];

  test('an unguided step is classifier-free guidance alone; arrays may be JSON lists, tokens given', async () => {
    const latent = readNpy(join(STEP, 'left_defaults/latent.npy'));
    const nested = [[0, 1, 2, 3].map((c) => Array.from({ length: 24 }, (_, y) => Array.from(latent.data.subarray((c * 24 + y) * 24, (c * 24 + y + 1) * 24))))];
    writeFileSync(join(dir, 'latent.json'), JSON.stringify(nested));
    const out = join(dir, 'unguided');
    const argv = [
      ...common,
      '--object-tokens',
      '[[2], [8]]',
      ...inputs.slice(2),
      '--latent',
      join(dir, 'latent.json'),
      '--params',
      '{"sg_t_start": 1}',
      '--out',
      out,
    ];
    const run = await runCli(['guidance', 'step', ...argv]);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as {
      guided: boolean;
      timestep: number;
      object_tokens: number[][];
      guide_steps: number[];
      grad: { shape: number[]; data: number[] };
    };
    assert.deepEqual([result.guided, result.timestep, result.object_tokens, result.guide_steps], [false, 999, [[2], [8]], [1, 50]]);
    assert.deepEqual(result.grad.shape, [1, 4, 24, 24]);
    assert.ok(result.grad.data.every((g) => g === 0));
    // the official step's unconditional and conditional predictions on these inputs, and the CFG combination of ours
    const [u, c, guided] = ['eps_uncond', 'eps_cond', 'eps_guided'].map((name) => readNpy(join(out, `${name}.npy`)).data);
    const official = ['eps_uncond', 'eps_cond'].map((name) => readNpy(join(STEP, 'left_defaults', `${name}.npy`)).data);
    u!.forEach((v, k) => {
      assert.ok(Math.abs(v - official[0]![k]!) <= 1e-5 && Math.abs(c![k]! - official[1]![k]!) <= 1e-5, `element ${k}`);
      assert.equal(guided![k], Math.fround(v + 7.5 * (c![k]! - v)));
    });
  });

  test('SDXL: the U-Net is given text_embeds and time_ids, encoded by the folder or from files', async () => {
    const folder = join(dir, 'sdxl');
    buildSdLikeFolder(folder, { family: 'sdxl', latentSide: 8 });
    const latent = join(dir, 'sdxl-latent.npy');
    const z = Float32Array.from({ length: 4 * 8 * 8 }, (_, k) => Math.sin(k));
    writeFileSync(latent, formatNpy({ shape: [1, 4, 8, 8], data: z }));
    const array = (name: string, shape: number[]) => {
      writeFileSync(join(dir, `${name}.npy`), formatNpy({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }));
      return join(dir, `${name}.npy`);
    };
    const files = [
      '--cond',
      array('xl-cond', [1, SD_LIKE_TOKENS, 2048]),
      '--uncond',
      array('xl-uncond', [1, SD_LIKE_TOKENS, 2048]),
      '--text-embeds',
      array('xl-te', [1, 1280]),
      '--uncond-text-embeds',
      array('xl-ute', [1, 1280]),
      '--time-ids',
      array('xl-ids', [1, 6]),
    ];
    // an unguided step (the stand-in U-Net has no attention to read): eps is the U-Net's output, here its input
    const common = [
      '--prompt',
      'a cat left of a dog',
      '--objects',
      'cat,dog',
      '--relation',
      'left of',
      '--latent',
      latent,
      '--params',
      '{"sg_t_start": 1, "steps": 2}',
    ];
    for (const args of [
      ['--model', folder],
      ['--unet', join(folder, 'unet/model.onnx'), '--family', 'sdxl', '--object-tokens', '[[2], [6]]', ...files],
    ]) {
      const run = await runCli(['guidance', 'step', ...args, ...common]);
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { guided: boolean; eps_guided: { data: number[] } };
      assert.equal(out.guided, false);
      assert.deepEqual(out.eps_guided.data, Array.from(z));
    }
    const missing = await runCli([
      'guidance',
      'step',
      '--unet',
      join(folder, 'unet/model.onnx'),
      '--object-tokens',
      '[[2], [6]]',
      ...files.slice(0, 4),
      ...common,
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /an SDXL U-Net needs --text-embeds/);
  });

  test('refusals name the problem; nothing is written', async () => {
    writeFileSync(join(dir, 'bad.json'), '[[1, 2], [3]]');
    const out = join(dir, 'refused');
    const cases: Array<[string[], number, RegExp]> = [
      [['--prompt', 'x', '--objects', 'a,b', '--relation', 'and', '--latent', 'l.npy'], 2, /missing --model or --unet/],
      [[...common, '--latent', join(STEP, 'left_defaults/latent.npy')], 2, /--unet needs --cond and --uncond/],
      [[...common, ...inputs], 2, /--unet needs --tokenizer or --object-tokens/],
      [
        [...common, ...inputs, '--object-tokens', '[[2], [80]]'],
        2,
        /--object-tokens must be \[\[subject positions\], \[reference positions\]\], each a non-empty list of token positions below 77/,
      ],
      [
        [...common, ...inputs.slice(2), '--latent', join(STEP, 'left_defaults/cond.npy'), '--object-tokens', '[[2], [8]]'],
        1,
        /--latent .*cond.npy: shape \[1, 77, 32\], expected \[1, 4, any, any\]/,
      ],
      [
        [...common, ...inputs.slice(2), '--latent', join(dir, 'bad.json'), '--object-tokens', '[[2], [8]]'],
        1,
        /--latent .*bad.json: expected nested lists of numbers of one rectangular shape/,
      ],
      [[...common, ...inputs, '--tokenizer', join(STEP, 'tokenizer'), '--objects', 'cat,bird'], 1, /--objects: object 'bird' not found in the prompt/],
      [
        [...common.slice(0, -2), '--relation', 'on top of', ...inputs, '--object-tokens', '[[2], [8]]', '--params', '{"object_presence": true}'],
        1,
        /object_presence needs a relation the reference lists/,
      ],
      [
        [...common, ...inputs, '--object-tokens', '[[2], [8]]', '--params', '{"scheduler": "euler"}'],
        2,
        /scheduler euler scales the U-Net input .*use --model/,
      ],
      [[...common, ...inputs, '--object-tokens', '[[2], [8]]', '--objects', 'cat'], 2, /--objects must be two names/],
    ];
    for (const [args, code, message] of cases) {
      const run = await runCli(['guidance', 'step', ...args, '--out', out]);
      assert.equal(run.code, code, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
      assert.ok(!existsSync(out), 'no output written');
    }
  });
});
