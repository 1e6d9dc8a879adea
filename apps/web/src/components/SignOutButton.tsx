'use client';
import { signOut } from '@/lib/actions';
import { useHydrated } from '@/lib/hydrated';

/** Clears the session cookie (a Server Action), then loads the sign-in page afresh, header included. */
export function SignOutButton() {
  const hydrated = useHydrated();
  return (
    <button
      type="button"
      className="link"
      disabled={!hydrated}
      onClick={async () => {
        await signOut();
        window.location.assign('/signin?signedOut=1');
      }}
    >
      Sign out
    </button>
  );
}
