/**
 * A job that can never succeed as given (an inconsistent payload, an unknown model, a missing
 * image): failing it at once, rather than after every retry, gets its reason to a person sooner.
 */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

/**
 * Kinds of job failure, for metric labels: a label takes a few fixed values, never the free-text
 * reason (one series per distinct message would grow without bound).
 */
export const FAILURE_CATEGORIES = ['timeout', 'stalled', 'invalid_payload', 'permanent', 'error'] as const;
export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];

/**
 * The kind of a failure from its reason as BullMQ records it (the class is gone by then: BullMQ
 * rethrows permanent failures as UnrecoverableError, and the API sees only ChunkFailed's text).
 * `permanent`: the failure was not to be retried.
 */
export function failureCategory(reason: string, permanent: boolean): FailureCategory {
  // run-in-thread.ts's JobTimeoutError
  if (reason.startsWith('ran past its limit of ')) return 'timeout';
  // BullMQ's own, for a job whose worker died (or stalled) more often than allowed
  if (/(stalled|started) more than allowable limit/.test(reason)) return 'stalled';
  // parsePayload's, as runtime.ts names the job
  if (/^(generate|evaluate) job [^\s:]+: /.test(reason)) return 'invalid_payload';
  return permanent ? 'permanent' : 'error';
}
