/**
 * Connecting to Redis and putting jobs and results on the queues, with the contract's job ids and
 * retry settings: one implementation for the API (which enqueues chunks) and the workers (which
 * send results), so that both agree on ids, attempts and retention.
 */
import { Queue, type JobsOptions, type RedisOptions } from 'bullmq';
import { Redis, type RedisOptions as IORedisOptions } from 'ioredis';
import {
  evaluateChunkJobSchema,
  evaluateJobId,
  generateChunkJobSchema,
  generateJobId,
  parsePayload,
  QUEUES,
  resultJobId,
  resultMessageSchema,
  type EvaluateChunkJob,
  type EvaluateChunkJobInput,
  type GenerateChunkJob,
  type GenerateChunkJobInput,
  type QueueName,
  type ResultMessage,
} from '../contracts/jobs.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The URL from REDIS_URL (or the local default). */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.REDIS_URL || DEFAULT_REDIS_URL;
}

/**
 * Connection options for a BullMQ Queue or Worker: each makes its own client from them and closes
 * it on close(). BullMQ needs maxRetriesPerRequest null: its blocking commands must wait out a
 * Redis restart instead of failing after a few retries.
 */
export function redisConnection(url: string): RedisOptions {
  return { url, maxRetriesPerRequest: null };
}

/**
 * A plain client for what BullMQ 6 does not expose (its Queue has no `client`): cancel markers
 * (cancel.ts), readiness pings. By default commands wait out a disconnection, as BullMQ's do; pass
 * e.g. `{ maxRetriesPerRequest: 1 }` where a caller must fail fast. The caller closes it (quit()).
 */
export function openRedisClient(url: string, options: IORedisOptions = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null, ...options });
  // ioredis reconnects by itself and reports the outage to each command; an 'error' event with no
  // listener would only print the same failure again.
  client.on('error', () => {});
  return client;
}

/** The URL without its password, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/**
 * Chunk jobs: retried with exponential backoff (10 s, 20 s); kept after completion so that adding
 * the same chunk again (same job id) is a no-op for a week, and after failure for a person to look at.
 */
export const CHUNK_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
} as const satisfies JobsOptions;

/**
 * Result messages: the ingester retries them for about an hour (1 s doubling, 12 attempts), so that
 * results wait out a database outage; completed ones are kept a day, which drops a resent duplicate.
 */
export const RESULT_JOB_OPTIONS = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
} as const satisfies JobsOptions;

/** A Queue for one of the contract's queues. */
export function openQueue(name: QueueName, redisUrl: string): Queue {
  return new Queue(name, { connection: redisConnection(redisUrl) });
}

function checkQueue(queue: Queue, expected: QueueName): void {
  if (queue.name !== expected) throw new Error(`expected the '${expected}' queue, got '${queue.name}'`);
}

/** Adds a generate chunk (validated); adding one whose id is already there adds nothing. */
export async function enqueueGenerate(queue: Queue, input: GenerateChunkJobInput, options: JobsOptions = {}): Promise<GenerateChunkJob> {
  checkQueue(queue, QUEUES.generate);
  const job = parsePayload(generateChunkJobSchema, input, 'generate job');
  await queue.add(QUEUES.generate, job, { ...CHUNK_JOB_OPTIONS, ...options, jobId: generateJobId(job.runId, job.chunk, job.round) });
  return job;
}

/** Adds an evaluate chunk (validated); adding one whose id is already there adds nothing. */
export async function enqueueEvaluate(queue: Queue, input: EvaluateChunkJobInput, options: JobsOptions = {}): Promise<EvaluateChunkJob> {
  checkQueue(queue, QUEUES.evaluate);
  const job = parsePayload(evaluateChunkJobSchema, input, 'evaluate job');
  await queue.add(QUEUES.evaluate, job, { ...CHUNK_JOB_OPTIONS, ...options, jobId: evaluateJobId(job.runId, job.chunk, job.round) });
  return job;
}

/** Puts a result message on `results` (validated), named by its type. */
export async function sendResult(queue: Queue, message: ResultMessage): Promise<void> {
  checkQueue(queue, QUEUES.results);
  const parsed = parsePayload(resultMessageSchema, message, 'result message');
  await queue.add(parsed.type, parsed, { ...RESULT_JOB_OPTIONS, jobId: resultJobId(parsed) });
}
