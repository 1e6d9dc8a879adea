import type { Metadata, Viewport } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { NavLinks } from '@/components/NavLinks';
import { SessionNav } from '@/components/SessionNav';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'InfSplign Arena', template: '%s · InfSplign Arena' },
  description: 'Runs, scores and ranks inference-time spatial-alignment methods for text-to-image diffusion.',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="site-header">
          <Link href="/" className="brand">
            InfSplign Arena
          </Link>
          <nav aria-label="Main">
            <NavLinks />
          </nav>
          <SessionNav />
        </header>
        <main id="main">{children}</main>
      </body>
    </html>
  );
}
