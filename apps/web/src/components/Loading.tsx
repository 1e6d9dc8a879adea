/**
 * What a page shows while it waits for the API. Only pages without ids in their path have one (a
 * loading boundary starts the response before the page has run, so a page under one could no longer
 * answer 404 for an unknown id).
 */
export function Loading() {
  return (
    <p className="muted" role="status">
      Loading from the API…
    </p>
  );
}
