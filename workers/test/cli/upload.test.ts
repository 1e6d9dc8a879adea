import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { LocalArtifactStore } from '../../src/artifacts/store.ts';
import { writePng } from '../../src/image/png.ts';
import { runCli } from './run-cli.ts';

const pixel = { width: 1, height: 1, data: new Float32Array([1, 0, 0]) };

describe('infsplign upload', () => {
  const root = mkdtempSync(join(tmpdir(), 'upload-cli-'));
  const artifacts = join(root, 'artifacts');
  const previous = process.env.ARTIFACT_DIR;
  process.env.ARTIFACT_DIR = artifacts;
  after(() => {
    if (previous === undefined) delete process.env.ARTIFACT_DIR;
    else process.env.ARTIFACT_DIR = previous;
    rmSync(root, { recursive: true, force: true });
  });
  let images: string;
  let n = 0;
  beforeEach(() => {
    images = join(root, `images-${n++}`);
    mkdirSync(images);
    writePng(join(images, '0_0.png'), pixel);
    writePng(join(images, '12_3.png'), pixel);
    writeFileSync(join(images, 'manifest.json'), '{}');
  });
  const store = new LocalArtifactStore(artifacts);

  test('puts the {ID}_{K}.png images under the prefix, ignoring other files, and prints the prefix and count', async () => {
    const run = await runCli(['upload', images, '--prefix', 'sets/a']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `sets/a\n2 images uploaded to local:${artifacts}`);
    assert.deepEqual(await store.list('sets/a'), ['sets/a/0_0.png', 'sets/a/12_3.png']);
  });

  test('without --prefix it makes one up under uploads/', async () => {
    const run = await runCli(['upload', images]);
    assert.equal(run.code, 0, run.stderr);
    const prefix = run.stdout.split('\n')[0]!;
    assert.match(prefix, /^uploads\/\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    assert.equal((await store.list(prefix)).length, 2);
  });

  test('refuses, uploading nothing: a prefix in use, an invalid prefix, a misnamed or unreadable PNG, two names for one image', async () => {
    assert.equal((await runCli(['upload', images, '--prefix', 'sets/b'])).code, 0);
    assert.match((await runCli(['upload', images, '--prefix', 'sets/b'])).stderr, /sets\/b already holds 2 objects/);
    const invalid = await runCli(['upload', images, '--prefix', '../outside']);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /--prefix: invalid artifact key/);

    writePng(join(images, 'cat.png'), pixel);
    assert.match((await runCli(['upload', images, '--prefix', 'sets/c'])).stderr, /cat\.png: images must be named \{ID\}_\{K\}\.png/);
    rmSync(join(images, 'cat.png'));
    writeFileSync(join(images, '1_0.png'), 'not a png');
    assert.match((await runCli(['upload', images, '--prefix', 'sets/c'])).stderr, /1_0\.png: not a readable PNG/);
    rmSync(join(images, '1_0.png'));
    writePng(join(images, '00_0.png'), pixel);
    assert.match((await runCli(['upload', images, '--prefix', 'sets/c'])).stderr, /\/0_0\.png: the same image as .*\/00_0\.png/);
    assert.deepEqual(await store.list('sets/c'), []);
  });

  test('with --api: refuses a --prefix of its own, wants INFSPLIGN_TOKEN, and says when the API does not answer, uploading nothing', async () => {
    const previousToken = process.env.INFSPLIGN_TOKEN;
    try {
      delete process.env.INFSPLIGN_TOKEN;
      const noToken = await runCli(['upload', images, '--api', 'http://127.0.0.1:9']);
      assert.equal(noToken.code, 2);
      assert.match(noToken.stderr, /INFSPLIGN_TOKEN must hold an API token/);
      process.env.INFSPLIGN_TOKEN = 'isa_000000000000_' + 'x'.repeat(43);
      const both = await runCli(['upload', images, '--api', 'http://127.0.0.1:9', '--prefix', 'sets/d']);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--prefix: with --api the API hands out the prefix/);
      const down = await runCli(['upload', images, '--api', 'http://127.0.0.1:9']);
      assert.equal(down.code, 1);
      assert.match(down.stderr, /createUpload: the API at http:\/\/127\.0\.0\.1:9 is not answering/);
      assert.deepEqual(await store.list('sets/d'), []);
    } finally {
      if (previousToken === undefined) delete process.env.INFSPLIGN_TOKEN;
      else process.env.INFSPLIGN_TOKEN = previousToken;
    }
  });
});
