/**
 * `--model DIR|NAME`: a model folder, or a short name from the repository's `models/registry.json`
 * (`{"name": "path"}`), so that commands, jobs and documentation can say `bundled` instead of a
 * path that differs from machine to machine.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { readJsonFile } from '../util/read-data-file.ts';

/** The repository's registry. Its relative paths are relative to the folder holding `models/` (the repository root). */
export const REGISTRY_FILE = fileURLToPath(new URL('../../../models/registry.json', import.meta.url));

const registrySchema = z.record(z.string().min(1), z.string().min(1));

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The absolute model folder that `nameOrDir` means: an existing folder, else a registered name. */
export function resolveModel(nameOrDir: string, registryFile = REGISTRY_FILE): string {
  if (isDirectory(nameOrDir)) return resolve(nameOrDir);
  const registry = existsSync(registryFile) ? readJsonFile(registryFile, registrySchema) : {};
  const registered = Object.hasOwn(registry, nameOrDir) ? registry[nameOrDir] : undefined;
  if (registered === undefined) {
    const names = Object.keys(registry);
    throw new Error(`--model ${nameOrDir}: no such folder, and no model of that name in ${registryFile} (${names.length ? `it names ${names.join(', ')}` : 'it names none'})`);
  }
  const dir = resolve(dirname(dirname(registryFile)), registered);
  if (!isDirectory(dir)) throw new Error(`--model ${nameOrDir}: ${registryFile} points it to ${dir}, which is not a folder`);
  return dir;
}
