#!/usr/bin/env node
// `npm run db:generate`: generates the Prisma client (apps/api/src/generated/prisma, not committed)
// from prisma/schema.prisma. Idempotent and fast: it regenerates only when the schema or the
// Prisma version changed since the last run, so test and demo scripts can call
// `ensurePrismaClient()` every time (plain JavaScript, so they need no tsx to import it).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const SCHEMA = join(root, 'prisma/schema.prisma');
const OUTPUT = join(root, 'apps/api/src/generated/prisma');
const STAMP = join(OUTPUT, '.schema-sha256');

function fingerprint() {
  const prismaVersion = JSON.parse(readFileSync(join(root, 'node_modules/prisma/package.json'), 'utf8')).version;
  return createHash('sha256').update(`prisma ${prismaVersion}\n`).update(readFileSync(SCHEMA)).digest('hex');
}

/** Generates the client unless the one on disk was generated from this very schema; returns whether it generated. */
export function ensurePrismaClient({ force = false } = {}) {
  const expected = fingerprint();
  if (!force && existsSync(join(OUTPUT, 'client.ts')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === expected) return false;
  const r = spawnSync(process.execPath, [join(root, 'node_modules/prisma/build/index.js'), 'generate'], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      // generate never runs the schema engine, but Prisma 7 downloads it unless this names an
      // existing file, and the download fails offline (STACK-NOTES.md).
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
  });
  if (r.status !== 0) throw new Error(`prisma generate failed:\n${r.stdout}${r.stderr}`);
  writeFileSync(STAMP, expected);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  try {
    const generated = ensurePrismaClient({ force: process.argv.includes('--force') });
    // stderr: commands such as `npm run token` chain this and keep stdout for their own output.
    console.error(generated ? `generated the Prisma client in ${OUTPUT}` : 'the Prisma client is up to date');
  } catch (err) {
    console.error(`db:generate: ${err.message}`);
    process.exit(1);
  }
}
