/**
 * A job that can never succeed as given (an inconsistent payload, an unknown model, a missing
 * image): failing it at once, rather than after every retry, gets its reason to a person sooner.
 */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}
