/**
 * What every ArtifactStore must do, as one list of cases run against each implementation
 * (store.test.ts: the local directory; s3-store.test.ts: S3 through a signature-checking double).
 * Each case works under a top-level prefix of its own, so they share one store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArtifactKeyError } from '../../src/artifacts/keys.ts';
import { ArtifactNotFoundError, type ArtifactStore } from '../../src/artifacts/store.ts';

export interface ContractSubject {
  store: ArtifactStore;
  /** how many requests the store has made so far, where that can be seen (to check that invalid keys are refused first) */
  requestCount?: () => number;
}

/** Keys that name no artifact: each a way out of the store or out of the rules. */
export const INVALID_KEYS = ['../x', '..', '/abs', 'a/../b', 'a//b', '.', 'a/.hidden', 'a b', 'é'];

export function artifactStoreContract(subject: () => ContractSubject): void {
  test('put then get returns the same bytes, all 256 byte values', async () => {
    const { store } = subject();
    const bytes = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, ...Array.from({ length: 256 }, (_, i) => i)]);
    await store.put('roundtrip/images/0_0.png', bytes);
    assert.deepEqual(new Uint8Array(await store.get('roundtrip/images/0_0.png')), bytes);
    assert.equal(await store.exists('roundtrip/images/0_0.png'), true);
    assert.equal(await store.exists('roundtrip/images/9_9.png'), false);
    assert.equal(await store.exists('roundtrip/images'), false, 'a prefix is not an object');
  });

  test('put replaces the object', async () => {
    const { store } = subject();
    await store.put('overwrite/a.png', new Uint8Array([1, 2, 3]));
    await store.put('overwrite/a.png', new Uint8Array([7]));
    assert.deepEqual([...(await store.get('overwrite/a.png'))], [7]);
    assert.deepEqual(await store.list('overwrite'), ['overwrite/a.png']);
  });

  test('get of a missing key is an ArtifactNotFoundError naming the key', async () => {
    const { store } = subject();
    await assert.rejects(store.get('missing/never/put.png'), (err: unknown) => err instanceof ArtifactNotFoundError && err.key === 'missing/never/put.png');
  });

  test('list is sorted, and a prefix covers whole segments: runs/r1 is not runs/r10', async () => {
    const { store } = subject();
    for (const key of [
      'seg/runs/r10/images/0_0.png',
      'seg/runs/r1/images/0_1.png',
      'seg/runs/r1/images/0_0.png',
      'seg/runs/r1-b/x.png',
      'seg/runs/r1/a/deep/z.png',
    ])
      await store.put(key, new Uint8Array([1]));
    assert.deepEqual(await store.list('seg/runs/r1'), ['seg/runs/r1/a/deep/z.png', 'seg/runs/r1/images/0_0.png', 'seg/runs/r1/images/0_1.png']);
    assert.deepEqual(await store.list('seg/runs'), [
      'seg/runs/r1-b/x.png',
      'seg/runs/r1/a/deep/z.png',
      'seg/runs/r1/images/0_0.png',
      'seg/runs/r1/images/0_1.png',
      'seg/runs/r10/images/0_0.png',
    ]);
    assert.deepEqual(await store.list('seg/nothing/here'), []);
    assert.deepEqual(await store.list('seg/runs/r10/images/0_0.png'), [], 'the keys under an object: none');
  });

  test('list reads a long listing to its end (a page at a time where the store pages)', async () => {
    const { store } = subject();
    const keys = Array.from({ length: 7 }, (_, i) => `long/${i}_0.png`);
    for (const key of [...keys].reverse()) await store.put(key, new Uint8Array([1]));
    assert.deepEqual(await store.list('long'), keys);
  });

  test('delete removes the object or everything under the prefix, returns the count and leaves siblings', async () => {
    const { store } = subject();
    for (const key of ['del/runs/r1/images/0_0.png', 'del/runs/r1/images/0_1.png', 'del/runs/r1/log/x.txt', 'del/runs/r10/images/0_0.png', 'del/runs/r1-b.png'])
      await store.put(key, new Uint8Array([1]));
    assert.equal(await store.delete('del/runs/r1'), 3);
    assert.deepEqual(await store.list('del'), ['del/runs/r1-b.png', 'del/runs/r10/images/0_0.png']);
    assert.equal(await store.delete('del/runs/r10/images/0_0.png'), 1, 'an object');
    assert.equal(await store.delete('del/runs/r1'), 0, 'nothing left');
    await assert.rejects(store.get('del/runs/r1/images/0_0.png'), ArtifactNotFoundError);
    assert.deepEqual(await store.list('del'), ['del/runs/r1-b.png']);
  });

  test('every operation refuses an invalid key before doing anything', async () => {
    const { store, requestCount } = subject();
    const before = requestCount?.();
    for (const key of INVALID_KEYS) {
      await assert.rejects(store.put(key, new Uint8Array([1])), InvalidArtifactKeyError, key);
      await assert.rejects(store.get(key), InvalidArtifactKeyError, key);
      await assert.rejects(store.exists(key), InvalidArtifactKeyError, key);
      await assert.rejects(store.list(key), InvalidArtifactKeyError, key);
      await assert.rejects(store.delete(key), InvalidArtifactKeyError, key);
    }
    assert.equal(requestCount?.(), before, 'no request was made');
  });
}
