import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/** Reads a whole text file; a missing or unreadable file is an error that names it. */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/** `[3].objects[1]` from zod's path `[3, 'objects', 1]`; empty for the value itself. */
function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))
    .join('')
    .replace(/^\./, '');
}

/** The first problem zod found, with where it is inside the value, e.g. `detections[0].score: Invalid input: expected number, received null`. */
export function describeZodError(error: z.ZodError): string {
  const [first] = error.issues;
  const where = formatPath(first.path);
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return `${where ? `${where}: ` : ''}${first.message}${more}`;
}

/** Parses and validates a JSON file; errors name the file and the place inside it. */
export function readJsonFile<S extends z.ZodType>(path: string, schema: S): z.output<S> {
  const text = readTextFile(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: malformed JSON (${(err as Error).message})`, { cause: err });
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${path}: ${describeZodError(result.error)}`);
  return result.data;
}

/**
 * Parses and validates every non-blank line of a JSON Lines file and maps it with `toRecord`, which
 * gets the value and its 1-based line number (and may throw; its message is prefixed with `file:line: `).
 * Errors name the file and line; blank lines are skipped but still counted, so line numbers match an editor's.
 */
export function readJsonLines<S extends z.ZodType, T>(path: string, schema: S, toRecord: (value: z.output<S>, lineNumber: number) => T): T[] {
  const lines = readTextFile(path).split('\n');
  const out: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    if (text.trim() === '') continue;
    const where = `${path}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new Error(`${where}: malformed JSON (${(err as Error).message})`, { cause: err });
    }
    const result = schema.safeParse(value);
    if (!result.success) throw new Error(`${where}: ${describeZodError(result.error)}`);
    try {
      out.push(toRecord(result.data, i + 1));
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
    }
  }
  return out;
}
