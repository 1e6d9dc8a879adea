import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveParams } from '../../src/contracts/method-params.ts';
import { readModelFolder } from '../../src/diffusion/model-folder.ts';
import { registeredModel, REGISTRY_FILE, resolveModel, UnknownModelError } from '../../src/diffusion/model-registry.ts';
import { selectLayers } from '../../src/guidance/layers.ts';
import { loadModel, saveModel } from '../../src/onnx/model-io.ts';
import { DataType } from '../../src/onnx/proto.ts';
import { readJsonFile } from '../../src/util/read-data-file.ts';
import { z } from 'zod';
import { writeJson } from '../support/model-parts.ts';
import { buildSdLikeFolder, type SdLikeOptions } from '../support/sd-like-folders.ts';
import { buildTinyModelFolder } from '../support/tiny-model.ts';

const root = mkdtempSync(join(tmpdir(), 'model-folder-'));
after(() => rmSync(root, { recursive: true, force: true }));

let folderCount = 0;
function sdLike(options: SdLikeOptions): string {
  const dir = join(root, `sd-${folderCount++}`);
  buildSdLikeFolder(dir, options);
  return dir;
}

function tinyFolder(): string {
  const dir = join(root, `tiny-${folderCount++}`);
  buildTinyModelFolder(dir);
  return dir;
}

describe('the tiny model folder', () => {
  let dir: string;
  before(() => {
    dir = tinyFolder();
  });

  test('is a pixel-space custom model with the fixture U-Net', () => {
    const folder = readModelFolder(dir);
    assert.equal(folder.family, 'custom');
    assert.equal(folder.pipelineClass, 'InfSplignTinyPipeline');
    assert.equal(folder.vaeDecoder, null);
    assert.deepEqual(folder.unet.latent, { channels: 4, height: 8, width: 8 });
    assert.deepEqual(folder.unet.sample, { name: 'sample', type: 'float32', dims: ['batch', 4, 8, 8] });
    assert.deepEqual(folder.unet.timestep, { name: 'timestep', type: 'int64', dims: [1] });
    assert.deepEqual(folder.unet.encoderHiddenStates, { name: 'encoder_hidden_states', type: 'float32', dims: ['batch', 12, 48] });
    assert.equal(folder.unet.prediction.name, 'out_sample');
    assert.equal(folder.unet.textEmbeds, undefined);
    assert.equal(folder.unet.guidanceProblem, null);
    assert.equal(folder.textEncoders.length, 1);
    assert.deepEqual(folder.textEncoders[0]!.inputIds, { name: 'input_ids', type: 'int64', dims: ['batch', 12] });
    assert.equal(folder.textEncoders[0]!.hiddenStates.name, 'last_hidden_state');
    assert.equal(folder.textEncoders[0]!.tokenizerDir, join(dir, 'tokenizer'));
    assert.equal(folder.scheduler.config.timestep_spacing, 'trailing');
    assert.equal(folder.zeroUnconditional, false);
  });

  test('its infsplign.json defaults select the two decoder cross-attention layers', () => {
    const folder = readModelFolder(dir);
    const params = resolveParams(folder.defaultParams);
    assert.deepEqual([params.map_size, params.steps, params.guide_steps, params.cfg_scale], [8, 10, [0, 10], 5]);
    const selected = selectLayers(folder.unet.crossAttention, params.layers);
    assert.deepEqual(
      selected.map((a) => [a.block, a.spatial]),
      [
        ['up_attn.0/transformer_blocks.0/attn2', '4x4'],
        ['up_attn.1/transformer_blocks.0/attn2', '8x8'],
      ],
    );
  });

  test('weights in an external data file are allowed', () => {
    const external = tinyFolder();
    const unetFile = join(external, 'unet', 'model.onnx');
    saveModel(loadModel(unetFile), unetFile, { externalData: true });
    assert.deepEqual(readModelFolder(external).unet.latent, { channels: 4, height: 8, width: 8 });
    rmSync(`${unetFile}.data`);
    assert.throws(() => readModelFolder(external), { message: new RegExp(`^missing external data file ${unetFile}\\.data`) });
  });
});

