/**
 * The API's side of its ingest thread (thread-main.ts): the results ingester runs there, with a
 * database pool, queue connections and a log of its own, so that a burst of results (a transaction
 * per message, a finished run's aggregates with their bootstrap intervals) never holds up the event
 * loop that answers requests. What the ingester counts arrives here by message and goes into the
 * API's metrics. A thread that dies is started again (BullMQ hands the messages it held to the new
 * one once their locks expire); close() lets the messages in hand finish first.
 */
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FailureStage, RunFailureCause } from '../metrics.ts';
import type { Device } from '../runs/plan.ts';
import type { Ingester, IngestMetrics, ResultCount } from './ingester.ts';
import { typescriptThread } from '../typescript-thread.ts';

export interface IngestThreadSettings {
  databaseUrl: string;
  redisUrl: string;
  device: Device;
  /** result messages taken at once (the thread's pool has as many connections) */
  concurrency: number;
  /** the API log's level: the thread logs at the same */
  logLevel: string;
}

/** What the thread posts: a count, or that it has stopped after close. */
export type IngestThreadMessage =
  | { metric: 'resultsIngested'; labels: ResultCount }
  | { metric: 'runFailures'; labels: { reason: RunFailureCause; stage: FailureStage } }
  | { metric: 'ingestionLag'; labels: { type: string }; seconds: number }
  | { closed: true };

/** The ingest thread's CPU priority on Linux, as a nice value: below the main thread's, not as far below as the workers' (WORKER_NICE). */
export const INGEST_THREAD_NICE = 5;

const MODULE = join(import.meta.dirname, 'thread-main.ts');
const RESTART_DELAY_MS = 1000;
/** How long close() waits for the thread to finish the messages in hand before it is stopped. */
const CLOSE_TIMEOUT_MS = 60_000;

export function startIngestThread(settings: IngestThreadSettings, metrics: IngestMetrics, logger: Logger): Ingester {
  let closing = false;
  let running = false;
  let thread: Worker;
  let restart: NodeJS.Timeout | undefined;
  let closed: () => void = () => {};

  const start = () => {
    thread = typescriptThread(MODULE, { workerData: settings });
    running = true;
    thread.on('message', (message: IngestThreadMessage) => {
      if ('closed' in message) closed();
      else if (message.metric === 'ingestionLag') metrics.ingestionLag.observe(message.labels, message.seconds);
      else if (message.metric === 'resultsIngested') metrics.resultsIngested.inc(message.labels);
      else metrics.runFailures.inc(message.labels);
    });
    thread.on('error', (err) => logger.error({ err: err.message }, 'the ingest thread failed'));
    thread.on('exit', (code) => {
      running = false;
      if (closing) return closed();
      logger.error({ code }, `the ingest thread exited; starting it again in ${RESTART_DELAY_MS} ms`);
      restart = setTimeout(start, RESTART_DELAY_MS);
    });
  };
  start();

  return {
    async close() {
      closing = true;
      clearTimeout(restart);
      // Between a thread's death and its restart there is none to close.
      if (!running) return;
      const stopped = new Promise<void>((resolve) => {
        closed = resolve;
      });
      thread.postMessage('close');
      const timer = setTimeout(() => {
        logger.warn(`the ingest thread did not stop within ${CLOSE_TIMEOUT_MS} ms; stopping it`);
        closed();
      }, CLOSE_TIMEOUT_MS);
      await stopped;
      clearTimeout(timer);
      await thread.terminate();
    },
  };
}
