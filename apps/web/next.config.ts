import { resolve } from 'node:path';
import type { NextConfig } from 'next';

const config: NextConfig = {
  // The repository root holds the one lockfile of the workspaces.
  turbopack: { root: resolve(import.meta.dirname, '../..') },
  outputFileTracingRoot: resolve(import.meta.dirname, '../..'),
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
