/**
 * Artifact keys: the only names the artifact store accepts. A key is one or more `/`-separated
 * segments of letters, digits, `_`, `-` and `.`, where no segment is empty or starts with `.`; so
 * `..`, `.`, absolute paths, backslashes, drive letters and hidden files cannot be expressed at all,
 * and a key joined to the store's root always names a path inside it. The store keeps its own
 * temporary files under dot-names, which no key can reach.
 */
import { z } from 'zod';

export const MAX_KEY_LENGTH = 512;

const SEGMENT = '[A-Za-z0-9_-][A-Za-z0-9._-]*';
const KEY_PATTERN = new RegExp(`^${SEGMENT}(?:/${SEGMENT})*$`);

export class InvalidArtifactKeyError extends Error {}

/** Why `key` is not a valid artifact key, or null when it is. */
export function artifactKeyProblem(key: string): string | null {
  if (key.length === 0) return 'an artifact key must not be empty';
  if (key.length > MAX_KEY_LENGTH) return `an artifact key must be at most ${MAX_KEY_LENGTH} characters, got ${key.length}`;
  if (!KEY_PATTERN.test(key)) {
    return `invalid artifact key '${key.slice(0, 80)}': use '/'-separated segments of letters, digits, '_', '-' and '.', none empty and none starting with '.'`;
  }
  return null;
}

/** Returns `key` if valid; throws InvalidArtifactKeyError naming the problem otherwise. */
export function checkArtifactKey(key: string): string {
  const problem = artifactKeyProblem(key);
  if (problem) throw new InvalidArtifactKeyError(problem);
  return key;
}

/** A key (or a prefix: prefixes follow the same rules, as the "folder" above keys) at a trust boundary. */
export const artifactKeySchema = z.string().superRefine((key, ctx) => {
  const problem = artifactKeyProblem(key);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** `prefix/name`, checked. */
export function joinKey(prefix: string, name: string): string {
  return checkArtifactKey(`${prefix}/${name}`);
}
