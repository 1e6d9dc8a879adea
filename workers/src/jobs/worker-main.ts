/**
 * `npm run worker -- --queues generate,evaluate --concurrency N --device cpu|cuda`: a worker
 * process. It needs Redis and the artifact store only, never database credentials.
 *
 * Environment: REDIS_URL (redis://127.0.0.1:6379), the artifact store (ARTIFACT_STORE=s3://BUCKET[/PREFIX]
 * with S3_ENDPOINT, S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; or ARTIFACT_DIR, default the
 * repository's .artifacts/; see artifacts/config.ts),
 * WORKER_HEALTH_PORT (0: any free port, logged) and WORKER_HEALTH_HOST (127.0.0.1) for /healthz,
 * /readyz and /metrics (Prometheus), WORKER_SHUTDOWN_GRACE_MS (30000): how long SIGTERM lets running jobs finish before it
 * puts them back to wait, WORKER_LOCK_DURATION_MS and WORKER_STALLED_INTERVAL_MS (BullMQ's, 30000),
 * WORKER_CANCEL_POLL_MS (2000): how often a running job checks whether its run was cancelled,
 * INFSPLIGN_MODEL_REGISTRY (models/registry.json), INFSPLIGN_DETECTOR_REGISTRY (models/detectors.json), LOG_LEVEL (info),
 * WORKER_NICE (10): the process's CPU priority as a nice value, 0 to 19 (a worker's jobs are batch work: on a machine it
 * shares with the API or the web app, their requests get the CPU first; 0 leaves the priority as it is).
 * Logs are JSON lines (pino) on stdout.
 */
import { getPriority, setPriority } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { artifactStoreConfigFromEnv, createArtifactStore } from '../artifacts/config.ts';
import { JOB_DEVICES, QUEUES, type Stage } from '../contracts/jobs.ts';
import { describeZodError } from '../util/read-data-file.ts';
import { startHealthServer } from './health.ts';
import { collectProcessMetrics } from './metrics.ts';
import { redactRedisUrl, redisUrlFromEnv } from './queues.ts';
import { WorkerRuntime } from './runtime.ts';

const STAGES = [QUEUES.generate, QUEUES.evaluate] as const;

const USAGE = `usage: npm run worker -- [--queues ${STAGES.join(',')}] [--concurrency 1] [--device ${JOB_DEVICES.join('|')}]`;

const blankIsUnset = (value: unknown) => (value === '' ? undefined : value);
const optionalInt = (min: number) => z.preprocess(blankIsUnset, z.coerce.number().int().min(min).optional());

const envSchema = z.object({
  WORKER_HEALTH_PORT: z.preprocess(blankIsUnset, z.coerce.number().int().min(0).max(65535).default(0)),
  WORKER_HEALTH_HOST: z.preprocess(blankIsUnset, z.string().default('127.0.0.1')),
  WORKER_SHUTDOWN_GRACE_MS: z.preprocess(blankIsUnset, z.coerce.number().int().min(0).default(30_000)),
  WORKER_LOCK_DURATION_MS: optionalInt(100),
  WORKER_STALLED_INTERVAL_MS: optionalInt(100),
  WORKER_CANCEL_POLL_MS: optionalInt(50),
  INFSPLIGN_MODEL_REGISTRY: z.preprocess(blankIsUnset, z.string().optional()),
  INFSPLIGN_DETECTOR_REGISTRY: z.preprocess(blankIsUnset, z.string().optional()),
  LOG_LEVEL: z.preprocess(blankIsUnset, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info')),
  WORKER_NICE: z.preprocess(blankIsUnset, z.coerce.number().int().min(0).max(19).default(10)),
});

const argsSchema = z.object({
  queues: z
    .string()
    .default(STAGES.join(','))
    .transform((text) => [...new Set(text.split(',').map((q) => q.trim()))])
    .pipe(z.array(z.enum(STAGES, { error: (issue) => `unknown queue '${String(issue.input)}' (a worker serves ${STAGES.join(', ')})` })).min(1)),
  concurrency: z.coerce.number().int().min(1).max(64).default(1),
  device: z.enum(JOB_DEVICES).default('cpu'),
});

function usageError(message: string): never {
  console.error(`worker: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: { queues: { type: 'string' }, concurrency: { type: 'string' }, device: { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    usageError((err as Error).message);
  }
  const args = argsSchema.safeParse(values);
  if (!args.success) usageError(describeZodError(args.error));
  const env = envSchema.safeParse(process.env);
  if (!env.success) usageError(`environment: ${describeZodError(env.error)}`);
  const storeConfig = (() => {
    try {
      return artifactStoreConfigFromEnv();
    } catch (err) {
      usageError(`environment: ${(err as Error).message}`);
    }
  })();
  const { queues, concurrency, device } = args.data;
  const stages: Stage[] = queues;

  const logger = pino({ level: env.data.LOG_LEVEL, base: { pid: process.pid } });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'unhandled rejection');
    process.exit(1);
  });
  // Before any thread starts: the compute threads and onnxruntime's inherit the main thread's priority.
  if (getPriority() < env.data.WORKER_NICE) {
    try {
      setPriority(env.data.WORKER_NICE);
    } catch (err) {
      logger.warn({ err: (err as Error).message, nice: env.data.WORKER_NICE }, 'could not lower the CPU priority');
    }
  }
  // A worker that would run generate jobs on a device it cannot use fails now, with the way to fix it, not at its first job.
  // (Loaded only then: an evaluate-only worker has no use for the diffusion stack in its main thread.)
  if (stages.includes('generate')) await (await import('../diffusion/providers.ts')).ensureDeviceAvailable(device);

  const store = createArtifactStore(storeConfig);
  const redisUrl = redisUrlFromEnv();
  const runtime = new WorkerRuntime({
    redisUrl,
    stages,
    concurrency,
    device,
    store: storeConfig,
    registryFile: env.data.INFSPLIGN_MODEL_REGISTRY,
    detectorRegistryFile: env.data.INFSPLIGN_DETECTOR_REGISTRY,
    logger,
    lockDurationMs: env.data.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: env.data.WORKER_STALLED_INTERVAL_MS,
    cancelPollMs: env.data.WORKER_CANCEL_POLL_MS,
  });
  // Up before Redis is: an orchestrator sees a live but not ready worker while Redis is unreachable.
  collectProcessMetrics(runtime.metrics.registry);
  const health = await startHealthServer(
    env.data.WORKER_HEALTH_PORT,
    env.data.WORKER_HEALTH_HOST,
    () => ({ ready: runtime.ready(), activeJobs: runtime.activeJobs }),
    runtime.metrics.registry,
  );

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: releasing running jobs now');
      runtime.releaseActive();
      return;
    }
    stopping = true;
    const grace = env.data.WORKER_SHUTDOWN_GRACE_MS;
    logger.info({ signal, activeJobs: runtime.activeJobs, graceMs: grace }, 'shutting down: finishing running jobs');
    const timer = setTimeout(() => {
      logger.warn({ activeJobs: runtime.activeJobs }, 'grace period over: releasing running jobs');
      runtime.releaseActive();
    }, grace);
    await runtime.close();
    clearTimeout(timer);
    await health.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void stop(signal));
  process.on('SIGINT', (signal) => void stop(signal));

  logger.info(
    { queues: stages, concurrency, device, redis: redactRedisUrl(redisUrl), artifacts: store.description, healthPort: health.port, nice: getPriority() },
    'worker starting',
  );
  await runtime.waitUntilReady();
  logger.info({ healthPort: health.port }, 'worker ready');
}

await main();
