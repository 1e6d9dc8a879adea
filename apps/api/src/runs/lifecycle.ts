/**
 * Run status changes (ARCHITECTURE.md, Run lifecycle): QUEUED → GENERATING → EVALUATING → FINISHED,
 * or FAILED (with a reason a person can act on) or CANCELLED. Each change stamps its own timestamp
 * column and adds a RunEvent row, in the caller's transaction, which holds the run's row lock
 * (`lockRun`) so that concurrent ingesters and mutations see one order of changes.
 */
import type { Prisma, RunStatus } from '../generated/prisma/client.ts';

export type Tx = Prisma.TransactionClient;

export const ACTIVE_STATUSES = ['QUEUED', 'GENERATING', 'EVALUATING'] as const satisfies readonly RunStatus[];

const TIMESTAMP: Record<RunStatus, 'queuedAt' | 'generatingAt' | 'evaluatingAt' | 'finishedAt' | 'failedAt' | 'cancelledAt'> = {
  QUEUED: 'queuedAt',
  GENERATING: 'generatingAt',
  EVALUATING: 'evaluatingAt',
  FINISHED: 'finishedAt',
  FAILED: 'failedAt',
  CANCELLED: 'cancelledAt',
};

/** Order of the working states: a run only moves forward through them (a late message never moves it back). */
const STAGE_ORDER: Partial<Record<RunStatus, number>> = { QUEUED: 0, GENERATING: 1, EVALUATING: 2 };

export function isActive(status: RunStatus): boolean {
  return (ACTIVE_STATUSES as readonly RunStatus[]).includes(status);
}

export interface LockedRun {
  id: string;
  status: RunStatus;
}

/** Locks the run's row for the rest of the transaction; null when the run does not exist (deleted). */
export async function lockRun(tx: Tx, runId: string): Promise<LockedRun | null> {
  const rows = await tx.$queryRaw<LockedRun[]>`SELECT id::text AS id, status::text AS status FROM runs WHERE id = ${runId}::uuid FOR UPDATE`;
  return rows[0] ?? null;
}

/** Sets the status, its timestamp and (for FAILED) the reason, and records the event. */
export async function transition(tx: Tx, runId: string, to: RunStatus, reason: string | null = null, at = new Date()): Promise<void> {
  await tx.run.update({
    where: { id: runId },
    data: { status: to, [TIMESTAMP[to]]: at, ...(to === 'FAILED' ? { errorReason: reason } : to === 'QUEUED' ? { errorReason: null } : {}) },
  });
  await tx.runEvent.create({ data: { runId, status: to, at, reason } });
}

/** Moves a working run forward to `stage` if it is not there yet; no-op for runs at or past it. */
export async function advanceTo(tx: Tx, run: LockedRun, stage: 'GENERATING' | 'EVALUATING'): Promise<void> {
  const from = STAGE_ORDER[run.status];
  if (from === undefined || from >= STAGE_ORDER[stage]!) return;
  // A run evaluated straight from QUEUED (EVALUATE_ONLY) skips GENERATING; its timeline shows that.
  await transition(tx, run.id, stage);
  run.status = stage;
}

/**
 * The run's current round: how many times it was queued, less one. Job ids carry it, so that
 * retryRun's new jobs do not collide with the earlier round's failed ones that BullMQ keeps.
 */
export async function currentRound(tx: Tx, runId: string): Promise<number> {
  return (await tx.runEvent.count({ where: { runId, status: 'QUEUED' } })) - 1;
}
