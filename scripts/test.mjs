#!/usr/bin/env node
// One runner for the whole repository: installs what the suites need when missing (Debian
// packages, npm packages, the Prisma client), finds every *.test.ts (or only those under the paths
// given as arguments), runs them with node's test runner through tsx, and ends with one summary line
// `N passed, N failed, N skipped` printed by scripts/test-reporter.mjs.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ensurePrismaClient } from './db/generate.mjs';
import { ensureDependencies } from './ensure-deps.mjs';

const root = resolve(import.meta.dirname, '..');
const SEARCH_ROOTS = ['workers/test', 'apps', 'test'];
const SKIP_DIRS = new Set(['node_modules', '.next', 'dist']);

function collect(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collect(path, out);
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const requested = process.argv.slice(2);
const roots = (requested.length ? requested : SEARCH_ROOTS).map((p) => resolve(root, p));
const files = [];
for (const r of roots) {
  if (!existsSync(r)) {
    if (requested.length) {
      console.error(`test: no such path: ${relative(root, r)}`);
      process.exit(2);
    }
    continue;
  }
  if (statSync(r).isDirectory()) collect(r, files);
  else files.push(r);
}
files.sort();
// The suites start real PostgreSQL, Redis and Chromium: Debian's packages, installed when missing (as root).
const system = spawnSync(join(root, 'scripts/install-system-deps.sh'), [], { stdio: 'inherit' });
if (system.status !== 0) process.exit(system.status ?? 1);
ensureDependencies();
ensurePrismaClient();
if (files.length === 0) {
  console.error('test: no test files found');
  process.exit(2);
}

const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter',
    join(root, 'scripts/test-reporter.mjs'),
    '--test-reporter-destination',
    'stdout',
    '--test-concurrency',
    process.env.TEST_CONCURRENCY ?? '2',
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
