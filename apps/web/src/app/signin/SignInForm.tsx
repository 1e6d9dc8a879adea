'use client';
import { useActionState, useEffect } from 'react';
import { signIn, type SignInState } from '@/lib/actions';
import { useHydrated } from '@/lib/hydrated';

export function SignInForm({ next }: { next?: string }) {
  const [state, action, pending] = useActionState<SignInState, FormData>(signIn, {});
  const hydrated = useHydrated();
  // A full page load: the header, rendered with the page's layout, names the team from the new cookie.
  useEffect(() => {
    if (state.next) window.location.assign(state.next);
  }, [state.next]);
  return (
    <form action={action} aria-label="Sign in" className="signin">
      {next && <input type="hidden" name="next" value={next} />}
      <div className="field">
        <label htmlFor="signin-token">API token</label>
        <input
          id="signin-token"
          name="token"
          type="password"
          autoComplete="off"
          size={48}
          required
          aria-invalid={Boolean(state.error)}
          aria-describedby={state.error ? 'signin-error' : undefined}
        />
        {state.error && (
          <span className="field-error" id="signin-error" role="alert">
            {state.error}
          </span>
        )}
      </div>
      {/* Until hydrated a submission would not lead on from here (the effect above). */}
      <button type="submit" disabled={pending || !hydrated}>
        {pending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