describe('Stable Diffusion layouts', () => {
  test('SD 1.x: a 768-wide StableDiffusion pipeline; VAE factor 0.18215 without a config', () => {
    const folder = readModelFolder(sdLike({ family: 'sd1', timestepType: DataType.FLOAT }));
    assert.equal(folder.family, 'sd1');
    assert.equal(folder.unet.timestep.type, 'float32');
    assert.equal(folder.textEncoders[0]!.inputIds.type, 'int32');
    assert.deepEqual(folder.unet.latent, { channels: 4, height: 16, width: 16 });
    assert.equal(folder.vaeDecoder?.scalingFactor, 0.18215);
    assert.deepEqual([folder.vaeDecoder?.latent.name, folder.vaeDecoder?.image.name], ['latent_sample', 'sample']);
    assert.equal(resolveParams(folder.defaultParams).cfg_scale, 7.5);
  });

  test('SD 2.x: 1024 wide; scaling factor and latent size from the configs when the graph does not say', () => {
    const folder = readModelFolder(
      sdLike({ family: 'sd2', latentSide: 'symbolic', unetConfig: { in_channels: 4, sample_size: 96 }, vaeConfig: { scaling_factor: 0.2 } }),
    );
    assert.equal(folder.family, 'sd2');
    assert.deepEqual(folder.unet.latent, { channels: 4, height: 96, width: 96 });
    assert.equal(folder.vaeDecoder?.scalingFactor, 0.2);
  });

  test('SDXL: two encoders (penultimate hidden states, pooled text_embeds), 0.13025, 128x128 by default, zero unconditional', () => {
    const folder = readModelFolder(sdLike({ family: 'sdxl', latentSide: 'symbolic' }));
    assert.equal(folder.family, 'sdxl');
    assert.deepEqual(
      folder.textEncoders.map((e) => [e.hiddenStates.name, e.pooled?.name]),
      [
        ['hidden_states.2', undefined],
        ['hidden_states.2', 'text_embeds'],
      ],
    );
    assert.deepEqual([folder.unet.textEmbeds?.name, folder.unet.timeIds?.name], ['text_embeds', 'time_ids']);
    assert.deepEqual(folder.unet.latent, { channels: 4, height: 128, width: 128 });
    assert.equal(folder.vaeDecoder?.scalingFactor, 0.13025);
    assert.equal(folder.zeroUnconditional, true);
    assert.deepEqual(resolveParams(folder.defaultParams).layers, ['up_blocks.0.attentions.1.transformer_blocks.{1,2,3}.attn2']);
  });

  test('another pipeline class is custom, and its VAE needs a scaling_factor in vae_decoder/config.json', () => {
    const dir = sdLike({ family: 'sd1', vaeConfig: { scaling_factor: 0.5 } });
    writeJson(join(dir, 'model_index.json'), { _class_name: 'MyPipeline' });
    const folder = readModelFolder(dir);
    assert.deepEqual([folder.family, folder.vaeDecoder?.scalingFactor], ['custom', 0.5]);
    rmSync(join(dir, 'vae_decoder/config.json'));
    assert.throws(() => readModelFolder(dir), {
      message: `${join(dir, 'vae_decoder/config.json')} not found or has no scaling_factor; a custom model's VAE needs it`,
    });
  });

  test("infsplign.json overrides the family's defaults key by key", () => {
    const dir = sdLike({ family: 'sd1' });
    writeJson(join(dir, 'infsplign.json'), { margin: 0.5, alpha: 1.5 });
    const params = resolveParams(readModelFolder(dir).defaultParams, { alpha: 2 });
    assert.deepEqual([params.margin, params.alpha, params.cfg_scale], [0.5, 2, 7.5]);
  });
});

