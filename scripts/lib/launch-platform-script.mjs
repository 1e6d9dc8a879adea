// What `npm run demo` and `npm run arena` do before their TypeScript part: plain JavaScript, so that
// it can install what a fresh clone lacks before anything needs it: the Debian packages postgresql
// and redis-server (as root, or already present), the npm packages (npm ci) and the Prisma client.
// Then it runs the script in one process group with the terminal: Ctrl-C reaches the script, which
// stops what it started, and this process exits with its code. A SIGTERM sent to this process alone
// is passed on to the script, which stops what it started too; and so is one sent to npm (a time
// limit, kill), which never arrives here: npm passes it to the shell it runs this in, which dies of
// it, so the script is told to stop once the process that started this one is gone.
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ensurePrismaClient } from '../db/generate.mjs';
import { ensureDependencies } from '../ensure-deps.mjs';

export function launchPlatformScript(script) {
  const root = resolve(import.meta.dirname, '../..');
  const system = spawnSync(join(root, 'scripts/install-system-deps.sh'), ['postgresql', 'redis-server'], { stdio: 'inherit' });
  if (system.status !== 0) process.exit(system.status ?? 1);
  ensureDependencies();
  ensurePrismaClient();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, script), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphaned);
    child.kill('SIGTERM');
  }, 500);
  orphaned.unref();
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
