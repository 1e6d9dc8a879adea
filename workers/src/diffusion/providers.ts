/**
 * `--device cpu|cuda|webgpu` as onnxruntime-node execution providers. A device is checked by opening
 * a one-node session on it before any model is loaded, and one that does not work is an error that
 * says how to get it: a run must never quietly fall back to the CPU and take hours instead of
 * minutes (ONNX Runtime still places single ops a GPU provider lacks on the CPU, as it always does).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { buildModel } from '../onnx/model-builder.ts';
import { DataType, ModelProtoSchema, toBinary } from '../onnx/proto.ts';

export const DEVICES = ['cpu', 'cuda', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];
export const deviceSchema = z.enum(DEVICES);

export class DeviceUnavailableError extends Error {}

export function executionProviders(device: Device): ort.InferenceSession.ExecutionProviderConfig[] {
  return [device];
}

/** Where onnxruntime-node keeps its native libraries, and the CUDA provider's among them. */
function nativeLibraryDir(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** Runs onnxruntime-node's own download script directly: npm runs no dependency install script here (.npmrc). */
const CUDA_INSTALL = 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install';

/** What the user can do about a device that failed, given ONNX Runtime's own reason. */
function remedy(device: Device): string {
  switch (device) {
    case 'cuda': {
      const library = join(nativeLibraryDir(), 'libonnxruntime_providers_cuda.so');
      return existsSync(library)
        ? `the CUDA provider library is installed (${library}) but could not start: it needs an NVIDIA GPU with CUDA 12 and cuDNN 9 libraries on the library path (LD_LIBRARY_PATH)`
        : `onnxruntime-node is installed without its CUDA provider libraries (they are not on npm); on a host with CUDA 12, cuDNN 9 and network access, install them with \`${CUDA_INSTALL}\``;
    }
    case 'webgpu':
      return "onnxruntime-node bundles WebGPU, but it needs a GPU adapter: on Linux a Vulkan driver (libvulkan.so.1 and the GPU vendor's driver), on Windows Direct3D 12, on macOS Metal";
    case 'cpu':
      return 'the CPU provider is part of every onnxruntime-node build; reinstall onnxruntime-node';
  }
}

/** The smallest model a provider can be asked to run: y = Identity(x). */
function probeModel(): Uint8Array {
  const model = buildModel({
    inputs: [{ name: 'x', type: DataType.FLOAT, dims: [1] }],
    outputs: [{ name: 'y', type: DataType.FLOAT, dims: [1] }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
  return toBinary(ModelProtoSchema, model);
}

async function probe(device: Device): Promise<void> {
  const offered = ort.listSupportedBackends().map((b) => b.name);
  if (!offered.includes(device)) {
    throw new DeviceUnavailableError(`--device ${device}: this onnxruntime-node build has no '${device}' execution provider (it has: ${offered.join(', ')})`);
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(probeModel(), { executionProviders: executionProviders(device), logSeverityLevel: 4 });
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).trim();
    throw new DeviceUnavailableError(`--device ${device}: the '${device}' execution provider is not available (${reason}); ${remedy(device)}`);
  }
  await session.release();
}

/** One probe per device per process: its answer does not change while the process runs. */
const probes = new Map<Device, Promise<void>>();

/** Resolves when sessions can run on `device`; rejects with a DeviceUnavailableError saying why and what to do. */
export function ensureDeviceAvailable(device: Device): Promise<void> {
  let result = probes.get(device);
  if (!result) {
    result = probe(device);
    probes.set(device, result);
  }
  return result;
}

/** An inference session for a model file on a device that has been checked first. */
export async function createSession(file: string, device: Device, options: ort.InferenceSession.SessionOptions = {}): Promise<ort.InferenceSession> {
  await ensureDeviceAvailable(device);
  try {
    return await ort.InferenceSession.create(file, { ...options, executionProviders: executionProviders(device) });
  } catch (err) {
    throw new Error(`${file}: ONNX Runtime cannot load the model on ${device} (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}
