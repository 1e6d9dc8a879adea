/** Server-side reads from the API. Every call makes the page dynamic: the data is the API's, now. */
import { headers } from 'next/headers';
import { connection } from 'next/server';
import { clientAddressHeaders } from './client-address';
import { ApiError, postGraphQL } from './graphql';

/** Where the API listens; read at request time so one build serves any deployment. */
export function apiUrl(): string {
  return (process.env.API_URL ?? 'http://127.0.0.1:4000').replace(/\/+$/, '');
}

export async function query<T>(document: string, variables: Record<string, unknown> = {}): Promise<T> {
  await connection();
  return postGraphQL<T>(`${apiUrl()}/graphql`, document, variables, { headers: clientAddressHeaders(await headers()) });
}

/** The data, or the ApiError to show in its place (pages render errors rather than throw them). */
export async function load<T>(document: string, variables: Record<string, unknown> = {}): Promise<{ data: T; error?: never } | { data?: never; error: ApiError }> {
  try {
    return { data: await query<T>(document, variables) };
  } catch (err) {
    if (err instanceof ApiError) return { error: err };
    throw err;
  }
}
