'use client';

/** The last resort when a page throws: say so, and offer to try again. */
export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="notice error" role="alert">
      <strong>This page failed to render.</strong>
      <p>{error.digest ? `The web server's log has the details (digest ${error.digest}).` : error.message}</p>
      <button type="button" onClick={reset}>
        Try again
      </button>
    </div>
  );
}
