/** Server-side reads from the API. Every call makes the page dynamic: the data is the API's, now. */
import { headers } from 'next/headers';
import { connection } from 'next/server';
import type { TypedDocumentString } from '../gql/graphql';
import { clientAddressHeaders } from './client-address';
import { ApiError, postGraphQL, type VariablesOf } from './graphql';

/** Where the API listens; read at request time so one build serves any deployment. */
export function apiUrl(): string {
  return (process.env.API_URL ?? 'http://127.0.0.1:4000').replace(/\/+$/, '');
}

export async function query<T, V>(document: TypedDocumentString<T, V>, ...[variables]: VariablesOf<V>): Promise<T> {
  await connection();
  return postGraphQL(`${apiUrl()}/graphql`, document, variables, { headers: clientAddressHeaders(await headers()) });
}

/** The data, or the ApiError to show in its place (pages render errors rather than throw them). */
export async function load<T, V>(
  document: TypedDocumentString<T, V>,
  ...variables: VariablesOf<V>
): Promise<{ data: T; error?: never } | { data?: never; error: ApiError }> {
  try {
    return { data: await query(document, ...variables) };
  } catch (err) {
    if (err instanceof ApiError) return { error: err };
    throw err;
  }
}
