/**
 * The name registries under `models/` (registry.json for diffusion models, detectors.json for
 * detectors): JSON objects of names and locations, relative locations being relative to the folder
 * holding `models/` (the repository root), so one file serves every checkout.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from './read-data-file.ts';

const registrySchema = z.record(z.string().min(1), z.string().min(1));

/** The registry's entries; none when the file does not exist. */
export function readRegistry(file: string): Record<string, string> {
  return existsSync(file) ? readJsonFile(file, registrySchema) : {};
}

/** A location the registry gives, made absolute. */
export function registryPath(file: string, location: string): string {
  return resolve(dirname(dirname(file)), location);
}
