import Link from 'next/link';
import { currentSession } from '@/lib/session';
import { SignOutButton } from './SignOutButton';

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
    <div className="session" data-testid="session">
      <span>
        Team <strong>{session.viewer.team.name}</strong>
      </span>{' '}
      <SignOutButton />
    </div>
  );
}
