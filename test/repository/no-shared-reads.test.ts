/**
 * The repository stands alone: no code in it names a path into `shared/`, the material beside the
 * repository (`../shared`, `/work/shared`) that a fresh clone does not have. Only scripts that
 * regenerate committed fixtures from it may, and they declare it in their first lines:
 *
 *     // Fixture regeneration: reads ../shared/clip/... (any comment marker)
 *
 * "Code" is every file with a source, script or configuration extension, every extension-less file
 * starting with `#!`, and `.npmrc`; prose (Markdown, SOURCE) may say where fixtures came from. This
 * file is the one exception: it spells such paths out to test its own detector.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

const ROOT = join(import.meta.dirname, '../..');
const THIS_FILE = relative(ROOT, import.meta.filename);

/** Folders that hold no project source: installed packages, build output, caches, local state. */
const SKIPPED_ANYWHERE = new Set(['node_modules', '.next', '.git']);
const SKIPPED_PATHS = new Set(['.cache', '.demo', '.artifacts', '.gl', '.whl', 'tmp', 'test-results', 'apps/api/src/generated']);
const CODE_EXTENSIONS = new Set([
  '.ts',
  '.tsx',
  '.mts',
  '.cts',
  '.js',
  '.mjs',
  '.cjs',
  '.json',
  '.jsonl',
  '.sh',
  '.py',
  '.yml',
  '.yaml',
  '.toml',
  '.graphql',
  '.prisma',
  '.sql',
]);

/**
 * A path into shared/: `../shared` (also at the end of `../../../shared` or with a backslash),
 * `/work/shared`, or the segments `'..', 'shared'` as path.join arguments.
 */
const SHARED_PATH = [/\.\.[\\/]+shared(?![\w-])/, /\/work\/shared(?![\w-])/, /['"`]\.\.['"`]\s*,\s*['"`]shared['"`]/];

/** The first line naming a path into shared/, with its 1-based number, or null. */
export function firstSharedPath(text: string): { line: number; text: string } | null {
  const lines = text.split('\n');
  const index = lines.findIndex((line) => SHARED_PATH.some((pattern) => pattern.test(line)));
  return index === -1 ? null : { line: index + 1, text: lines[index].trim() };
}

/** A fixture-regeneration script: one of its first three lines is a comment saying so and naming what of shared/ it reads. */
export function declaresFixtureRegeneration(text: string): boolean {
  return text
    .split('\n')
    .slice(0, 3)
    .some((line) => /^\s*(\/\/|#|\/\*|\*)\s*Fixture regeneration:/.test(line) && SHARED_PATH.some((pattern) => pattern.test(line)));
}

function isCode(path: string, text: string): boolean {
  const name = path.split('/').pop()!;
  if (name === '.npmrc') return true;
  const extension = extname(name);
  return extension === '' ? text.startsWith('#!') : CODE_EXTENSIONS.has(extension);
}

function codeFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (SKIPPED_ANYWHERE.has(entry.name) || SKIPPED_PATHS.has(relative(ROOT, path))) continue;
    if (entry.isDirectory()) codeFiles(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

describe('no code reads ../shared', () => {
  test('the detector finds path literals into shared/ and nothing else', () => {
    const found = [
      "join(root, '../shared/benchmarks')",
      "resolve(import.meta.dirname, '../../../../shared/benchmarks')",
      'cat /work/shared/clip/SOURCE',
      "join(ROOT, '..', 'shared', 'fixtures')",
      'dir = "..\\\\shared\\\\x"',
      'ln -s ../shared',
    ];
    for (const line of found) assert.notEqual(firstSharedPath(`first\n${line}\n`), null, line);
    assert.deepEqual(firstSharedPath(`ok\n${found[0]}`), { line: 2, text: found[0] });
    const notFound = [
      'both see the same load on a shared machine',
      "import { shared } from './shared/index.ts'",
      "join(root, 'shared-cache')",
      '../sharedfolder',
      '/work/shared-notes',
    ];
    for (const line of notFound) assert.equal(firstSharedPath(line), null, line);
  });

  test('only a comment in the first three lines declares a fixture-regeneration script', () => {
    assert.equal(declaresFixtureRegeneration('// Fixture regeneration: reads ../shared/clip/x.gz\ncode'), true);
    assert.equal(declaresFixtureRegeneration('#!/usr/bin/env bash\n# Fixture regeneration: runs ../shared/fixtures/make.py\n'), true);
    assert.equal(declaresFixtureRegeneration('a\nb\nc\n// Fixture regeneration: reads ../shared/x'), false);
    assert.equal(declaresFixtureRegeneration("const s = 'Fixture regeneration: ../shared/x';"), false);
    assert.equal(declaresFixtureRegeneration('// Fixture regeneration: writes models/x'), false);
  });

  test('no file of the repository names a path into shared/, except declared fixture-regeneration scripts', () => {
    const violations: string[] = [];
    let scanned = 0;
    for (const path of codeFiles(ROOT)) {
      const text = readFileSync(path, 'utf8');
      if (!isCode(path, text) || relative(ROOT, path) === THIS_FILE) continue;
      scanned++;
      const hit = firstSharedPath(text);
      if (hit && !declaresFixtureRegeneration(text)) violations.push(`${relative(ROOT, path)}:${hit.line}: ${hit.text}`);
    }
    assert.ok(scanned > 300, `only ${scanned} code files found under ${ROOT}`);
    assert.deepEqual(violations, [], 'these read the material beside the repository, which a fresh clone does not have');
  });
});
