/**
 * The repository's own style, checked with the suite so that CI enforces it: typescript-eslint's
 * recommended rules (eslint.config.mjs) and prettier's formatting (.prettierrc.json). `npm run
 * format` rewrites what prettier would change; `npm run lint` is this test's two commands.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

function run(bin: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', bin), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

test('eslint (typescript-eslint, recommended) reports nothing', () => {
  const { status, output } = run('eslint/bin/eslint.js', ['--max-warnings', '0', '.']);
  assert.equal(status, 0, output.slice(-4000));
});

test('every source file is formatted as prettier formats it', () => {
  const { status, output } = run('prettier/bin/prettier.cjs', ['--list-different', '.']);
  assert.equal(status, 0, `run npm run format; prettier would change:\n${output.slice(-4000)}`);
});
