/**
 * `npm run db:diff [-- --from-rev REV] [--out FILE]`: SQL that Prisma itself derives from
 * prisma/schema.prisma, printed or written to FILE. Needs no database and no network.
 *
 * - By default: an empty database brought to the schema. This is how
 *   prisma/migrations/*_init/migration.sql was made, and what the drift test compares the
 *   migrations with.
 * - `--from-rev REV` (e.g. HEAD): the schema as git commit REV has it brought to the working
 *   tree's, i.e. the next migration after a schema change. Put it in a new folder
 *   prisma/migrations/<yyyymmddhhmmss>_<name>/migration.sql; the drift test then checks that the
 *   migrations, replayed, give exactly the schema.
 *
 * It runs Prisma 6.19 (the `prisma6` alias package): Prisma 7's migrate diff needs a native engine
 * that cannot be downloaded here, while Prisma 6's JavaScript engine runs with the driver adapter
 * of prisma6-offline.config.ts. (Diffing from the migrations themselves would need Prisma 6 to
 * introspect a database through @prisma/adapter-pg 7, which fails on PostgreSQL's "char" columns.)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const SCHEMA = join(root, 'prisma/schema.prisma');
const OFFLINE_CONFIG = join(root, 'scripts/db/prisma6-offline.config.ts');
/** Prisma 6 resolves env("DATABASE_URL") in the schema; the offline adapter never connects to it. */
const UNUSED_URL = 'postgresql://offline@localhost/offline';

/** Prisma 7 keeps the URL in prisma.config.ts; Prisma 6 insists on one in the datasource block. */
function forPrisma6(schema: string, where: string): string {
  const datasource = /datasource\s+\w+\s*\{/.exec(schema);
  if (!datasource) throw new Error(`${where}: no datasource block`);
  const end = datasource.index + datasource[0].length;
  return `${schema.slice(0, end)}\n  url = env("DATABASE_URL")${schema.slice(end)}`;
}

/**
 * Runs the Prisma 6 CLI with `config`; `schemas` are schema texts written (made Prisma 6 ready)
 * to temporary files whose paths replace the `{0}`, `{1}`, ... arguments. Resolves with stdout.
 */
export async function prisma6(args: string[], schemas: Array<{ text: string; where: string }>, config: string, databaseUrl: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'infsplign-prisma6-'));
  try {
    const paths = schemas.map((schema, i) => {
      const path = join(dir, `schema${i}.prisma`);
      writeFileSync(path, forPrisma6(schema.text, schema.where));
      return path;
    });
    const argv = args.map((arg) => (/^\{\d+\}$/.test(arg) ? paths[Number(arg.slice(1, -1))] : arg));
    const { stdout } = await run(process.execPath, [join(root, 'node_modules/prisma6/build/index.js'), ...argv, '--config', config], {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        // Any existing file stops Prisma 6 from downloading a query engine these commands do not use.
        PRISMA_QUERY_ENGINE_LIBRARY: process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
      },
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`prisma 6 ${args.slice(0, 2).join(' ')} failed: ${[err.stdout, err.stderr].filter(Boolean).join('\n').trim() || err.message}`);
    });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function readSchema(path: string = SCHEMA): { text: string; where: string } {
  return { text: readFileSync(path, 'utf8'), where: path };
}

/** The SQL that creates `schemaPath`'s schema in an empty PostgreSQL database. */
export function schemaSql(schemaPath: string = SCHEMA): Promise<string> {
  return prisma6(['migrate', 'diff', '--from-empty', '--to-schema-datamodel', '{0}', '--script'], [readSchema(schemaPath)], OFFLINE_CONFIG, UNUSED_URL);
}

/** The SQL that takes the schema as git revision `rev` has it to `schemaPath`'s. */
export async function schemaSqlSince(rev: string, schemaPath: string = SCHEMA): Promise<string> {
  const where = `${rev}:prisma/schema.prisma`;
  const { stdout: old } = await run('git', ['show', where], { cwd: root, maxBuffer: 16 * 1024 * 1024 }).catch((err: { stderr?: string }) => {
    throw new Error(`git show ${where}: ${err.stderr?.trim()}`);
  });
  return prisma6(
    ['migrate', 'diff', '--from-schema-datamodel', '{0}', '--to-schema-datamodel', '{1}', '--script'],
    [{ text: old, where }, readSchema(schemaPath)],
    OFFLINE_CONFIG,
    UNUSED_URL,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'from-rev': { type: 'string' } } });
  const sql = values['from-rev'] ? await schemaSqlSince(values['from-rev']) : await schemaSql();
  if (values.out) {
    writeFileSync(values.out, sql);
    console.error(`wrote ${values.out}`);
  } else {
    process.stdout.write(sql);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  main().catch((err: Error) => {
    console.error(`db:diff: ${err.message}`);
    process.exit(1);
  });
}
