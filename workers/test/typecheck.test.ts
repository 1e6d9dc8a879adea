/** Strict TypeScript holds for every workspace (sources, tests, benches). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '../..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

for (const workspace of ['workers', 'apps/api', 'test', 'scripts']) {
  test(`tsc --noEmit -p ${workspace} reports no errors`, () => {
    const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(root, workspace)], { encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });
}
