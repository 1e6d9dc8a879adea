/**
 * The signed-in team, on the server only. The API token is entered once on /signin and kept in an
 * httpOnly, SameSite=Strict cookie (Secure when the request came over https), which no script in the
 * page can read; Server Actions (lib/actions.ts) send it to the API with the browser's signed address.
 */
import { cookies, headers } from 'next/headers';
import { cache } from 'react';
import { graphql } from '../gql';
import type { TypedDocumentString, ViewerQuery } from '../gql/graphql';
import { apiUrl } from './api';
import { clientAddressHeaders } from './client-address';
import { ApiError, postGraphQL, type VariablesOf } from './graphql';

export const TOKEN_COOKIE = 'infsplign_token';

/** How long the cookie lives at most; less when the token expires sooner. */
export const SESSION_MAX_AGE_S = 30 * 24 * 3600;

export const VIEWER = graphql(`
  query Viewer {
    viewer {
      team {
        name
      }
      token {
        name
        prefix
        expiresAt
      }
    }
  }
`);

export type Viewer = NonNullable<ViewerQuery['viewer']>;

/** The cookie's attributes: never readable by scripts, never sent by another site's request, Secure over https. */
export function sessionCookie(token: string, { https, expiresAt, now = Date.now() }: { https: boolean; expiresAt: string | null; now?: number }) {
  const untilExpiry = expiresAt === null ? Infinity : Math.floor((Date.parse(expiresAt) - now) / 1000);
  return {
    name: TOKEN_COOKIE,
    value: token,
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: https,
    path: '/',
    maxAge: Math.max(0, Math.min(SESSION_MAX_AGE_S, untilExpiry)),
  };
}

/** Whether the browser reached this app over https (X-Forwarded-Proto, set by a TLS-terminating proxy in front; it only decides the cookie's Secure flag). */
export async function overHttps(): Promise<boolean> {
  return (await headers()).get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}

/** A request to the API with `token`, from the browser's signed address. */
export async function withToken<T, V>(token: string, document: TypedDocumentString<T, V>, ...[variables]: VariablesOf<V>): Promise<T> {
  return postGraphQL(`${apiUrl()}/graphql`, document, variables, { token, headers: clientAddressHeaders(await headers()) });
}

/** A request to the API for the signed-in team; UNAUTHENTICATED when nobody is signed in. */
export async function asTeam<T, V>(document: TypedDocumentString<T, V>, ...variables: VariablesOf<V>): Promise<T> {
  const token = (await cookies()).get(TOKEN_COOKIE)?.value;
  if (!token) throw new ApiError('Sign in first: actions act for the team of the API token you sign in with.', 'UNAUTHENTICATED');
  return withToken(token, document, ...variables);
}

export type Session = { viewer: Viewer } | { viewer: null; problem?: string };

/** Who is signed in, asked of the API once per request: none, the team, or why the kept token no longer works. */
export const currentSession = cache(async (): Promise<Session> => {
  const token = (await cookies()).get(TOKEN_COOKIE)?.value;
  if (!token) return { viewer: null };
  try {
    const { viewer } = await withToken(token, VIEWER);
    return viewer ? { viewer } : { viewer: null };
  } catch (err) {
    if (err instanceof ApiError)
      return { viewer: null, problem: err.code === 'UNAUTHENTICATED' ? `The API refused the kept token: ${err.message}` : err.message };
    throw err;
  }
});
