#!/usr/bin/env node
// npm run demo — the whole platform on this machine (see scripts/demo/platform.ts). Plain
// JavaScript, so that it can install what a fresh clone lacks before anything needs it: the Debian
// packages (postgresql, redis-server, chromium; as root, or already present), the npm packages
// (npm ci) and the Prisma client. Then it hands over to the TypeScript part.
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ensurePrismaClient } from './db/generate.mjs';
import { ensureDependencies } from './ensure-deps.mjs';

const root = resolve(import.meta.dirname, '..');
const system = spawnSync(join(root, 'scripts/install-system-deps.sh'), ['postgresql', 'redis-server'], { stdio: 'inherit' });
if (system.status !== 0) process.exit(system.status ?? 1);
ensureDependencies();
ensurePrismaClient();

// One process group with the terminal: Ctrl-C reaches the platform script, which stops what it started.
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/demo/platform.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
