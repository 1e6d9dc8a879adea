/**
 * Worker threads that run a TypeScript module: the planning thread, the ingest thread, bench:load's
 * clients. One entry (typescript-thread-entry.mjs) registers tsx in the thread and loads the module.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const ENTRY = join(import.meta.dirname, 'typescript-thread-entry.mjs');

/** A thread running the TypeScript module at `modulePath` (absolute), with `options` (its workerData). */
export function typescriptThread(modulePath: string, options: Omit<WorkerOptions, 'argv'> = {}): Worker {
  return new Worker(ENTRY, { ...options, argv: [pathToFileURL(modulePath).href] });
}
