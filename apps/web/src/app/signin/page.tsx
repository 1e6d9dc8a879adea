import type { Metadata } from 'next';
import { currentSession } from '@/lib/session';
import { param, type SearchParams } from '@/lib/search-params';
import { SignInForm } from './SignInForm';

export const metadata: Metadata = { title: 'Sign in' };

export default async function SignInPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const session = await currentSession();
  return (
    <>
      <h1>Sign in</h1>
      {param(params, 'signedOut') && !session.viewer && (
        <p className="notice" role="status">
          Signed out: this browser no longer keeps a token.
        </p>
      )}
      {session.viewer ? (
        <p role="status" data-testid="signed-in-as">
          Signed in as team <strong>{session.viewer.team.name}</strong> with token {session.viewer.token.name} ({session.viewer.token.prefix}).
        </p>
      ) : (
        session.problem && <p className="notice warn">{session.problem}</p>
      )}
      <p className="muted">
        Submitting, cancelling, retrying, rescoring and deleting act for the team of an API token (<code>npm run token -- --team NAME</code> makes one). Enter
        it once here: this app&apos;s server keeps it in a cookie that scripts in the page cannot read and other sites cannot send, and adds it to the actions
        you take.
      </p>
      <SignInForm next={param(params, 'next')} />
    </>
  );
}
