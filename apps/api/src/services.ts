/**
 * What the API's parts share: the database, the artifact store, the queues, a logger and the
 * settings of the run lifecycle. Built once by createApiServer (or by a test) and passed down.
 */
import { execFileSync } from 'node:child_process';
import type { ArtifactStore } from '@infsplign/workers/artifacts';
import { QUEUES } from '@infsplign/workers/contracts';
import { openQueue } from '@infsplign/workers/queues';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LeaderboardSettings } from './graphql/resolvers/leaderboard.ts';
import type { ApiMetrics } from './metrics.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { Device } from './runs/plan.ts';
import type { Planner } from './runs/planner.ts';

export interface ApiQueues {
  generate: Queue;
  evaluate: Queue;
  results: Queue;
}

export interface LifecycleSettings {
  /** the device generate jobs ask for (the workers that take them must have it) */
  device: Device;
  /** an unfinished run with no progress for this long is reported by queueHealth as stuck */
  stuckAfterMs: number;
  /** ... and failed by the timeout sweep after this long */
  failAfterMs: number;
  /** the most images one run may have (MAX_RUN_IMAGES); a larger submission is refused */
  maxRunImages: number;
}

export const DEFAULT_LIFECYCLE: LifecycleSettings = {
  device: 'cpu',
  stuckAfterMs: 15 * 60 * 1000,
  // Longer than a generate job may run (2 h per attempt, contracts/jobs.ts) plus its retries' backoff.
  failAfterMs: 6 * 3600 * 1000,
  // The whole VISOR set at 4 images per prompt (126,720) and then some.
  maxRunImages: 200_000,
};

export interface Services {
  prisma: PrismaClient;
  store: ArtifactStore;
  queues: ApiQueues;
  /** a plain client for what BullMQ does not expose: cancel markers, readiness pings */
  redis: Redis;
  logger: Logger;
  lifecycle: LifecycleSettings;
  /** the code version runs record (git commit), null when unknown */
  codeVersion: string | null;
  /** this server's Prometheus metrics (GET /metrics) */
  metrics: ApiMetrics;
  /** planning and enqueueing runs, in a thread of its own */
  planner: Planner;
  /** what the leaderboard ranks (its minimum run size) */
  leaderboard: LeaderboardSettings;
}

/** INFSPLIGN_CODE_VERSION, else the repository's HEAD commit, else null (e.g. an install without git). */
export function codeVersionFromEnv(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.INFSPLIGN_CODE_VERSION) return env.INFSPLIGN_CODE_VERSION;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: import.meta.dirname, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

export function openQueues(redisUrl: string): ApiQueues {
  return { generate: openQueue(QUEUES.generate, redisUrl), evaluate: openQueue(QUEUES.evaluate, redisUrl), results: openQueue(QUEUES.results, redisUrl) };
}

export async function closeQueues(queues: ApiQueues): Promise<void> {
  await Promise.all([queues.generate.close(), queues.evaluate.close(), queues.results.close()]);
}
