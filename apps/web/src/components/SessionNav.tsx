import Link from 'next/link';
import { signOut } from '@/lib/actions';
import { currentSession } from '@/lib/session';

/** The signed-in team and a way out, or a way in. */
export async function SessionNav() {
  const session = await currentSession();
  if (!session.viewer) {
    return (
      <Link href="/signin" className="session" data-testid="session">
        Sign in
      </Link>
    );
  }
  return (
    <form action={signOut} className="session" data-testid="session">
      <span>
        Team <strong>{session.viewer.team.name}</strong>
      </span>{' '}
      <button type="submit" className="link">
        Sign out
      </button>
    </form>
  );
}
