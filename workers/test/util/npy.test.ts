/**
 * The .npy reader and writer: files numpy wrote (the official step fixture's arrays; a header
 * written here by hand as numpy 1.x writes it), a round trip, and files it must refuse.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatNpy, parseNpy, readNpy } from '../../src/util/npy.ts';

const STEP = join(import.meta.dirname, '../fixtures/infsplign-official/step/left_defaults');

/** A .npy file as numpy 1.x writes it: version 1.0, the header padded with spaces to 64 bytes with "\n". */
function npyBytes(descr: string, shape: string, data: Buffer, version = 1): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const lengthBytes = version === 1 ? 2 : 4;
  const total = Math.ceil((6 + 2 + lengthBytes + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - 6 - 2 - lengthBytes - 1, ' ') + '\n';
  const prefix = Buffer.alloc(6 + 2 + lengthBytes);
  Buffer.from([0x93, ...Buffer.from('NUMPY'), version, 0]).copy(prefix);
  if (version === 1) prefix.writeUInt16LE(header.length, 8);
  else prefix.writeUInt32LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

const floats = (values: number[], width: 4 | 8) => {
  const b = Buffer.alloc(values.length * width);
  values.forEach((v, k) => (width === 4 ? b.writeFloatLE(v, 4 * k) : b.writeDoubleLE(v, 8 * k)));
  return b;
};

test("reads what numpy wrote: the official step fixture's latent", () => {
  const latent = readNpy(join(STEP, 'latent.npy'));
  assert.deepEqual(latent.shape, [1, 4, 24, 24]);
  assert.equal(latent.data.length, 4 * 24 * 24);
  assert.ok(latent.data.every(Number.isFinite));
});

test('float32 and float64 (as float32), versions 1 and 2, 1-D and 0-D shapes', () => {
  assert.deepEqual(parseNpy(npyBytes('<f4', '(2, 3)', floats([1, 2, 3, 4, 5, 6.5], 4)), 'a'), { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6.5) });
  assert.deepEqual(parseNpy(npyBytes('<f8', '(3,)', floats([0.1, -2, 1e-30], 8)), 'b'), { shape: [3], data: Float32Array.of(0.1, -2, 1e-30) });
  assert.deepEqual(parseNpy(npyBytes('<f4', '(2,)', floats([7, 8], 4), 2), 'c'), { shape: [2], data: Float32Array.of(7, 8) });
  assert.deepEqual(parseNpy(npyBytes('<f4', '()', floats([3], 4)), 'd'), { shape: [], data: Float32Array.of(3) });
});

test("round trip; the header is numpy's: 64-byte aligned, version 1.0, float32 little-endian", () => {
  for (const shape of [[1, 4, 3, 2], [5], [2, 1]]) {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => Math.fround(k * 0.37 - 1));
    const bytes = formatNpy({ shape, data });
    assert.equal((10 + bytes.readUInt16LE(8)) % 64, 0);
    assert.equal(
      bytes
        .subarray(10, 10 + bytes.readUInt16LE(8))
        .toString('latin1')
        .trimEnd(),
      `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`}, }`,
    );
    assert.deepEqual(parseNpy(bytes, 'x'), { shape, data });
  }
  const latent = readNpy(join(STEP, 'latent.npy'));
  assert.deepEqual(parseNpy(formatNpy(latent), 'again'), latent);
});

test('refuses what it cannot read, naming the file', () => {
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.from('not numpy at all'), /^f: not a .npy file/],
    [npyBytes('>f4', '(1,)', floats([1], 4)), /^f: dtype '>f4' is not supported/],
    [npyBytes('<i8', '(1,)', Buffer.alloc(8)), /^f: dtype '<i8' is not supported/],
    [npyBytes('<f4', '(3,)', floats([1, 2], 4)), /^f: 8 data bytes for shape \(3\) of <f4, expected 12$/],
    [npyBytes('<f4', '(2,)', floats([1, 2], 4)).fill(0x20, 20, 40), /^f: not a .npy header/],
    [
      Buffer.from(
        npyBytes('<f4', '(2,)', floats([1, 2], 4))
          .toString('latin1')
          .replace('False', 'True '),
        'latin1',
      ),
      /^f: Fortran-ordered arrays are not supported/,
    ],
  ];
  for (const [bytes, message] of cases) assert.throws(() => parseNpy(bytes, 'f'), { message });
  assert.throws(() => formatNpy({ shape: [2, 2], data: new Float32Array(3) }), { message: /shape \(2, 2\) holds 4 values, the data 3/ });
});
