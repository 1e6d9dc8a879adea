/**
 * The API's side of its planning thread (planning-thread.ts): planning a run, listing its unfinished
 * chunks and enqueueing them, asked for by message and answered there, so that a run of a hundred
 * thousand images never holds up the event loop. The thread starts with the API and is started again
 * if it dies; what was asked of a dead thread fails with an error saying so.
 */
import type { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { ArtifactStoreConfig } from '@infsplign/workers/artifacts';
import type { Stage } from '@infsplign/workers/contracts';
import type { Logger } from 'pino';
import { PlanError, type Device, type JobRun, type PlanSource } from './plan.ts';
import { typescriptThread } from '../typescript-thread.ts';

export interface PlannerSettings {
  databaseUrl: string;
  redisUrl: string;
  device: Device;
}

/** A run's size as planned. */
export interface PlanTotals {
  prompts: number;
  images: number;
  chunks: number;
  /** one more than the highest image index of any prompt (what an EVALUATE_ONLY run takes by default) */
  maxImagesPerPrompt: number;
  /** the thread that planned it (never the API's main thread) */
  threadId: number;
}

export interface ChunkRef {
  chunk: number;
  stage: Stage;
}

export type PlanRequest =
  | { op: 'totals'; source: PlanSource }
  | { op: 'pending'; runId: string }
  | { op: 'enqueue'; runId: string; round: number; chunks: 'pending' | ChunkRef[] }
  | { op: 'enqueue-new'; run: JobRun; source: PlanSource }
  | { op: 'close' };

export type PlanReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string; planError: boolean };

const MODULE = join(import.meta.dirname, 'planning-thread.ts');

export class Planner {
  private worker: Worker | null = null;
  private next = 0;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();

  constructor(
    private readonly settings: PlannerSettings & { store: ArtifactStoreConfig },
    private readonly logger: Logger,
  ) {}

  /**
   * Starts the thread now, so that it has loaded its code (seconds on a busy machine) before the
   * first submission: started on demand, the submissions of a burst's first moments all wait for it.
   */
  warm(): void {
    this.worker ??= this.start();
  }

  /** The run's size; PlanError when it cannot be planned (its image set, its prompt set). */
  totals(source: PlanSource): Promise<PlanTotals> {
    return this.ask({ op: 'totals', source }) as Promise<PlanTotals>;
  }

  /** The run's chunks whose results are not all in the database, and the stage each needs (none for a run that does not exist). */
  pending(runId: string): Promise<ChunkRef[]> {
    return this.ask({ op: 'pending', runId }) as Promise<ChunkRef[]>;
  }

  /**
   * Enqueues every chunk of a run just written (round 0), which has no results yet: from the run's
   * settings as the caller has them, so that the thread reads nothing back; answers how many.
   */
  enqueueNew(run: JobRun, source: PlanSource): Promise<number> {
    return this.ask({ op: 'enqueue-new', run, source }) as Promise<number>;
  }

  /** Enqueues the run's unfinished chunks for `round` (all of them, or those of `chunks` still unfinished); answers how many. */
  enqueue(runId: string, round: number, chunks: 'pending' | ChunkRef[] = 'pending'): Promise<number> {
    return this.ask({ op: 'enqueue', runId, round, chunks }) as Promise<number>;
  }

  private start(): Worker {
    const worker = typescriptThread(MODULE, { workerData: this.settings });
    worker.on('message', (reply: PlanReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(reply.planError ? new PlanError(reply.message) : new Error(reply.message));
    });
    const fail = (why: string) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, waiter] of this.waiting) {
        this.waiting.delete(id);
        waiter.reject(new Error(`the planning thread ${why}`));
      }
    };
    worker.on('error', (err) => {
      this.logger.error({ err: err.message }, 'the planning thread failed');
      fail(`failed (${err.message})`);
    });
    worker.on('exit', (code) => fail(`exited (code ${code})`));
    worker.unref();
    return worker;
  }

  private ask(request: PlanRequest): Promise<unknown> {
    this.worker ??= this.start();
    const worker = this.worker;
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, request });
    });
  }

  /** Closes the thread's connections, then the thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.ask({ op: 'close' }).catch(() => {});
    this.worker = null;
    await worker.terminate();
  }
}
