/**
 * What the API and the workers agree on: job and result messages, method parameters with their
 * canonical configuration, benchmark names and relations, artifact keys, and how a zod error reads.
 * The workers' public surface (package.json `exports`); everything else under src/ is internal.
 */
export * from '../contracts/jobs.ts';
export type { ImageCost } from '../diffusion/cost.ts';
export * from '../contracts/common-params.ts';
export * from '../contracts/method-params.ts';
export * from '../contracts/model-defaults.ts';
export * from '../contracts/run-config.ts';
export * from '../prompts/types.ts';
export { describeZodError, readJsonFile } from '../util/read-data-file.ts';
