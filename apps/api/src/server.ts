/**
 * The API process: express 5 with Apollo at /graphql, images at /artifacts/<key>, /healthz,
 * /readyz and /metrics (Prometheus, metrics.ts), the results ingester in a thread of its own
 * (ingest/thread.ts), the planning thread (runs/planner.ts), reconciliation on start (and every few minutes), the timeout sweep and the
 * deletion of cancelled runs' images. `createApiServer` starts it all in-process and
 * returns its URL and a `close()`, so tests can run it in-process and `npm run api` as a process.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { artifactKeyProblem, ArtifactNotFoundError, type ArtifactStoreConfig, createArtifactStore, storeConfigFromOptions } from '@infsplign/workers/artifacts';
import { openRedisClient } from '@infsplign/workers/queues';
import express, { type ErrorRequestHandler } from 'express';
import { pino, type Logger } from 'pino';
import { corsMiddleware, DEFAULT_WEB_ORIGINS } from './cors.ts';
import { closePrisma, createPrisma } from './db/client.ts';
import { createRequestContext, type RequestContext } from './graphql/context.ts';
import { nulCharacterError } from './graphql/input-guards.ts';
import { MAX_BODY_BYTES, MAX_TOKENS, operationMeasure, queryLimitErrors } from './graphql/limits.ts';
import { DEFAULT_RATE_LIMITS, enforceRateLimits, type RateLimits } from './graphql/rate-limit.ts';
import { CLIENT_ADDRESS_HEADER, verifyClientAddress } from './proxy-contract.ts';
import { DEFAULT_LEADERBOARD, type LeaderboardSettings } from './graphql/resolvers/leaderboard.ts';
import { knownOperationTypesRule } from './graphql/validation.ts';
import { boardAnswersPlugin, stringifyResult } from './graphql/board-answers.ts';
import { resolvers, typeDefs } from './graphql/schema.ts';
import { DEFAULT_INGEST_CONCURRENCY } from './ingest/ingester.ts';
import { startIngestThread } from './ingest/thread.ts';
import { createApiMetrics, graphqlErrorMetrics, httpMetrics } from './metrics.ts';
import { deleteCancelledArtifacts } from './runs/cleanup.ts';
import { Planner } from './runs/planner.ts';
import { reconcile, sweepStalledRuns, type ReconcileReport } from './runs/reconcile.ts';
import { closeQueues, codeVersionFromEnv, DEFAULT_LIFECYCLE, openQueues, type LifecycleSettings, type Services } from './services.ts';

export interface ApiServerOptions {
  databaseUrl: string;
  redisUrl: string;
  /** where images live (main.ts: from the environment) */
  store?: ArtifactStoreConfig;
  /** shorthand for a local store in this directory, when `store` is not given */
  artifactDir?: string;
  /** 0 picks a free port */
  port: number;
  host?: string;
  logger?: Logger;
  lifecycle?: Partial<LifecycleSettings>;
  /** how many result messages the ingester applies at once */
  ingestConcurrency?: number;
  /** how often stalled runs are swept and Redis reconciled (0: only reconcile on start; never sweep) */
  sweepIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** also the process's own metrics (CPU, memory, event loop) on /metrics: main.ts, once per process */
  processMetrics?: boolean;
  /** per token, team or client address and minute; 0 turns one off (default DEFAULT_RATE_LIMITS) */
  rateLimits?: Partial<RateLimits>;
  /** the origins a browser may call the API from directly (default DEFAULT_WEB_ORIGINS) */
  webOrigins?: readonly string[];
  /**
   * The secret the web app signs the client address it saw with (proxy-contract.ts); without it, or
   * when a signature does not hold, a request's client address is its socket's.
   */
  webProxySecret?: string;
  /** whether __schema and __type are answered (default true; main.ts: off in production unless GRAPHQL_INTROSPECTION=1) */
  introspection?: boolean;
  /** the leaderboard's minimum run size (default DEFAULT_LEADERBOARD) */
  leaderboard?: Partial<LeaderboardSettings>;
}

export interface ApiServer {
  url: string;
  services: Services;
  /** Re-enqueues the chunks of unfinished runs that have no job and no result (e.g. after Redis lost its data). */
  reconcile(): Promise<ReconcileReport>;
  close(): Promise<void>;
}

const PROBE_TIMEOUT_MS = 2000;

