'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { graphql } from '@/gql';
import type { ProgressFieldsFragment, RunStatus } from '@/gql/graphql';
import { clientQuery } from '@/lib/client';
import { isTerminal } from '@/lib/run-status';

const POLL_MS = 1500;
const RUN_PROGRESS = graphql(`
  query RunProgress($id: ID!) {
    run(id: $id) {
      status
      progress {
        ...ProgressFields
      }
    }
  }
`);

/**
 * The run's progress, polled while it runs; when its status changes the server page is rendered
 * again, so that the timeline, aggregates and images appear without a manual reload.
 */
export function LiveProgress({ runId, status, progress }: { runId: string; status: RunStatus; progress: ProgressFieldsFragment }) {
  const router = useRouter();
  const [live, setLive] = useState({ status, progress });
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => setLive({ status, progress }), [status, progress]);
  useEffect(() => {
    if (isTerminal(status)) return;
    let stopped = false;
    const tick = async () => {
      try {
        const { run } = await clientQuery(RUN_PROGRESS, { id: runId });
        if (stopped || !run) return;
        setProblem(null);
        setLive(run);
        if (run.status !== status) router.refresh();
      } catch (err) {
        if (!stopped) setProblem(`Live progress paused: ${(err as Error).message}`);
      }
    };
    const timer = setInterval(tick, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [runId, status, router]);
  const p = live.progress;
  return (
    <div aria-live="polite">
      <p>
        <span className={`status-${live.status}`} data-testid="run-status">
          {live.status}
        </span>
        {!isTerminal(live.status) && ' · updating live'}
      </p>
      <progress max={1} value={p.fraction} aria-label="images evaluated" />
      <p className="muted">
        {p.imagesGenerated} of {p.totalImages} images generated, {p.imagesEvaluated} evaluated ({(100 * p.fraction).toFixed(0)}%) over {p.prompts} prompts
      </p>
      {problem && <p className="notice warn">{problem}</p>}
    </div>
  );
}
