'use client';
/** Browser-side reads, through this app's /graphql proxy (mutations go through Server Actions: lib/actions.ts). */
import type { TypedDocumentString } from '../gql/graphql';
import { postGraphQL, type VariablesOf } from './graphql';

export function clientQuery<T, V>(document: TypedDocumentString<T, V>, ...[variables]: VariablesOf<V>): Promise<T> {
  return postGraphQL('/graphql', document, variables);
}
