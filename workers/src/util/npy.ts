/**
 * NumPy's `.npy` format for float arrays (what `numpy.save` writes and `numpy.load` reads): a magic
 * string, a format version, a header that is a Python dict literal (`descr`, `fortran_order`,
 * `shape`), then the data. Read: little-endian float32 or float64 (converted), C order, versions 1-3.
 * Written: version 1.0, little-endian float32, C order.
 */
import { readFileSync } from 'node:fs';

export interface FloatArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = Buffer.from([0x93, ...Buffer.from('NUMPY')]);
/** numpy aligns the data to 64 bytes. */
const ALIGN = 64;

export class NpyError extends Error {}

/** The header dict's entries, as numpy writes them (single-quoted keys and strings, a tuple for the shape). */
function parseHeader(header: string, source: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined) throw new NpyError(`${source}: not a .npy header: ${header.trim()}`);
  const dims = shape
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean)
    .map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new NpyError(`${source}: bad shape (${shape})`);
  return { descr, fortranOrder: fortran === 'True', shape: dims };
}

/** Parses the bytes of a .npy file; `source` names it in errors. */
export function parseNpy(bytes: Buffer, source: string): FloatArray {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw new NpyError(`${source}: not a .npy file (no \\x93NUMPY magic)`);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new NpyError(`${source}: .npy format version ${major} is not supported`);
  const [lengthBytes, headerLength] = major === 1 ? [2, bytes.readUInt16LE(8)] : [4, bytes.readUInt32LE(8)];
  const start = 8 + lengthBytes + headerLength;
  if (start > bytes.length) throw new NpyError(`${source}: truncated header`);
  const { descr, fortranOrder, shape } = parseHeader(bytes.subarray(8 + lengthBytes, start).toString('latin1'), source);
  if (fortranOrder) throw new NpyError(`${source}: Fortran-ordered arrays are not supported; save it with numpy.ascontiguousarray`);
  const width = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (!width) throw new NpyError(`${source}: dtype '${descr}' is not supported (little-endian float32 '<f4' or float64 '<f8')`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== count * width)
    throw new NpyError(`${source}: ${bytes.length - start} data bytes for shape (${shape.join(', ')}) of ${descr}, expected ${count * width}`);
  const data = new Float32Array(count);
  for (let k = 0; k < count; k++) data[k] = width === 4 ? bytes.readFloatLE(start + 4 * k) : bytes.readDoubleLE(start + 8 * k);
  return { shape, data };
}

export function readNpy(path: string): FloatArray {
  return parseNpy(readFileSync(path), path);
}

/** The bytes of a version 1.0 .npy file holding `array` as little-endian float32. */
export function formatNpy(array: FloatArray): Buffer {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) throw new NpyError(`shape (${array.shape.join(', ')}) holds ${count} values, the data ${array.data.length}`);
  const tuple = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }`;
  const padded = dict.padEnd(Math.ceil((10 + dict.length + 1) / ALIGN) * ALIGN - 10 - 1, ' ') + '\n';
  const header = Buffer.alloc(10);
  MAGIC.copy(header);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(padded.length, 8);
  const data = Buffer.alloc(4 * count);
  array.data.forEach((v, k) => data.writeFloatLE(v, 4 * k));
  return Buffer.concat([header, Buffer.from(padded, 'latin1'), data]);
}
