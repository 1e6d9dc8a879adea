/**
 * Relay-style paging: `first` (1 to MAX_PAGE_SIZE) and an opaque `after` cursor, which encodes the
 * sort key of the last item seen (keyset paging: stable under inserts, index-friendly).
 */
import { z } from 'zod';
import { inputError, parseInput } from '../errors.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './limits.ts';

export function pageSize(first: number | null | undefined, path: string = 'first'): number {
  return parseInput(z.number().int().min(1).max(MAX_PAGE_SIZE, `at most ${MAX_PAGE_SIZE} items per page`), first ?? DEFAULT_PAGE_SIZE, [path]);
}

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key a cursor encodes, checked against the shape this listing writes. */
export function decodeCursor<S extends z.ZodType>(cursor: string | null | undefined, schema: S, path: string = 'after'): z.output<S> | null {
  if (cursor === null || cursor === undefined) return null;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw inputError([path], 'not a cursor of this listing (pass an endCursor or edge cursor it returned)');
  }
  const result = schema.safeParse(key);
  if (!result.success) throw inputError([path], 'not a cursor of this listing (pass an endCursor or edge cursor it returned)');
  return result.data;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/**
 * A page from `size + 1` fetched items: the extra one only says that there is a next page. A page
 * after a cursor (`after`, the decoded key) has items before it, the one the cursor names at least.
 */
export function connection<T>(items: readonly T[], size: number, keyOf: (item: T) => unknown, after: unknown = null): Connection<T> {
  const page = items.slice(0, size);
  const edges = page.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: items.length > size,
      hasPreviousPage: after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
