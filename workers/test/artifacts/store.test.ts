import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { artifactKeyProblem, artifactKeySchema, checkArtifactKey, InvalidArtifactKeyError, joinKey } from '../../src/artifacts/keys.ts';
import { ArtifactNotFoundError, LocalArtifactStore } from '../../src/artifacts/store.ts';

describe('artifact keys', () => {
  test('accept /-separated segments of letters, digits, _, - and .', () => {
    for (const key of ['a', 'runs/r1/images/12_0.png', 'uploads/20261126T101500Z-ab12cd34/0_0.png', 'A-b_c.d/e..f', '0']) assert.equal(artifactKeyProblem(key), null, key);
  });

  test('reject every way out of the store: traversal, absolute paths, backslashes, hidden segments, odd characters', () => {
    const bad = ['', '..', '.', '../etc/passwd', 'a/../../b', 'a/..', './a', '/etc/passwd', 'a//b', 'a/', '/', 'a\\..\\b', 'C:\\x', 'c:/x', '.hidden', 'a/.tmp', 'a b', 'a/b?c', 'a\0b', 'é', '~/x', 'a/%2e%2e/b', 'x'.repeat(513)];
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

  test('round trip: put, get, exists, list, delete', async () => {
    const bytes = new Uint8Array([137, 80, 78, 71, 0, 255]);
    await store.put('runs/r1/images/0_0.png', bytes);
    await store.put('runs/r1/images/0_1.png', new Uint8Array([1]));
    await store.put('runs/r10/images/0_0.png', new Uint8Array([2]));
    assert.deepEqual(new Uint8Array(await store.get('runs/r1/images/0_0.png')), bytes);
    assert.equal(await store.exists('runs/r1/images/0_0.png'), true);
    assert.equal(await store.exists('runs/r1/images/9_9.png'), false);
    assert.equal(await store.exists('runs/r1'), false, 'a prefix is not an object');
    // A prefix covers whole segments: runs/r1 is not runs/r10.
    assert.deepEqual(await store.list('runs/r1'), ['runs/r1/images/0_0.png', 'runs/r1/images/0_1.png']);
    assert.deepEqual(await store.list('runs'), ['runs/r1/images/0_0.png', 'runs/r1/images/0_1.png', 'runs/r10/images/0_0.png']);
    assert.deepEqual(await store.list('nothing/here'), []);

    await store.put('runs/r1/images/0_0.png', new Uint8Array([7]));
    assert.deepEqual([...(await store.get('runs/r1/images/0_0.png'))], [7], 'put replaces');
    assert.equal(readdirSync(join(root, 'runs/r1/images')).filter((f) => f.startsWith('.')).length, 0, 'no temporary file is left');

    assert.equal(await store.delete('runs/r1'), 2);
    assert.deepEqual(await store.list('runs'), ['runs/r10/images/0_0.png']);
    assert.equal(await store.delete('runs/r10/images/0_0.png'), 1);
    assert.equal(await store.delete('runs/r1'), 0);
    await assert.rejects(store.get('runs/r1/images/0_0.png'), ArtifactNotFoundError);
  });

  test('list skips the temporary files of unfinished puts', async () => {
    await store.put('set/a.png', new Uint8Array([1]));
    writeFileSync(join(root, 'set', '.put-1-abc.tmp'), 'partial');
    assert.deepEqual(await store.list('set'), ['set/a.png']);
  });

  test('every operation refuses an invalid key before touching the disk', async () => {
    const outside = join(root, '..', 'escaped.txt');
    await assert.rejects(store.put('../escaped.txt', new Uint8Array([1])), InvalidArtifactKeyError);
    assert.equal(existsSync(outside), false);
    await assert.rejects(store.get('../../etc/passwd'), InvalidArtifactKeyError);
    await assert.rejects(store.exists('/etc/passwd'), InvalidArtifactKeyError);
    await assert.rejects(store.list('..'), InvalidArtifactKeyError);
    await assert.rejects(store.delete('.'), InvalidArtifactKeyError);
  });
});
