import { RunStatus } from '../gql/graphql';

/** Every status (generated from schema.graphql, in name order). */
export const RUN_STATUSES: readonly RunStatus[] = Object.values(RunStatus);

export const TERMINAL_STATUSES: readonly RunStatus[] = [RunStatus.Finished, RunStatus.Failed, RunStatus.Cancelled];

/** A run that can still be cancelled: queued or working. */
export const ACTIVE_STATUSES: readonly RunStatus[] = RUN_STATUSES.filter((s) => !TERMINAL_STATUSES.includes(s));

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