describe('errors name the file and what is wrong', () => {
  const cases: Array<[string, (dir: string) => void, (dir: string) => string | RegExp]> = [
    ['no U-Net', (dir) => rmSync(join(dir, 'unet'), { recursive: true }), (dir) => `unet/model.onnx not found in ${dir}`],
    ['no model_index.json', (dir) => rmSync(join(dir, 'model_index.json')), (dir) => `model_index.json not found in ${dir}`],
    ['no text encoder', (dir) => rmSync(join(dir, 'text_encoder'), { recursive: true }), (dir) => `text_encoder/model.onnx not found in ${dir}`],
    ['no tokenizer', (dir) => rmSync(join(dir, 'tokenizer'), { recursive: true }), (dir) => `tokenizer/tokenizer_config.json not found in ${dir}`],
    ['no scheduler', (dir) => rmSync(join(dir, 'scheduler'), { recursive: true }), (dir) => `scheduler/scheduler_config.json not found in ${dir}`],
    [
      'an SD model without a VAE',
      (dir) => rmSync(join(dir, 'vae_decoder'), { recursive: true }),
      (dir) => `vae_decoder/model.onnx not found in ${dir} (Stable Diffusion samples latents, which the VAE decoder turns into images)`,
    ],
    [
      'a malformed model_index.json',
      (dir) => writeFileSync(join(dir, 'model_index.json'), '{"_class_name": 3}'),
      (dir) => new RegExp(`^${join(dir, 'model_index.json')}: _class_name: Invalid input`),
    ],
    [
      'an unknown key in infsplign.json',
      (dir) => writeJson(join(dir, 'infsplign.json'), { alpah: 1 }),
      (dir) => new RegExp(`^${join(dir, 'infsplign.json')}: unknown parameter 'alpah'`),
    ],
    [
      'a bad value in infsplign.json',
      (dir) => writeJson(join(dir, 'infsplign.json'), { layers: [1] }),
      (dir) => new RegExp(`^${join(dir, 'infsplign.json')}: layers\\[0\\]: Invalid input`),
    ],
    [
      'an unsupported scheduler setting',
      (dir) => writeJson(join(dir, 'scheduler/scheduler_config.json'), { beta_schedule: 'squaredcos_cap_v2' }),
      (dir) => new RegExp(`^${join(dir, 'scheduler/scheduler_config.json')}: beta_schedule: `),
    ],
    [
      'an unreadable U-Net',
      (dir) => writeFileSync(join(dir, 'unet/model.onnx'), 'not onnx'),
      (dir) => new RegExp(`^${join(dir, 'unet/model.onnx')} is not a readable ONNX model`),
    ],
  ];
  for (const [what, damage, expected] of cases) {
    test(what, () => {
      const dir = sdLike({ family: 'sd1' });
      damage(dir);
      assert.throws(() => readModelFolder(dir), { message: expected(dir) });
    });
  }

  test('an SDXL pipeline needs the SDXL U-Net inputs and the second encoder', () => {
    const notXl = sdLike({ family: 'sd1', pipelineClass: 'StableDiffusionXLPipeline' });
    assert.throws(() => readModelFolder(notXl), {
      message: `${join(notXl, 'model_index.json')} names StableDiffusionXLPipeline, but ${join(notXl, 'unet/model.onnx')} has no text_embeds / time_ids inputs, as an SDXL U-Net has`,
    });
    const noSecond = sdLike({ family: 'sdxl' });
    rmSync(join(noSecond, 'text_encoder_2'), { recursive: true });
    assert.throws(() => readModelFolder(noSecond), { message: `text_encoder_2/model.onnx not found in ${noSecond} (SDXL has two text encoders)` });
  });

  test('input types and widths are checked', () => {
    const stringTimestep = sdLike({ family: 'sd1', timestepType: DataType.STRING });
    assert.throws(() => readModelFolder(stringTimestep), {
      message: `${join(stringTimestep, 'unet/model.onnx')}: input 'timestep' is string; expected int64 or int32 or float32 or float16`,
    });
    const mismatch = sdLike({ family: 'sd1' });
    buildSdLikeFolder(join(root, 'sd2-parts'), { family: 'sd2' });
    saveModel(loadModel(join(root, 'sd2-parts', 'text_encoder/model.onnx')), join(mismatch, 'text_encoder/model.onnx'));
    assert.throws(() => readModelFolder(mismatch), {
      message: `${join(mismatch, 'unet/model.onnx')}: encoder_hidden_states is 768 wide, but ${join(mismatch, 'text_encoder/model.onnx')} give 1024`,
    });
  });

  test('a custom model with symbolic latent dims and no unet/config.json', () => {
    const dir = sdLike({ family: 'sd1', latentSide: 'symbolic' });
    writeJson(join(dir, 'model_index.json'), { _class_name: 'MyPipeline' });
    assert.throws(() => readModelFolder(dir), {
      message: /: input 'sample' has symbolic dims \[batch, 4, height, width\] and .*unet\/config\.json gives no in_channels \/ sample_size/,
    });
  });
});

describe('resolveModel', () => {
  test('the repository registry is a JSON object of names and paths', () => {
    readJsonFile(REGISTRY_FILE, z.record(z.string(), z.string()));
  });

  test('a folder is itself; a name is looked up, relative to the folder holding models/', () => {
    const dir = tinyFolder();
    assert.equal(resolveModel(dir), dir);
    const repo = join(root, 'repo');
    const registry = join(repo, 'models', 'registry.json');
    writeJson(registry, { tiny: `../${dir.split('/').pop()}`, gone: 'models/nowhere' });
    assert.equal(resolveModel('tiny', registry), dir);
    assert.throws(() => resolveModel('gone', registry), {
      message: `--model gone: ${registry} points it to ${join(repo, 'models/nowhere')}, which is not a folder`,
    });
    assert.throws(() => resolveModel('nothing', registry), {
      message: `--model nothing: no such folder, and no model of that name in ${registry} (it names tiny, gone)`,
    });
    assert.throws(() => resolveModel('toString', registry), /no model of that name/);
  });

  test("a job's model is a registered name only: never a folder, and an unknown name says nothing about files", () => {
    const dir = tinyFolder();
    const repo = join(root, 'jobs-repo');
    const registry = join(repo, 'models', 'registry.json');
    writeJson(registry, { tiny: dir, gone: 'models/nowhere' });
    assert.equal(registeredModel('tiny', registry), dir);
    const unknown = "unknown model 'NAME': not in this worker's model registry (it has: tiny, gone)";
    for (const name of [dir, root, 'workers', '/nonexistent/x', 'toString']) {
      assert.throws(
        () => registeredModel(name, registry),
        (err: Error) => err instanceof UnknownModelError && err.message.replace(name, 'NAME') === unknown,
        name,
      );
    }
    assert.throws(() => registeredModel('gone', registry), { message: "model 'gone' is registered on this worker, but its folder is missing there" });
  });
});
