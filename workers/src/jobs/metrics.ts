/**
 * The worker's Prometheus metrics, served on the health server's /metrics. Each WorkerRuntime has a
 * registry of its own (never prom-client's global one), so runtimes in one process (tests) keep
 * separate counts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What became of one run of a job in this worker. */
export type JobOutcome = 'completed' | 'failed' | 'cancelled' | 'released';

export interface WorkerMetrics {
  registry: Registry;
  jobDuration: Histogram<'queue' | 'outcome'>;
  jobsCompleted: Counter<'queue'>;
  jobsFailed: Counter<'queue' | 'reason' | 'final'>;
  imagesGenerated: Counter;
  imagesEvaluated: Counter;
}

/** Evaluate chunks take seconds, generate chunks minutes to hours (2 h is a generate job's default limit). */
const JOB_SECONDS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

export function createWorkerMetrics(activeJobs: () => number): WorkerMetrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'infsplign_worker_active_jobs',
    help: 'Jobs this worker is running now',
    registers,
    collect() {
      this.set(activeJobs());
    },
  });
  return {
    registry,
    jobDuration: new Histogram({
      name: 'infsplign_worker_job_duration_seconds',
      help: 'Time a job ran in this worker, by queue and outcome (completed, failed, cancelled, released)',
      labelNames: ['queue', 'outcome'],
      buckets: JOB_SECONDS,
      registers,
    }),
    jobsCompleted: new Counter({
      name: 'infsplign_worker_jobs_completed_total',
      help: 'Jobs completed by this worker (result sent), by queue',
      labelNames: ['queue'],
      registers,
    }),
    jobsFailed: new Counter({
      name: 'infsplign_worker_jobs_failed_total',
      help: 'Failed job attempts seen by this worker, by queue, reason category and whether the failure was final (ChunkFailed sent)',
      labelNames: ['queue', 'reason', 'final'],
      registers,
    }),
    imagesGenerated: new Counter({ name: 'infsplign_worker_images_generated_total', help: 'Images generated and uploaded by this worker', registers }),
    imagesEvaluated: new Counter({ name: 'infsplign_worker_images_evaluated_total', help: 'Images scored by this worker', registers }),
  };
}

/** Process metrics (CPU, memory, event loop): once per process, as they observe the whole process. */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}
