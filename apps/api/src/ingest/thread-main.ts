/**
 * The API's ingest thread (thread.ts starts it): the results ingester (ingester.ts) with a database
 * pool, queue connections and a log of its own. What it counts is posted to the API's main thread,
 * whose /metrics serves it; on 'close' it finishes the messages in hand, closes its connections and
 * says so.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { closePrisma, createPrisma } from '../db/client.ts';
import { closeQueues, openQueues } from '../services.ts';
import { startIngester, type IngestMetrics } from './ingester.ts';
import { INGEST_THREAD_NICE, type IngestThreadMessage, type IngestThreadSettings } from './thread.ts';

const settings = workerData as IngestThreadSettings;
// Writing results is background work: requests come first. On Linux a thread's nice value is its own
// (setpriority(2)); elsewhere it would be the whole process's, the API's main thread included.
if (process.platform === 'linux' && getPriority() < INGEST_THREAD_NICE) setPriority(INGEST_THREAD_NICE);
const post = (message: IngestThreadMessage) => parentPort!.postMessage(message);
const metrics: IngestMetrics = {
  resultsIngested: { inc: (labels) => post({ metric: 'resultsIngested', labels }) },
  ingestionLag: { observe: (labels, seconds) => post({ metric: 'ingestionLag', labels, seconds }) },
  runFailures: { inc: (labels) => post({ metric: 'runFailures', labels }) },
};
// Straight to the process's standard output: a thread's process.stdout is relayed through the main thread.
const destination = pino.destination({ dest: 1, sync: false });
const logger = pino({ name: 'infsplign-api', level: settings.logLevel }, destination);
const prisma = createPrisma(settings.databaseUrl, { maxConnections: settings.concurrency });
const queues = openQueues(settings.redisUrl);
for (const queue of Object.values(queues)) queue.on('error', (err: Error) => logger.warn({ queue: queue.name, err: err.message }, 'queue connection error'));
const ingester = startIngester({ prisma, queues, logger, metrics, lifecycle: { device: settings.device } }, settings.redisUrl, settings.concurrency);

parentPort!.on('message', (message: unknown) => {
  if (message !== 'close') return;
  void (async () => {
    try {
      await ingester.close();
      await Promise.all([closePrisma(prisma), closeQueues(queues)]);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'closing the ingest thread');
    } finally {
      destination.flushSync();
      post({ closed: true });
    }
  })();
});
