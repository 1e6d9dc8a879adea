/**
 * The API's planning thread (planner.ts starts it): reading a run's prompts, cutting them into
 * chunks, comparing them with what the database holds and putting the chunks on the queues. For a
 * run of 100,000 images that is seconds of parsing and building, done here so that the API's event
 * loop goes on answering requests. The thread has its own database pool, artifact store and queue
 * connections; it answers one message per request, several at once.
 */
import { threadId, parentPort, workerData } from 'node:worker_threads';
import { type ArtifactStoreConfig, createArtifactStore } from '@infsplign/workers/artifacts';
import { closePrisma, createPrisma } from '../db/client.ts';
import { closeQueues, openQueues } from '../services.ts';
import { planRun, PlanError, type PlanSource, type RunPlan } from './plan.ts';
import { enqueueChunks, loadJobRun, newRunChunks, pendingChunks, type RunWork } from './work.ts';
import type { ChunkRef, PlannerSettings, PlanReply, PlanRequest, PlanTotals } from './planner.ts';

const settings = workerData as PlannerSettings & { store: ArtifactStoreConfig };
const prisma = createPrisma(settings.databaseUrl, { maxConnections: 4 });
const store = createArtifactStore(settings.store);
const queues = openQueues(settings.redisUrl);
const deps = { queues, lifecycle: { device: settings.device } };

/**
 * Plans made in the last minute, by their source: a submission's totals and then its enqueueing (or
 * reconciliation's listing and then its enqueueing) read the prompt set once. Only a few are kept.
 */
const recent = new Map<string, { at: number; plan: Promise<RunPlan> }>();
const RECENT_MS = 60_000;
const RECENT_MAX = 4;

function plan(source: PlanSource): Promise<RunPlan> {
  const key = JSON.stringify(source);
  const now = Date.now();
  for (const [k, entry] of recent) if (now - entry.at > RECENT_MS) recent.delete(k);
  const kept = recent.get(key);
  if (kept) return kept.plan;
  const made = planRun(prisma, store, source);
  made.catch(() => recent.delete(key));
  recent.set(key, { at: now, plan: made });
  if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
  return made;
}

/** The run's work; null when the run does not exist (any more). */
async function work(runId: string): Promise<{ work: RunWork; generates: boolean } | null> {
  const loaded = await loadJobRun(prisma, runId);
  if (!loaded) return null;
  return { work: { run: loaded.run, plan: await plan(loaded.source) }, generates: loaded.source.kind === 'GENERATE_AND_EVALUATE' };
}

async function answer(request: PlanRequest): Promise<unknown> {
  switch (request.op) {
    case 'totals': {
      const made = await plan(request.source);
      const totals: PlanTotals = {
        prompts: made.prompts.length,
        images: made.imageCount,
        chunks: made.chunks,
        maxImagesPerPrompt: made.imageIndices.reduce((most, indices) => Math.max(most, indices.length === 0 ? 0 : indices[indices.length - 1] + 1), 0),
        threadId,
      };
      return totals;
    }
    case 'pending': {
      const found = await work(request.runId);
      if (!found) return [];
      const { work: w, generates } = found;
      return (await pendingChunks(prisma, request.runId, w, generates)).map(({ chunk, stage }): ChunkRef => ({ chunk, stage }));
    }
    case 'enqueue': {
      const found = await work(request.runId);
      if (!found) throw new Error(`run ${request.runId} not found`);
      const { work: w, generates } = found;
      let pending = await pendingChunks(prisma, request.runId, w, generates);
      if (request.chunks !== 'pending') {
        const wanted = new Set(request.chunks.map((c) => `${c.stage}:${c.chunk}`));
        pending = pending.filter((c) => wanted.has(`${c.stage}:${c.chunk}`));
      }
      await enqueueChunks(deps, w, pending, request.round);
      return pending.length;
    }
    case 'enqueue-new': {
      const w: RunWork = { run: request.run, plan: await plan(request.source) };
      const chunks = newRunChunks(w, request.source.kind === 'GENERATE_AND_EVALUATE');
      await enqueueChunks(deps, w, chunks, 0);
      return chunks.length;
    }
    case 'close':
      await Promise.all([closePrisma(prisma), closeQueues(queues)]);
      return null;
  }
}

parentPort!.on('message', ({ id, request }: { id: number; request: PlanRequest }) => {
  answer(request).then(
    (value) => parentPort!.postMessage({ id, ok: true, value } satisfies PlanReply),
    (err: Error) => parentPort!.postMessage({ id, ok: false, message: err.message, planError: err instanceof PlanError } satisfies PlanReply),
  );
});
