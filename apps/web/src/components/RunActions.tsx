'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { ApiError } from '@/lib/graphql';
import { cancelRun, deleteRun, rescoreRun, retryRun, storedToken, storeToken } from '@/lib/mutations';

const ACTIVE = ['QUEUED', 'GENERATING', 'EVALUATING'];

/**
 * What the run's team can do with it: cancel an unfinished run, retry a failed one, rescore a finished
 * one with another detector or threshold, delete any (after a second click). The API checks the
 * token's team; its refusal is shown here.
 */
export function RunActions({ runId, status, detector, threshold }: { runId: string; status: string; detector: string; threshold: number }) {
  const router = useRouter();
  const [token, setToken] = useState('');
  // After hydration: the server cannot know the tab's stored token.
  useEffect(() => setToken((current) => current || storedToken()), []);
  const [rescore, setRescore] = useState({ detector, threshold: String(threshold) });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);

  const act = async (what: string, action: (token: string) => Promise<string | null>) => {
    if (!token.trim()) {
      setMessage({ error: true, text: 'Paste an API token of the run\'s team first (npm run token -- --team NAME makes one).' });
      return;
    }
    storeToken(token);
    setBusy(true);
    setMessage(null);
    try {
      const next = await action(token.trim());
      setMessage({ error: false, text: `${what}: done.` });
      if (next) router.push(next);
      else router.refresh();
    } catch (err) {
      setMessage({ error: true, text: `${what} refused: ${err instanceof ApiError ? err.message : (err as Error).message}` });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="run-actions" className="run-actions">
      <h3 id="run-actions">Actions</h3>
      <div className="actions">
        <label>
          API token{' '}
          <input type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} size={24} aria-describedby="run-actions-help" />
        </label>
      </div>
      <p id="run-actions-help" className="muted">
        For the run&apos;s team; kept in this tab only.
      </p>
      <div className="actions">
        {ACTIVE.includes(status) && (
          <button type="button" disabled={busy} onClick={() => act('Cancel', async (t) => (await cancelRun(runId, t), null))}>
            Cancel run
          </button>
        )}
        {status === 'FAILED' && (
          <button type="button" disabled={busy} onClick={() => act('Retry', async (t) => (await retryRun(runId, t), null))}>
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
              void act('Rescore', async (t) => {
                const { run } = await rescoreRun(runId, t, { detector: rescore.detector.trim(), threshold: Number.isFinite(value) ? value : undefined });
                return `/runs/${run.id}`;
              });
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
            <button type="button" className="danger" disabled={busy} onClick={() => act('Delete', async (t) => (await deleteRun(runId, t), '/runs'))}>
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
      </div>
      {message && (
        <p role={message.error ? 'alert' : 'status'} className={message.error ? 'field-error' : 'muted'} data-testid="run-action-message">
          {message.text}
        </p>
      )}
    </section>
  );
}
