import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  evaluateChunkJobSchema,
  evaluateJobId,
  generateChunkJobSchema,
  generateJobId,
  parsePayload,
  resultJobId,
  resultMessageSchema,
  InvalidPayloadError,
  type GenerateChunkJobInput,
} from '../../src/contracts/jobs.ts';
import { defaultParams, resolveParams } from '../../src/contracts/method-params.ts';
import { methodDefaults } from '../../src/contracts/model-defaults.ts';
import { canonicalConfig, configHash } from '../../src/contracts/run-config.ts';
import { registeredMethods, requireMethod } from '../../src/methods/registry.ts';

const config = canonicalConfig('baseline', resolveParams(defaultParams('sd1'), {}));

const generateJob = (extra: Partial<GenerateChunkJobInput> = {}): GenerateChunkJobInput => ({
  runId: 'run_1',
  chunk: 2,
  model: 'bundled',
  config,
  configHash: configHash(config),
  benchmark: 'visor',
  prompts: [{ promptId: 'p1', externalId: 0, text: 'an apple to the left of a box', objects: ['apple', 'box'], relation: 'left of' }],
  seed: 42,
  imagesPerPrompt: 4,
  imageSetPrefix: 'runs/run_1/images',
  device: 'cpu',
  ...extra,
});

const visorRecord = {
  unique_id: 0,
  num_objects: 2,
  obj_1_attributes: ['apple'],
  obj_2_attributes: ['box'],
  rel_type: 'to the left of',
  text: 'an apple to the left of a box',
};
const evaluateJob = (extra = {}) => ({
  runId: 'run_1',
  chunk: 0,
  benchmark: 'visor',
  detector: 'shapes',
  threshold: 0.1,
  prompts: [{ promptId: 'p1', externalId: 0, text: visorRecord.text, objects: ['apple', 'box'], relation: 'left of', record: visorRecord }],
  images: [{ promptId: 'p1', imageIndex: 0, artifactKey: 'sets/a/0_0.png' }],
  ...extra,
});

const problem = (schema: Parameters<typeof parsePayload>[0], value: unknown) => {
  try {
    parsePayload(schema, value, 'job');
  } catch (err) {
    assert.ok(err instanceof InvalidPayloadError);
    return err.message;
  }
  assert.fail('expected the payload to be refused');
};

