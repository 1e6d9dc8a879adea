// Installs the npm dependencies when a fresh clone has none yet, so that `npm test` and
// `npm run demo` work as the first command run after cloning.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function ensureDependencies() {
  const root = resolve(import.meta.dirname, '..');
  if (existsSync(join(root, 'node_modules', '.package-lock.json'))) return;
  console.log('node_modules is missing: running npm ci ...');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('npm ci failed; see above');
    process.exit(r.status ?? 1);
  }
}
