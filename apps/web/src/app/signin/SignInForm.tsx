'use client';
import { useActionState } from 'react';
import { signIn, type SignInState } from '@/lib/actions';

export function SignInForm({ next }: { next?: string }) {
  const [state, action, pending] = useActionState<SignInState, FormData>(signIn, {});
  return (
    <form action={action} aria-label="Sign in" className="signin">
      {next && <input type="hidden" name="next" value={next} />}
      <div className="field">
        <label htmlFor="signin-token">API token</label>
        <input id="signin-token" name="token" type="password" autoComplete="off" size={48} required aria-invalid={Boolean(state.error)} aria-describedby={state.error ? 'signin-error' : undefined} />
        {state.error && (
          <span className="field-error" id="signin-error" role="alert">
            {state.error}
          </span>
        )}
      </div>
      <button type="submit" disabled={pending}>
        {pending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
