'use client';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { RunStatus } from '@/gql/graphql';
import { cancelRun, deleteRun, rescoreRun, retryRun, type ActionResult } from '@/lib/actions';
import { useHydrated } from '@/lib/hydrated';
import { ACTIVE_STATUSES } from '@/lib/run-status';

/**
 * What the run's team can do with it: cancel an unfinished run, retry a failed one, rescore a finished
 * one with another detector or threshold, delete any (after a second click). Each is a Server Action
 * acting with the signed-in team's token, which the browser never sees; the API checks the team and
 * its refusal is shown here. `team` is the signed-in team's name, or null when nobody is signed in.
 */
export function RunActions({
  runId,
  runTeam,
  team,
  status,
  detector,
  threshold,
}: {
  runId: string;
  runTeam: string;
  team: string | null;
  status: RunStatus;
  detector: string;
  threshold: number;
}) {
  const router = useRouter();
  const hydrated = useHydrated();
  const [rescore, setRescore] = useState({ detector, threshold: String(threshold) });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);

  if (team === null) {
    return (
      <section aria-labelledby="run-actions" className="run-actions">
        <h3 id="run-actions">Actions</h3>
        <p className="muted" data-testid="run-action-message">
          <Link href={`/signin?next=/runs/${runId}`}>Sign in</Link> as team {runTeam} to cancel, retry, rescore or delete this run.
        </p>
      </section>
    );
  }

  const act = async <T,>(what: string, action: () => Promise<ActionResult<T>>, next: (value: T) => string | null) => {
    setBusy(true);
    setMessage(null);
    const result = await action();
    setBusy(false);
    if (!result.ok) {
      setMessage({ error: true, text: `${what} refused: ${result.error.message}` });
      return;
    }
    setMessage({ error: false, text: `${what}: done.` });
    const path = next(result.value);
    if (path) router.push(path);
    else router.refresh();
  };

  return (
    <section aria-labelledby="run-actions" className="run-actions">
      <h3 id="run-actions">Actions</h3>
      {team !== runTeam && (
        <p className="muted">
          This run is team {runTeam}&apos;s; you are signed in as team {team}, so the API will refuse.
        </p>
      )}
      {/* Every action is a script's: nothing to click before hydration. */}
      <fieldset className="actions bare" disabled={!hydrated}>
        {ACTIVE_STATUSES.includes(status) && (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              act(
                'Cancel',
                () => cancelRun(runId),
                () => null,
              )
            }
          >
            Cancel run
          </button>
        )}
        {status === 'FAILED' && (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              act(
                'Retry',
                () => retryRun(runId),
                () => null,
              )
            }
          >
            Retry run
          </button>
        )}
        {status === 'FINISHED' && (
          <form
            className="actions"
            aria-label="Rescore"
            onSubmit={(e) => {
              e.preventDefault();
              const value = Number(rescore.threshold);
              const settings = {
                detector: rescore.detector.trim() || undefined,
                threshold: rescore.threshold.trim() !== '' && Number.isFinite(value) ? value : undefined,
              };
              void act(
                'Rescore',
                () => rescoreRun(runId, settings),
                (id) => `/runs/${id}`,
              );
            }}
          >
            <label>
              Detector <input value={rescore.detector} onChange={(e) => setRescore({ ...rescore, detector: e.target.value })} size={14} />
            </label>
            <label>
              Threshold <input value={rescore.threshold} onChange={(e) => setRescore({ ...rescore, threshold: e.target.value })} size={5} inputMode="decimal" />
            </label>
            <button type="submit" className="secondary" disabled={busy}>
              Rescore
            </button>
          </form>
        )}
        {confirmDelete ? (
          <>
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={() =>
                act(
                  'Delete',
                  () => deleteRun(runId),
                  () => '/runs',
                )
              }
            >
              Delete for good
            </button>
            <button type="button" className="secondary" onClick={() => setConfirmDelete(false)}>
              Keep it
            </button>
          </>
        ) : (
          <button type="button" className="secondary" disabled={busy} onClick={() => setConfirmDelete(true)}>
            Delete run…
          </button>
        )}
      </fieldset>
      {message && (
        <p role={message.error ? 'alert' : 'status'} className={message.error ? 'field-error' : 'muted'} data-testid="run-action-message">
          {message.text}
        </p>
      )}
    </section>
  );
}