/** A probe that answers within the timeout: Redis clients wait out an outage rather than fail. */
async function probe(what: string, check: () => Promise<unknown>): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return null;
  } catch (err) {
    // Prisma's messages open with the call site; the last line says what is wrong.
    const lines = (err as Error).message.split('\n').filter((line) => line.trim() !== '');
    return `${what}: ${lines.at(-1)?.trim() ?? 'unreachable'}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Before any resolver runs, once the operation is known: its depth and cost within the limits, no
 * NUL character in its values, then its charge to the rate limits (which checks the token, if any).
 * One hook, so that these run in this order: Apollo runs different plugins' hooks side by side.
 */
function requestLimitsPlugin(redis: Services['redis'], limits: RateLimits): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema, operation, contextValue }) {
          if (!operation) return;
          const variables = request.variables ?? {};
          const [tooMuch] = queryLimitErrors(schema, document, operation, variables);
          if (tooMuch) throw tooMuch;
          const nul = nulCharacterError(document, variables);
          // Refused as a whole request (HTTP 400), as the query limits are.
          if (nul) throw new GraphQLError(nul.message, { extensions: { ...nul.extensions, http: { status: 400 } } });
          await enforceRateLimits(redis, limits, contextValue, document, operation, operationMeasure(schema, document, operation, variables).cost);
        },
      };
    },
  };
}

/**
 * The address a request's rate limits key on: the one the web app signed, when the signature holds
 * under `secret`, else the socket's. Never X-Forwarded-For or anything else a client can write.
 */
function clientAddress(req: express.Request, secret: string | undefined): string {
  const signed = req.headers[CLIENT_ADDRESS_HEADER];
  if (secret && typeof signed === 'string') {
    const address = verifyClientAddress(secret, signed);
    if (address) return address;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/** Runs `task` every `ms`, never two at once; errors are logged. Returns the stopper. */
function every(ms: number, log: Logger, what: string, task: () => Promise<unknown>): () => void {
  if (ms <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch((err: Error) => log.error({ err: err.message }, `${what} failed`))
      .finally(() => {
        running = false;
      });
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}

export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const logger = options.logger ?? pino({ name: 'infsplign-api' });
  const storeConfig = storeConfigFromOptions(options, 'createApiServer');
  const lifecycle = { ...DEFAULT_LIFECYCLE, ...options.lifecycle };
  const services: Services = {
    prisma: createPrisma(options.databaseUrl),
    store: createArtifactStore(storeConfig),
    queues: openQueues(options.redisUrl),
    redis: openRedisClient(options.redisUrl),
    logger,
    lifecycle,
    codeVersion: codeVersionFromEnv(),
    metrics: createApiMetrics(() => services, { processMetrics: options.processMetrics }),
    planner: new Planner({ databaseUrl: options.databaseUrl, redisUrl: options.redisUrl, device: lifecycle.device, store: storeConfig }, logger),
    leaderboard: { ...DEFAULT_LEADERBOARD, ...options.leaderboard },
  };
  // While Redis is unreachable each queue reports every failed reconnection; without a listener
  // BullMQ prints them raw to stderr instead of to the structured log.
  for (const queue of Object.values(services.queues))
    queue.on('error', (err: Error) => logger.warn({ queue: queue.name, err: err.message }, 'queue connection error'));

  const apollo = new ApolloServer<RequestContext>({
    typeDefs,
    resolvers,
    // The schema sets no cache hints: Apollo's cache-control plugin, on by default, would only add a
    // hook call to every field resolved (thousands for a leaderboard).
    plugins: [
      graphqlErrorMetrics(services.metrics),
      requestLimitsPlugin(services.redis, { ...DEFAULT_RATE_LIMITS, ...options.rateLimits }),
      boardAnswersPlugin(),
      ApolloServerPluginCacheControlDisabled(),
    ],
    introspection: options.introspection ?? true,
    parseOptions: { maxTokens: MAX_TOKENS },
    includeStacktraceInErrorResponses: false,
    validationRules: [knownOperationTypesRule],
    // No client sends persisted queries; Apollo's handling answers a mismatched hash as an internal error.
    persistedQueries: false,
    // Compact JSON: Apollo's default indents every response, a third more bytes to write and read.
    // A leaderboard answer is sent as the text board-answers.ts made of its rows' kept answers.
    stringifyResult,
    // The process's owner (main.ts, a test) closes everything in order; Apollo's own signal handler would race it.
    stopOnTerminationSignals: false,
    formatError(formatted, error) {
      if (formatted.extensions?.code !== 'INTERNAL_SERVER_ERROR') return formatted;
      // Database and queue errors can name tables or hosts: the client gets a plain message, the log the detail.
      logger.error({ err: (error as Error)?.message, path: formatted.path }, 'resolver failed');
      return { ...formatted, message: 'internal error; the API log has the details' };
    },
  });
  await apollo.start();

  const app = express();
  app.disable('x-powered-by');
  app.use(httpMetrics(services.metrics));
  app.use((req, res, next) => {
    const started = performance.now();
    // The path and status only: never headers, which carry bearer tokens.
    res.on('finish', () =>
      logger.info({ method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, ms: Math.round(performance.now() - started) }, 'request'),
    );
    next();
  });
  app.use(corsMiddleware(options.webOrigins ?? DEFAULT_WEB_ORIGINS));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    const problems = (await Promise.all([probe('PostgreSQL', () => services.prisma.$queryRaw`SELECT 1`), probe('Redis', () => services.redis.ping())])).filter(
      (p): p is string => p !== null,
    );
    res.status(problems.length ? 503 : 200).json({ ok: problems.length === 0, problems });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
  });
  app.get('/artifacts/*key', async (req, res, next) => {
    const key = (req.params as { key: string[] }).key.join('/');
    const problem = artifactKeyProblem(key);
    if (problem) {
      res.status(400).json({ error: problem });
      return;
    }
    try {
      const bytes = await services.store.get(key);
      res.type(key.toLowerCase().endsWith('.png') ? 'image/png' : 'application/octet-stream');
      res.set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'public, max-age=3600' });
      res.send(bytes);
    } catch (err) {
      if (err instanceof ArtifactNotFoundError) res.status(404).json({ error: `no artifact ${key}` });
      else next(err);
    }
  });
  app.use(
    '/graphql',
    express.json({ limit: MAX_BODY_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req }) => createRequestContext(services, req.headers.authorization, clientAddress(req, options.webProxySecret)),
    }),
  );
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const status = typeof err?.status === 'number' ? err.status : 500;
    const message =
      status === 413
        ? `the request body is over the limit of ${MAX_BODY_BYTES} bytes`
        : status < 500
          ? String(err.message)
          : 'internal error; the API log has the details';
    if (status >= 500) logger.error({ err: (err as Error).message }, 'request failed');
    res
      .status(status)
      .json({ errors: [{ message, extensions: { code: status === 413 ? 'PAYLOAD_TOO_LARGE' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR' } }] });
  };
  app.use(onError);

  const http = app.listen(options.port, options.host ?? '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;

  services.planner.warm();
  const ingester = startIngestThread(
    {
      databaseUrl: options.databaseUrl,
      redisUrl: options.redisUrl,
      device: lifecycle.device,
      concurrency: options.ingestConcurrency ?? DEFAULT_INGEST_CONCURRENCY,
      logLevel: logger.level,
    },
    services.metrics,
    logger,
  );
  const reconcileNow = async () => {
    const report = await reconcile(services);
    logger.info(report, 'reconciled unfinished runs with the queues');
    return report;
  };
  // In the background: with Redis down at start it would wait for Redis, and the API can serve reads meanwhile.
  reconcileNow().catch((err: Error) => logger.error({ err: err.message }, 'reconciliation on start failed'));
  const stopSweep = every(options.sweepIntervalMs ?? 60_000, logger, 'timeout sweep', () => sweepStalledRuns(services));
  const stopCleanup = every(options.sweepIntervalMs ?? 60_000, logger, "deleting cancelled runs' images", () => deleteCancelledArtifacts(services));
  const stopReconcile = every(options.reconcileIntervalMs ?? 5 * 60_000, logger, 'reconciliation', reconcileNow);
  logger.info({ url, artifacts: services.store.description }, 'API listening');

  return {
    url,
    services,
    reconcile: reconcileNow,
    async close() {
      stopSweep();
      stopCleanup();
      stopReconcile();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await apollo.stop();
      await ingester.close();
      await services.planner.close();
      await closeQueues(services.queues);
      await services.redis.quit().catch(() => services.redis.disconnect());
      await closePrisma(services.prisma);
    },
  };
}
