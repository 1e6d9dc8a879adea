'use client';
/** Browser-side calls, through this app's /graphql proxy. */
import { postGraphQL } from './graphql';

export function clientQuery<T>(document: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  return postGraphQL<T>('/graphql', document, variables, { token });
}
