/**
 * A run's configuration as it identifies the run (docs/method.md §4): the method's name, the sampler
 * version and the method's canonical parameters; its hash is the SHA-256 of its JSON with sorted keys.
 */
import { createHash } from 'node:crypto';
import { requireMethod } from '../methods/registry.ts';

/**
 * The version of what the sampler computes for given parameters, part of every run's identity, so a
 * finished run made under older defaults is never reused as if it were made under the current ones.
 * 1: the first release. 2: DDIM with trailing spacing, the gradient under Euler taken with respect
 * to the unscaled latent, "on top of" / "on bottom of" without a spatial term (docs/method.md §1, §2.4).
 */
export const SAMPLER_VERSION = 2;

export interface CanonicalConfig {
  /** a registered method's name (methods/registry.ts) */
  method: string;
  sampler_version: number;
  /** the method's canonical parameters (MethodParamsSpec.canonical) */
  params: Record<string, unknown>;
}

/** The configuration that identifies a run of `method` with these (resolved) parameters. */
export function canonicalConfig(method: string, params: Record<string, unknown>): CanonicalConfig {
  const definition = requireMethod(method);
  return { method: definition.name, sampler_version: SAMPLER_VERSION, params: definition.params.canonical(params as never) };
}

/**
 * JSON with the keys of every object sorted (by code unit, at every depth), so equal values always
 * give equal text. Written out rather than via a JSON.stringify replacer because objects list
 * integer-like keys first whatever order they were inserted in.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 (hex) of the canonical configuration's sorted-key JSON (docs/method.md §4). */
export function configHash(config: CanonicalConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}
