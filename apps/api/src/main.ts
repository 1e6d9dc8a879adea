/**
 * `npm run api`: the API as a process. Settings from the environment: DATABASE_URL, REDIS_URL
 * (default redis://127.0.0.1:6379), the artifact store (ARTIFACT_STORE=s3://BUCKET[/PREFIX] with S3_ENDPOINT,
 * S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; or ARTIFACT_DIR, default the repository's
 * .artifacts/; see workers/src/artifacts/config.ts), PORT (4000),
 * HOST (127.0.0.1), INFSPLIGN_DEVICE (the device generate jobs ask for: cpu, cuda or webgpu; cpu),
 * LOG_LEVEL (info; logs are JSON lines, pino, on stdout). GET /metrics gives Prometheus metrics.
 * Security: RATE_LIMIT_MUTATIONS_PER_MINUTE (mutations per token, or per client address without a
 * valid token, and minute; 60), RATE_LIMIT_TEAM_MUTATIONS_PER_MINUTE (per team, all its tokens; 120),
 * RATE_LIMIT_QUERY_COST_PER_MINUTE (the summed cost of queries, as graphql/limits.ts counts it, per
 * team or address and minute; 2000000), RATE_LIMIT_AUTH_FAILURES_PER_MINUTE (requests with a refused
 * token per address and minute, past which tokens from there are not checked; 30), each 0 for no
 * limit, shared by all API processes on one Redis; WEB_ORIGIN (the origins, comma-separated, whose
 * pages may call the API directly from a browser; http://127.0.0.1:3000,http://localhost:3000);
 * WEB_PROXY_SECRET (at least 32 characters, the same as the web app's: the client address the web app
 * signs is believed; unset: every request is keyed by its socket's address); GRAPHQL_INTROSPECTION
 * (1 or 0; default on, off when NODE_ENV=production); MAX_RUN_IMAGES (the most images a run may
 * have; 200000).
 * LEADERBOARD_MIN_IMAGES: runs with fewer scored images are listed on the leaderboard but not ranked (100).
 * SIGTERM and SIGINT close it cleanly: in-flight requests and ingestion finish, nothing is lost.
 */
import { artifactStoreConfigFromEnv } from '@infsplign/workers/artifacts';
import { JOB_DEVICES } from '@infsplign/workers/contracts';
import { redisUrlFromEnv } from '@infsplign/workers/queues';
import { pino } from 'pino';
import { z } from 'zod';
import { databaseUrlFromEnv } from './db/env.ts';
import { webOriginsFromEnv } from './cors.ts';
import { introspectionFromEnv } from './graphql/limits.ts';
import { rateLimitEnvSchema, rateLimitsFromEnv } from './graphql/rate-limit.ts';
import { MIN_PROXY_SECRET_LENGTH } from './proxy-contract.ts';
import { DEFAULT_LEADERBOARD } from './graphql/resolvers/leaderboard.ts';
import { createApiServer } from './server.ts';
import { DEFAULT_LIFECYCLE } from './services.ts';

const blankIsUnset = (value: unknown) => (value === '' ? undefined : value);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  INFSPLIGN_DEVICE: z.enum(JOB_DEVICES).default('cpu'),
  LOG_LEVEL: z.preprocess(blankIsUnset, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info')),
  ...rateLimitEnvSchema.shape,
  WEB_ORIGIN: z.string().optional(),
  WEB_PROXY_SECRET: z.preprocess(
    blankIsUnset,
    z.string().min(MIN_PROXY_SECRET_LENGTH, `at least ${MIN_PROXY_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`).optional(),
  ),
  // X-Forwarded-For is never believed now; a setting that asked for it must not pass unnoticed.
  TRUST_PROXY: z.preprocess(
    blankIsUnset,
    z.undefined({ error: 'is no longer read: the web app signs the client address instead (set the same WEB_PROXY_SECRET for both)' }).optional(),
  ),
  NODE_ENV: z.string().optional(),
  GRAPHQL_INTROSPECTION: z.preprocess(blankIsUnset, z.enum(['0', '1']).optional()),
  MAX_RUN_IMAGES: z.coerce.number().int().min(1).default(DEFAULT_LIFECYCLE.maxRunImages),
  LEADERBOARD_MIN_IMAGES: z.coerce.number().int().min(0).default(DEFAULT_LEADERBOARD.minRankedImages),
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
    lifecycle: { device: env.data.INFSPLIGN_DEVICE, maxRunImages: env.data.MAX_RUN_IMAGES },
    logger: pino({ name: 'infsplign-api', level: env.data.LOG_LEVEL }),
    processMetrics: true,
    rateLimits: rateLimitsFromEnv(env.data),
    webOrigins: webOriginsFromEnv(env.data.WEB_ORIGIN),
    webProxySecret: env.data.WEB_PROXY_SECRET,
    introspection: introspectionFromEnv(env.data.NODE_ENV, env.data.GRAPHQL_INTROSPECTION),
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
