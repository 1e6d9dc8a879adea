/**
 * `npm run api`: the API as a process. Settings from the environment: DATABASE_URL, REDIS_URL
 * (default redis://127.0.0.1:6379), the artifact store (ARTIFACT_STORE=s3://BUCKET[/PREFIX] with S3_ENDPOINT,
 * S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; or ARTIFACT_DIR, default the repository's
 * .artifacts/; see workers/src/artifacts/config.ts), PORT (4000),
 * HOST (127.0.0.1), INFSPLIGN_DEVICE (the device generate jobs ask for: cpu, cuda or webgpu; cpu),
 * LOG_LEVEL (info; logs are JSON lines, pino, on stdout). GET /metrics gives Prometheus metrics.
 * Security: RATE_LIMIT_MUTATIONS_PER_MINUTE (mutations per token, or per client address without a
 * valid token, and minute; 60) and RATE_LIMIT_QUERY_COST_PER_MINUTE (the summed cost of queries, as
 * graphql/limits.ts counts it, per token or address and minute; 2000000), either 0 for no limit, shared
 * by all API processes on one Redis; WEB_ORIGIN (the origins, comma-separated, whose pages may call the
 * API directly from a browser; http://127.0.0.1:3000,http://localhost:3000); TRUST_PROXY (express's
 * `trust proxy`: true, a hop count or addresses such as loopback, so that the client address comes
 * from X-Forwarded-For; off).
 * LEADERBOARD_MIN_IMAGES: runs with fewer scored images are listed on the leaderboard but not ranked (100).
 * SIGTERM and SIGINT close it cleanly: in-flight requests and ingestion finish, nothing is lost.
 */
import { artifactStoreConfigFromEnv } from '@infsplign/workers/artifacts/config.ts';
import { JOB_DEVICES } from '@infsplign/workers/contracts/jobs.ts';
import { redisUrlFromEnv } from '@infsplign/workers/jobs/queues.ts';
import { pino } from 'pino';
import { z } from 'zod';
import { databaseUrlFromEnv } from './db/env.ts';
import { webOriginsFromEnv } from './cors.ts';
import { rateLimitEnvSchema } from './graphql/rate-limit.ts';
import { DEFAULT_LEADERBOARD } from './graphql/resolvers/leaderboard.ts';
import { createApiServer } from './server.ts';

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  INFSPLIGN_DEVICE: z.enum(JOB_DEVICES).default('cpu'),
  LOG_LEVEL: z.preprocess((value) => (value === '' ? undefined : value), z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info')),
  ...rateLimitEnvSchema.shape,
  WEB_ORIGIN: z.string().optional(),
  LEADERBOARD_MIN_IMAGES: z.coerce.number().int().min(0).default(DEFAULT_LEADERBOARD.minRankedImages),
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value === '' || value === 'false' ? false : value === 'true' ? true : /^\d+$/.test(value) ? Number(value) : value)),
});

try {
  const env = envSchema.safeParse(process.env);
  if (!env.success) throw new Error(`${String(env.error.issues[0].path[0])}: ${env.error.issues[0].message}`);
  const server = await createApiServer({
    databaseUrl: databaseUrlFromEnv(),
    redisUrl: redisUrlFromEnv(),
    store: artifactStoreConfigFromEnv(),
    port: env.data.PORT,
    host: env.data.HOST,
    lifecycle: { device: env.data.INFSPLIGN_DEVICE },
    logger: pino({ name: 'infsplign-api', level: env.data.LOG_LEVEL }),
    processMetrics: true,
    rateLimits: { mutationsPerMinute: env.data.RATE_LIMIT_MUTATIONS_PER_MINUTE, queryCostPerMinute: env.data.RATE_LIMIT_QUERY_COST_PER_MINUTE },
    webOrigins: webOriginsFromEnv(env.data.WEB_ORIGIN),
    trustProxy: env.data.TRUST_PROXY,
    leaderboard: { minRankedImages: env.data.LEADERBOARD_MIN_IMAGES },
  });
  console.error(`api: listening on ${server.url} (GraphQL at ${server.url}/graphql)`);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    console.error(`api: ${signal}, closing`);
    server.close().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`api: closing failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  console.error(`api: ${(err as Error).message}`);
  process.exitCode = 1;
}
