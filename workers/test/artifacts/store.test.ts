import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { artifactKeyProblem, artifactKeySchema, checkArtifactKey, InvalidArtifactKeyError, joinKey } from '../../src/artifacts/keys.ts';
import { LocalArtifactStore } from '../../src/artifacts/store.ts';
import { artifactStoreContract } from './store-contract.ts';

describe('artifact keys', () => {
  test('accept /-separated segments of letters, digits, _, - and .', () => {
    for (const key of ['a', 'runs/r1/images/12_0.png', 'uploads/20261126T101500Z-ab12cd34/0_0.png', 'A-b_c.d/e..f', '0'])
      assert.equal(artifactKeyProblem(key), null, key);
  });

  test('reject every way out of the store: traversal, absolute paths, backslashes, hidden segments, odd characters', () => {
    const bad = [
      '',
      '..',
      '.',
      '../etc/passwd',
      'a/../../b',
      'a/..',
      './a',
      '/etc/passwd',
      'a//b',
      'a/',
      '/',
      'a\\..\\b',
      'C:\\x',
      'c:/x',
      '.hidden',
      'a/.tmp',
      'a b',
      'a/b?c',
      'a\0b',
      'é',
      '~/x',
      'a/%2e%2e/b',
      'x'.repeat(513),
    ];
    for (const key of bad) {
      assert.notEqual(artifactKeyProblem(key), null, JSON.stringify(key));
      assert.throws(() => checkArtifactKey(key), InvalidArtifactKeyError);
      assert.equal(artifactKeySchema.safeParse(key).success, false);
    }
    assert.throws(() => joinKey('runs/r1', '../r2/x.png'), /invalid artifact key/);
  });
});

describe('the local artifact store', () => {
  const root = mkdtempSync(join(tmpdir(), 'artifacts-test-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const store = new LocalArtifactStore(root);

  artifactStoreContract(() => ({ store }));

  test('put leaves no temporary file, and list skips those of unfinished puts', async () => {
    await store.put('set/a.png', new Uint8Array([1]));
    await store.put('set/a.png', new Uint8Array([2]));
    assert.deepEqual(readdirSync(join(root, 'set')), ['a.png']);
    writeFileSync(join(root, 'set', '.put-1-abc.tmp'), 'partial');
    assert.deepEqual(await store.list('set'), ['set/a.png']);
  });

  test('an invalid key never reaches the disk', async () => {
    const outside = join(root, '..', 'escaped.txt');
    await assert.rejects(store.put('../escaped.txt', new Uint8Array([1])), InvalidArtifactKeyError);
    assert.equal(existsSync(outside), false);
    await assert.rejects(store.get('../../etc/passwd'), InvalidArtifactKeyError);
  });
});
