/**
 * The errors the API answers with: GraphQL errors with a machine-readable `extensions.code` and, for
 * invalid input, `extensions.fieldErrors` naming where in the arguments each problem is
 * (e.g. ['input', 'params', 'steps']), so that a client can show it next to the field.
 */
import { GraphQLError } from 'graphql';
import type { z } from 'zod';

export type ErrorCode = 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE';

export type FieldPath = ReadonlyArray<string | number>;

export interface FieldError {
  path: (string | number)[];
  message: string;
}

/** HTTP status for requests refused as a whole; resolver errors keep GraphQL's 200 with `errors`. */
const STATUS: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401 };

export class ApiError extends GraphQLError {
  constructor(code: ErrorCode, message: string, fieldErrors: FieldError[] = []) {
    const status = STATUS[code];
    super(message, { extensions: { code, ...(fieldErrors.length > 0 && { fieldErrors }), ...(status && { http: { status } }) } });
  }
}

/** One invalid input value: the message starts with its path, which the extensions carry too. */
export function inputError(path: FieldPath, message: string): ApiError {
  return new ApiError('BAD_USER_INPUT', `${path.join('.')}: ${message}`, [{ path: [...path], message }]);
}

/** Every problem zod found, each under `base` + its own path. */
export function zodInputError(error: z.ZodError, base: FieldPath = []): ApiError {
  const fieldErrors = error.issues.map((issue) => ({
    path: [...base, ...issue.path.map((k) => (typeof k === 'number' ? k : String(k)))],
    message: issue.message,
  }));
  const [first] = fieldErrors;
  const more = fieldErrors.length > 1 ? ` (and ${fieldErrors.length - 1} more)` : '';
  return new ApiError('BAD_USER_INPUT', `${first.path.join('.')}: ${first.message}${more}`, fieldErrors);
}

/** Parses untrusted input with `schema`; a failure is a BAD_USER_INPUT error with field paths under `base`. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, base: FieldPath = []): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw zodInputError(result.error, base);
  return result.data;
}

export function notFound(what: string): ApiError {
  return new ApiError('NOT_FOUND', `${what} not found`);
}
