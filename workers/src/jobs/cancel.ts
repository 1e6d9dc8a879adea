/**
 * Cancelling a run's running jobs: the API sets a marker in Redis (and removes the run's waiting
 * jobs itself); a worker checks it before starting a chunk and every few seconds while one runs,
 * and stops the computation when it appears. The marker lives outside BullMQ's keys.
 */

/** The few commands used here, as an ioredis client offers them (queues.ts `openRedisClient`; BullMQ 6 does not expose its own). */
export interface MarkerClient {
  set(key: string, value: string, mode: 'EX', seconds: number): Promise<unknown>;
  exists(key: string): Promise<number>;
}

const CANCEL_TTL_SECONDS = 7 * 24 * 3600;

function cancelKey(runId: string): string {
  return `infsplign:cancelled:${runId}`;
}

/** Marks a run cancelled, for a week (longer than any job may wait or run). */
export async function markRunCancelled(redis: MarkerClient, runId: string): Promise<void> {
  await redis.set(cancelKey(runId), '1', 'EX', CANCEL_TTL_SECONDS);
}

export async function isRunCancelled(redis: MarkerClient, runId: string): Promise<boolean> {
  return (await redis.exists(cancelKey(runId))) > 0;
}
