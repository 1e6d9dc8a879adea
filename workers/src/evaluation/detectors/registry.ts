/**
 * Detectors as jobs name them: `shapes` (built in) or a name from the worker's detector registry,
 * `models/detectors.json` (INFSPLIGN_DETECTOR_REGISTRY moves it), whose values are the CLI's
 * `--detector` specs with paths on that machine, e.g. `{"owlvit": "owlvit:/models/owlvit-base-patch32"}`
 * (relative paths from the folder holding `models/`). A job never names a path: what reaches a
 * worker through the API cannot make it open a file of the operator's choosing, and an unknown name
 * is one error that says nothing about the worker's file system.
 */
import { fileURLToPath } from 'node:url';
import { readRegistry, registryPath } from '../../util/registry-file.ts';
import { createDetector, type Detector, type DetectorOptions } from './detector.ts';

export const DETECTOR_REGISTRY_FILE = fileURLToPath(new URL('../../../../models/detectors.json', import.meta.url));

/** The detector every worker has without files. */
export const BUILT_IN_DETECTOR = 'shapes';

export class UnknownDetectorError extends Error {}

/** The `--detector` spec a detector name stands for on this worker. */
export function registeredDetectorSpec(name: string, registryFile = DETECTOR_REGISTRY_FILE): string {
  if (name === BUILT_IN_DETECTOR) return name;
  const registry = readRegistry(registryFile);
  if (!Object.hasOwn(registry, name)) {
    throw new UnknownDetectorError(
      `unknown detector '${name}': not in this worker's detector registry (it has: ${[BUILT_IN_DETECTOR, ...Object.keys(registry)].join(', ')})`,
    );
  }
  const spec = registry[name]!;
  const colon = spec.indexOf(':');
  return colon < 0 ? spec : `${spec.slice(0, colon)}:${registryPath(registryFile, spec.slice(colon + 1))}`;
}

/** The detector a job names, as `createDetector` loads it from its registered spec. */
export async function createRegisteredDetector(name: string, options: DetectorOptions, registryFile = DETECTOR_REGISTRY_FILE): Promise<Detector> {
  const spec = registeredDetectorSpec(name, registryFile);
  try {
    return await createDetector(spec, options);
  } catch (err) {
    throw new Error(`detector '${name}' is registered on this worker but could not be loaded: ${(err as Error).message}`, { cause: err });
  }
}
