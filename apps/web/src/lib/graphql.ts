/**
 * One way to talk to the API's /graphql, for the server (straight to API_URL) and the browser
 * (through this app's /graphql proxy, so the browser needs no CORS and never learns API_URL).
 * Every failure becomes an ApiError whose message a person can act on. Documents are the typed ones
 * codegen makes from `graphql(...)` calls (scripts/codegen.ts), so a page reads what its query asks for.
 */
import type { TypedDocumentString } from '../gql/graphql';

/** The variables a document takes: none for a document without any. */
export type VariablesOf<V> = V extends { [key: string]: never } ? [variables?: NoInfer<V>] : [variables: NoInfer<V>];

export interface FieldError {
  path: (string | number)[];
  message: string;
}

/** `code` is the API's extensions.code, or API_UNREACHABLE / BAD_RESPONSE from here. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; fieldErrors?: FieldError[] } }[];
}

export interface RequestOptions {
  token?: string;
  /** more headers: on the server, the browser's signed address (client-address.ts), so that the API's rate limits count per person */
  headers?: Record<string, string>;
}

export async function postGraphQL<T, V>(
  url: string,
  document: TypedDocumentString<T, V>,
  variables: V | undefined,
  { token, headers: extra = {} }: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
      cache: 'no-store',
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ApiError(`The API at ${url} is not answering (${cause}). Start it with \`npm run api\`, or point API_URL at it.`, 'API_UNREACHABLE');
  }
  let body: GraphQLBody<T>;
  try {
    body = (await response.json()) as GraphQLBody<T>;
  } catch {
    throw new ApiError(`The API at ${url} answered HTTP ${response.status} without a GraphQL body.`, 'BAD_RESPONSE');
  }
  const [first] = body.errors ?? [];
  if (first) {
    const fieldErrors = (body.errors ?? []).flatMap((e) => e.extensions?.fieldErrors ?? []);
    throw new ApiError(first.message, first.extensions?.code ?? 'GRAPHQL_ERROR', fieldErrors);
  }
  if (!body.data) throw new ApiError(`The API at ${url} answered HTTP ${response.status} with no data.`, 'BAD_RESPONSE');
  return body.data;
}

/** An answer meaning that what was asked for does not exist: NOT_FOUND, or an id that cannot be one. */
export function isMissing(error: ApiError): boolean {
  return error.code === 'NOT_FOUND' || (error.code === 'BAD_USER_INPUT' && error.fieldErrors.some((f) => f.message === 'not a valid id'));
}
