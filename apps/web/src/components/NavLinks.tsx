'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';

const NAV = [
  { href: '/', label: 'Leaderboard' },
  { href: '/runs', label: 'Runs' },
  { href: '/compare', label: 'Compare' },
  { href: '/sweep', label: 'Sweep' },
  { href: '/submit', label: 'Submit' },
  { href: '/queue', label: 'Queue' },
];

/** The site's sections; the one the page belongs to is marked current (a run's pages are under Runs). */
export function NavLinks() {
  const path = usePathname() ?? '/';
  const current = (href: string) => (href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`));
  return (
    <ul>
      {NAV.map((item) => (
        <li key={item.href}>
          <Link href={item.href} aria-current={current(item.href) ? 'page' : undefined}>
            {item.label}
          </Link>
        </li>
      ))}
    </ul>
  );
}
