/**
 * `--model DIR|NAME`: a model folder, or a short name from the repository's `models/registry.json`
 * (`{"name": "path"}`), so that commands, jobs and documentation can say `bundled` instead of a
 * path that differs from machine to machine. Jobs (which come through the API) name models only:
 * `registeredModel` never reads a path it is given, and its errors say nothing about the file system.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRegistry, registryPath } from '../util/registry-file.ts';

/** The repository's registry. Its relative paths are relative to the folder holding `models/` (the repository root). */
export const REGISTRY_FILE = fileURLToPath(new URL('../../../models/registry.json', import.meta.url));

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The absolute model folder that `nameOrDir` means: an existing folder, else a registered name (the CLI). */
export function resolveModel(nameOrDir: string, registryFile = REGISTRY_FILE): string {
  if (isDirectory(nameOrDir)) return resolve(nameOrDir);
  const registry = readRegistry(registryFile);
  const registered = Object.hasOwn(registry, nameOrDir) ? registry[nameOrDir] : undefined;
  if (registered === undefined) {
    const names = Object.keys(registry);
    throw new Error(
      `--model ${nameOrDir}: no such folder, and no model of that name in ${registryFile} (${names.length ? `it names ${names.join(', ')}` : 'it names none'})`,
    );
  }
  const dir = registryPath(registryFile, registered);
  if (!isDirectory(dir)) throw new Error(`--model ${nameOrDir}: ${registryFile} points it to ${dir}, which is not a folder`);
  return dir;
}

export class UnknownModelError extends Error {}

/** The folder of a model a job names: registered names only, whatever folders exist. */
export function registeredModel(name: string, registryFile = REGISTRY_FILE): string {
  const registry = readRegistry(registryFile);
  if (!Object.hasOwn(registry, name))
    throw new UnknownModelError(`unknown model '${name}': not in this worker's model registry (it has: ${Object.keys(registry).join(', ') || 'none'})`);
  const dir = registryPath(registryFile, registry[name]!);
  if (!isDirectory(dir)) throw new UnknownModelError(`model '${name}' is registered on this worker, but its folder is missing there`);
  return dir;
}
