import Link from 'next/link';

export default function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. Start from the <Link href="/">leaderboard</Link> or the <Link href="/runs">list of runs</Link>.
      </p>
    </>
  );
}
