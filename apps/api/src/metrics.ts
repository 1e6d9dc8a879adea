/**
 * The API's Prometheus metrics, served on GET /metrics. Every API server has a registry of its own
 * (never prom-client's global one): tests start several servers in one process, and each must count
 * only what it saw. Queue depths and runs by status are read when scraped; the rest is counted as
 * it happens. Labels take a few fixed values only (route patterns, categories), never free text.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { FAILURE_CATEGORIES, failureCategory } from '@infsplign/workers/queues';
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RunStatus } from './generated/prisma/enums.ts';
import { queueCounts } from './graphql/resolvers/queue-health.ts';
import type { Services } from './services.ts';

/** Why a run failed, as a label: a ChunkFailed's category (workers/src/jobs/errors.ts) or the API's own causes. */
export const RUN_FAILURE_CAUSES = [
  ...FAILURE_CATEGORIES,
  'prompts_not_generated',
  'unscored_image',
  'image_set_deleted',
  'aggregates_failed',
  'no_progress',
  'enqueue_failed',
] as const;
export type RunFailureCause = (typeof RUN_FAILURE_CAUSES)[number];

/** The stage a run failed in ('none' where no one stage is to blame). */
export type FailureStage = 'generate' | 'evaluate' | 'none';

/** The cause of a run failure a worker reported: ChunkFailed carries the reason's text and the attempt it ended on. */
export function chunkFailureCause(reason: string, attempt: number, attempts: number): RunFailureCause {
  // A failure before the last attempt was not retried: the worker judged it permanent.
  return failureCategory(reason, attempt < attempts);
}

/** The stages of a run submission, in order (runs/submit.ts times each). */
export const SUBMIT_STAGES = ['token', 'catalogue', 'plan', 'reuse', 'write', 'enqueue', 'reply'] as const;
export type SubmitStage = (typeof SUBMIT_STAGES)[number];

const RUN_STATUSES = Object.values(RunStatus);
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
/** A scrape must answer even while Redis or PostgreSQL does not (their clients wait out an outage). */
const SCRAPE_TIMEOUT_MS = 2000;

export interface ApiMetrics {
  registry: Registry;
  ingestionLag: Histogram<'type'>;
  resultsIngested: Counter<'type' | 'outcome'>;
  runFailures: Counter<'reason' | 'stage'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  graphqlErrors: Counter<'code'>;
  submitStages: Histogram<'stage'>;
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${SCRAPE_TIMEOUT_MS} ms`)), SCRAPE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `services` is read at scrape time only (the metrics are part of the services they observe).
 * `processMetrics`: also the process's own (CPU, memory, event loop); once per process, as they observe all of it.
 */
export function createApiMetrics(services: () => Services, options: { processMetrics?: boolean } = {}): ApiMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const scrapeErrors = new Counter({
    name: 'infsplign_metrics_scrape_errors_total',
    help: 'Scrapes that could not read a source (redis, postgres); its series are left out of that scrape',
    labelNames: ['source'],
    registers,
  });

  // One read of the queues per scrape for both gauges: the registry calls every collect at once.
  let reading: Promise<Awaited<ReturnType<typeof queueCounts>>[] | null> | undefined;
  const readQueues = () =>
    (reading ??= (async () => {
      try {
        const { generate, evaluate, results } = services().queues;
        const now = Date.now();
        return await withTimeout(Promise.all([generate, evaluate, results].map((queue) => queueCounts(queue, now))));
      } catch (err) {
        scrapeErrors.inc({ source: 'redis' });
        services().logger.warn({ err: (err as Error).message }, 'metrics: could not read the queues');
        return null;
      }
    })().finally(() => {
      reading = undefined;
    }));
  new Gauge({
    name: 'infsplign_queue_jobs',
    help: 'Jobs in each queue by state (waiting includes prioritized), read from Redis when scraped',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset();
      for (const queue of (await readQueues()) ?? []) for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, queue[state]);
    },
  });
  new Gauge({
    name: 'infsplign_queue_oldest_waiting_seconds',
    help: 'Age of the oldest waiting job of each queue (0 when none waits), read from Redis when scraped',
    labelNames: ['queue'],
    registers,
    async collect() {
      this.reset();
      for (const queue of (await readQueues()) ?? []) this.set({ queue: queue.name }, queue.oldestWaitingSeconds ?? 0);
    },
  });

  new Gauge({
    name: 'infsplign_runs',
    help: 'Runs by status, read from the database when scraped',
    labelNames: ['status'],
    registers,
    async collect() {
      this.reset();
      try {
        const rows = await withTimeout(
          services().prisma.$queryRaw<{ status: string; n: number }[]>`SELECT status::text AS status, count(*)::int AS n FROM runs GROUP BY status`,
        );
        const byStatus = new Map(rows.map((row) => [row.status, row.n]));
        for (const status of RUN_STATUSES) this.set({ status }, byStatus.get(status) ?? 0);
      } catch (err) {
        scrapeErrors.inc({ source: 'postgres' });
        services().logger.warn({ err: (err as Error).message }, 'metrics: could not count the runs');
      }
    },
  });

  return {
    registry,
    ingestionLag: new Histogram({
      name: 'infsplign_ingestion_lag_seconds',
      help: 'From a result message being put on the results queue by a worker to its ingestion (applied or skipped), by message type',
      labelNames: ['type'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
      registers,
    }),
    resultsIngested: new Counter({
      name: 'infsplign_results_ingested_total',
      help: 'Result messages taken by the ingester, by type and outcome (applied, skipped: run gone or stopped, delayed: database unreachable, error)',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    runFailures: new Counter({
      name: 'infsplign_run_failures_total',
      help: 'Runs that failed, by cause category and stage',
      labelNames: ['reason', 'stage'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'infsplign_http_request_duration_seconds',
      help: 'HTTP request durations by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    graphqlErrors: new Counter({
      name: 'infsplign_graphql_errors_total',
      help: 'Errors in GraphQL responses, by extensions.code',
      labelNames: ['code'],
      registers,
    }),
    submitStages: new Histogram({
      name: 'infsplign_submit_stage_seconds',
      help: `Time a run submission (submitRun, rescoreRun) spends in each stage: ${SUBMIT_STAGES.join(', ')}`,
      labelNames: ['stage'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * Times every request. The route is the express pattern that answered (`/artifacts/*key`, the mount
 * path `/graphql`), never the URL: a URL per artifact or probe would be a series per URL. Requests no
 * route answered count under `unmatched`.
 */
export function httpMetrics(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const route = req.route?.path !== undefined ? `${req.baseUrl}${String(req.route.path)}` : req.baseUrl || 'unmatched';
      const method = METHODS.has(req.method) ? req.method : 'OTHER';
      metrics.httpDuration.observe({ method, route, status: String(res.statusCode) }, (performance.now() - started) / 1000);
    });
    next();
  };
}

/** Counts the errors of GraphQL responses by code; a code outside the usual shape counts as OTHER. */
export function graphqlErrorMetrics(metrics: ApiMetrics): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            metrics.graphqlErrors.inc({
              code: code === undefined ? 'INTERNAL_SERVER_ERROR' : typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : 'OTHER',
            });
          }
        },
      };
    },
  };
}

/** Times a submission's stages one after another: each lap is the time since the previous one (or the start). */
export interface StageClock {
  lap(stage: SubmitStage): void;
}

export function stageClock(metrics: ApiMetrics): StageClock {
  let last = performance.now();
  return {
    lap(stage) {
      const now = performance.now();
      metrics.submitStages.observe({ stage }, (now - last) / 1000);
      last = now;
    },
  };
}
