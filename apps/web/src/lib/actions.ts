'use server';
/**
 * Every mutation the web app makes, as Server Actions: they run on this app's server, which adds the
 * signed-in team's token from its httpOnly cookie (lib/session.ts) and the browser's signed address,
 * so the browser never holds a token. Each answers what happened as data (errors included: a thrown
 * error reaches the browser without its message in production).
 */
import { cookies } from 'next/headers';
import { z } from 'zod';
import { graphql } from '../gql';
import type { SubmitRunInput } from '../gql/graphql';
import { ApiError, type FieldError } from './graphql';
import { MAX_SWEEP_VALUES } from './param-schema';
import { asTeam, overHttps, sessionCookie, TOKEN_COOKIE, VIEWER, withToken } from './session';

export type ActionError = { message: string; code: string; fieldErrors: FieldError[] };
export type ActionResult<T> = { ok: true; value: T } | { ok: false; error: ActionError };

async function attempt<T>(work: () => Promise<T>): Promise<ActionResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, error: { message: err.message, code: err.code, fieldErrors: err.fieldErrors } };
    if (err instanceof z.ZodError) return { ok: false, error: { message: z.prettifyError(err), code: 'BAD_USER_INPUT', fieldErrors: [] } };
    throw err;
  }
}

const runId = z.uuid('not a valid run id');

/** Where to go after signing in: a path of this site only. */
const nextPath = (value: FormDataEntryValue | null) => (typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : '/submit');

/** A refusal to show, or where to go now that the cookie is set (a full page load, so that every part of the page knows the team). */
export interface SignInState {
  error?: string;
  next?: string;
}

/** Checks the token with the API (the `viewer` it speaks for) and keeps it in the session cookie. */
export async function signIn(_previous: SignInState, form: FormData): Promise<SignInState> {
  const token = String(form.get('token') ?? '').trim();
  if (!token) return { error: 'Paste an API token (npm run token -- --team NAME makes one).' };
  if (token.length > 500) return { error: 'That is not an API token: they read isa_<prefix>_<secret>.' };
  let expiresAt: string | null;
  try {
    const { viewer } = await withToken(token, VIEWER);
    if (!viewer) return { error: 'The API did not recognise the token.' };
    expiresAt = viewer.token.expiresAt;
  } catch (err) {
    if (err instanceof ApiError) return { error: err.message };
    throw err;
  }
  (await cookies()).set(sessionCookie(token, { https: await overHttps(), expiresAt }));
  return { next: nextPath(form.get('next')) };
}

export async function signOut(): Promise<void> {
  (await cookies()).delete(TOKEN_COOKIE);
}

const SUBMIT = graphql(`
  mutation SubmitRun($input: SubmitRunInput!) {
    submitRun(input: $input) {
      reused
      run {
        id
      }
    }
  }
`);

export interface Submitted {
  id: string;
  reused: boolean;
}

/**
 * One run, or a sweep's runs (one per value), in order. A refusal stops the sweep there: the runs
 * already made are returned with the error, which says which value was refused.
 */
export async function submitRuns(inputs: SubmitRunInput[]): Promise<{ submitted: Submitted[]; error?: ActionError & { index: number } }> {
  const checked = z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_SWEEP_VALUES).safeParse(inputs);
  if (!checked.success) return { submitted: [], error: { message: `submit 1 to ${MAX_SWEEP_VALUES} runs`, code: 'BAD_USER_INPUT', fieldErrors: [], index: 0 } };
  const submitted: Submitted[] = [];
  for (const [index, input] of inputs.entries()) {
    const result = await attempt(() => asTeam(SUBMIT, { input }));
    if (!result.ok) return { submitted, error: { ...result.error, index } };
    submitted.push({ id: result.value.submitRun.run.id, reused: result.value.submitRun.reused });
  }
  return { submitted };
}

const CANCEL = graphql(`
  mutation CancelRun($id: ID!) {
    cancelRun(id: $id) {
      id
      status
    }
  }
`);
const RETRY = graphql(`
  mutation RetryRun($id: ID!) {
    retryRun(id: $id) {
      id
      status
    }
  }
`);
const DELETE = graphql(`
  mutation DeleteRun($id: ID!) {
    deleteRun(id: $id) {
      id
    }
  }
`);
const RESCORE = graphql(`
  mutation RescoreRun($id: ID!, $detector: String, $threshold: Float) {
    rescoreRun(runId: $id, detector: $detector, threshold: $threshold) {
      reused
      run {
        id
      }
    }
  }
`);

export async function cancelRun(id: string): Promise<ActionResult<null>> {
  return attempt(async () => (await asTeam(CANCEL, { id: runId.parse(id) }), null));
}

export async function retryRun(id: string): Promise<ActionResult<null>> {
  return attempt(async () => (await asTeam(RETRY, { id: runId.parse(id) }), null));
}

export async function deleteRun(id: string): Promise<ActionResult<null>> {
  return attempt(async () => (await asTeam(DELETE, { id: runId.parse(id) }), null));
}

/** A new EVALUATE_ONLY run on the run's images (or the identical one that already finished): its id. */
export async function rescoreRun(id: string, settings: { detector?: string; threshold?: number }): Promise<ActionResult<string>> {
  const rescoring = z.object({ detector: z.string().trim().min(1).max(200).optional(), threshold: z.number().finite().optional() });
  return attempt(async () => (await asTeam(RESCORE, { id: runId.parse(id), ...rescoring.parse(settings) })).rescoreRun.run.id);
}