describe('job payload contracts', () => {
  test('a valid generate job parses, with defaults for round, batch size and time limit', () => {
    const job = parsePayload(generateChunkJobSchema, generateJob(), 'generate job');
    assert.deepEqual([job.round, job.batchSize, job.timeoutMs], [0, 4, 2 * 3600 * 1000]);
  });

  test("generate jobs refuse a hash that is not their configuration's, unknown keys, path-like models and prefixes", () => {
    assert.match(problem(generateChunkJobSchema, generateJob({ configHash: 'f'.repeat(64) })), /^job: configHash: does not match the configuration/);
    assert.match(problem(generateChunkJobSchema, { ...generateJob(), extra: 1 }), /Unrecognized key/);
    assert.match(problem(generateChunkJobSchema, generateJob({ model: '../models/x' })), /^job: model: a model name/);
    assert.match(problem(generateChunkJobSchema, generateJob({ imageSetPrefix: '/abs/path' })), /^job: imageSetPrefix: invalid artifact key/);
    assert.match(problem(generateChunkJobSchema, generateJob({ runId: 'a:b' })), /^job: runId: an id is/);
    const prompt = generateJob().prompts[0]!;
    assert.match(problem(generateChunkJobSchema, generateJob({ prompts: [{ ...prompt, text: 'a'.repeat(1001) }] })), /^job: prompts\[0\]\.text: Too big/);
    assert.match(
      problem(generateChunkJobSchema, generateJob({ prompts: [{ ...prompt, objects: ['apple', 'b'.repeat(201)] }] })),
      /^job: prompts\[0\]\.objects\[1\]: Too big/,
    );
  });

  test('a generate job of every registered method parses with its SD 1.x defaults; a configuration its schema refuses is refused naming why', () => {
    for (const method of registeredMethods()) {
      const own = canonicalConfig(method.name, method.params.resolve(methodDefaults(method, 'sd1', null), {}, 'defaults', 'sd1'));
      assert.equal(parsePayload(generateChunkJobSchema, generateJob({ config: own, configHash: configHash(own) }), 'generate job').config.method, method.name);
    }
    const db = canonicalConfig(
      'divide-and-bind',
      requireMethod('divide-and-bind').params.resolve(methodDefaults(requireMethod('divide-and-bind'), 'sd1', null), {}, 'defaults', 'sd1'),
    );
    const bind = { ...db, params: { ...db.params, loss_mode: 'tv_bind' } };
    assert.match(
      problem(generateChunkJobSchema, generateJob({ config: bind, configHash: configHash(bind) })),
      /^job: config\.params: not a canonical configuration of divide-and-bind: .*loss_mode tv_bind is not implemented/,
    );
  });

  test('evaluate jobs check each prompt record against the benchmark and each image against the prompts', () => {
    assert.equal(evaluateChunkJobSchema.safeParse(evaluateJob()).success, true);
    assert.match(problem(evaluateChunkJobSchema, evaluateJob({ benchmark: 'geneval' })), /^job: prompts\[0\]\.record\.\w+: geneval record:/);
    assert.match(
      problem(evaluateChunkJobSchema, evaluateJob({ images: [{ promptId: 'p9', imageIndex: 0, artifactKey: 'a/0_0.png' }] })),
      /^job: images\[0\]\.promptId: prompt p9 is not among the job's prompts/,
    );
    assert.match(
      problem(
        evaluateChunkJobSchema,
        evaluateJob({
          images: [
            { promptId: 'p1', imageIndex: 0, artifactKey: 'a/0_0.png' },
            { promptId: 'p1', imageIndex: 0, artifactKey: 'a/0_0.png' },
          ],
        }),
      ),
      /appears twice/,
    );
    assert.match(
      problem(evaluateChunkJobSchema, evaluateJob({ images: [{ promptId: 'p1', imageIndex: 0, artifactKey: 'a/../../etc/passwd' }] })),
      /invalid artifact key/,
    );
    assert.equal(evaluateChunkJobSchema.safeParse(evaluateJob({ detector: 'owlvit-large' })).success, true, 'a registry name');
    // a path names a file on the worker: refused, and alike whether the file exists or not
    const pathProblem = "job: detector: a detector is shapes or a name from the workers' detector registry (letters, digits, ., _, -), not a path";
    for (const detector of ['coco:/etc/passwd', 'coco:/nonexistent/x', 'owlvit:models/owlvit', '../x', 'a/b'])
      assert.equal(problem(evaluateChunkJobSchema, evaluateJob({ detector })), pathProblem, detector);
    assert.equal(problem(evaluateChunkJobSchema, evaluateJob({ detector: 'd'.repeat(65) })), 'job: detector: a detector name is at most 64 characters');
    assert.match(problem(evaluateChunkJobSchema, evaluateJob({ threshold: 1 })), /^job: threshold:/);
  });

  test('result messages are a union on `type`', () => {
    const failed = { type: 'ChunkFailed', runId: 'r', chunk: 1, round: 0, stage: 'evaluate', reason: 'x', attempt: 3, attempts: 3 } as const;
    assert.deepEqual(resultMessageSchema.parse(failed), failed);
    assert.equal(resultMessageSchema.safeParse({ ...failed, type: 'Other' }).success, false);
    assert.equal(resultMessageSchema.safeParse({ ...failed, stage: 'results' }).success, false);
  });

  test("ImagesGenerated carries a guided image's trace, null or absent for others, one loss and one centroid pair per step, finite", () => {
    const image = { promptId: 'p1', imageIndex: 0, artifactKey: 'runs/r/images/0_0.png', width: 32, height: 32, ms: 5 };
    const message = (guidance?: unknown) => ({
      type: 'ImagesGenerated',
      runId: 'r',
      chunk: 0,
      round: 0,
      device: 'cpu',
      worker: 'w:1',
      images: [{ ...image, ...(guidance !== undefined && { guidance }) }],
      failures: [],
    });
    const trace = {
      loss: [0.5, 0.25],
      centroids: [
        [
          [0.1, 0.5],
          [0.9, 0.5],
        ],
        [
          [0.2, 0.5],
          [0.8, 0.5],
        ],
      ],
    };
    assert.deepEqual(parsePayload(resultMessageSchema, message(trace), 'result'), message(trace));
    assert.equal(resultMessageSchema.safeParse(message(null)).success, true);
    assert.equal(resultMessageSchema.safeParse(message()).success, true, "an older worker's message, without the field");
    assert.match(
      problem(resultMessageSchema, message({ loss: [0.5], centroids: trace.centroids })),
      /^job: images\[0\]\.guidance\.centroids: loss and centroids need one entry per guided step/,
    );
    assert.match(problem(resultMessageSchema, message({ ...trace, loss: [0.5, Number.NaN] })), /^job: images\[0\]\.guidance\.loss\[1\]/);
    assert.match(
      problem(
        resultMessageSchema,
        message({
          ...trace,
          centroids: [
            [[0.1, 0.5]],
            [
              [0.2, 0.5],
              [0.8, 0.5],
            ],
          ],
        }),
      ),
      /^job: images\[0\]\.guidance\.centroids\[0\]/,
    );
  });

  test("ImagesGenerated carries each image's cost (whole passes, seconds), absent from an older worker's message", () => {
    const image = { promptId: 'p1', imageIndex: 0, artifactKey: 'runs/r/images/0_0.png', width: 32, height: 32, ms: 5 };
    const message = (cost?: unknown) => ({
      type: 'ImagesGenerated',
      runId: 'r',
      chunk: 0,
      round: 0,
      device: 'cpu',
      worker: 'w:1',
      images: [{ ...image, ...(cost !== undefined && { cost }) }],
      failures: [],
    });
    const cost = { unet_evaluations: 40, backward_passes: 20, seconds: 0.25 };
    assert.deepEqual(parsePayload(resultMessageSchema, message(cost), 'result'), message(cost));
    assert.equal(resultMessageSchema.safeParse(message()).success, true);
    assert.match(problem(resultMessageSchema, message({ ...cost, unet_evaluations: 1.5 })), /^job: images\[0\]\.cost\.unet_evaluations/);
    assert.match(problem(resultMessageSchema, message({ ...cost, backward_passes: -1 })), /^job: images\[0\]\.cost\.backward_passes/);
    assert.match(problem(resultMessageSchema, message({ unet_evaluations: 40, seconds: 0.25 })), /^job: images\[0\]\.cost\.backward_passes/);
  });

  test('job ids are deterministic, per chunk and round, and valid BullMQ custom ids (no colon, not an integer)', () => {
    assert.equal(generateJobId('r1', 3), 'r1.generate.3.0');
    assert.equal(evaluateJobId('r1', 3, 2), 'r1.evaluate.3.2');
    assert.equal(
      resultJobId({ type: 'ChunkFailed', runId: 'r1', chunk: 3, round: 1, stage: 'generate', reason: '', attempt: 1, attempts: 3 }),
      'r1.failed-generate.3.1',
    );
    for (const id of [generateJobId('12', 0), evaluateJobId('12', 0)]) assert.ok(!id.includes(':') && String(parseInt(id, 10)) !== id);
  });
});
