import { ApiError } from '@/lib/graphql';

const ADVICE: Record<string, string> = {
  API_UNREACHABLE: 'This page needs it; `npm run demo` starts the whole platform. Then reload.',
  NOT_FOUND: 'Check the address: the run may have been deleted.',
  BAD_USER_INPUT: 'Change the highlighted input and try again.',
  UNAUTHENTICATED: 'Paste a valid API token (`npm run token -- --team NAME` makes one).',
  FORBIDDEN: 'The token belongs to another team than the run.',
};

/** An error in words a person can act on: what went wrong and what to do next. */
export function ErrorNotice({ error, title = 'Something went wrong' }: { error: Error; title?: string }) {
  const advice = error instanceof ApiError ? ADVICE[error.code] : undefined;
  return (
    <div className="notice error" role="alert">
      <strong>{title}</strong>
      <p>{error.message}</p>
      {advice && <p>{advice}</p>}
    </div>
  );
}

export function EmptyNotice({ children }: { children: React.ReactNode }) {
  return <div className="notice">{children}</div>;
}
