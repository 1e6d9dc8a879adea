/**
 * The migrations in prisma/migrations must build exactly the schema that Prisma derives from
 * prisma/schema.prisma, and `db:migrate` must apply them the way Prisma's own migrate would record
 * them. Runs against a throwaway PostgreSQL (Debian's `postgresql` package).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { prisma6, readSchema, schemaSql } from '../../../../scripts/db/diff.ts';
import { startPostgres, type PostgresServer } from '../../../../test/support/postgres.ts';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrate.ts';
import { diffCatalogs, readCatalog, type Catalog } from './catalog.ts';

const ROOT = resolve(import.meta.dirname, '../../../..');

let server: PostgresServer;
let migratedUrl: string;
let migrated: Catalog;
const scratch = mkdtempSync(join(tmpdir(), 'infsplign-migrations-test-'));
/** Prisma 6 takes seconds to start: begun now, it runs while the server starts. */
const derivedSql = schemaSql();
derivedSql.catch(() => {}); // the test that awaits it reports a failure; this only keeps it from counting as unhandled first

async function execute(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function queryRows(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

before(async () => {
  server = await startPostgres();
  migratedUrl = await server.createDatabase('from_migrations');
  await migrate(migratedUrl);
  migrated = await readCatalog(migratedUrl);
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test('prisma/migrations builds the same catalog as the SQL Prisma derives from schema.prisma', async () => {
  const derivedUrl = await server.createDatabase('from_schema');
  await execute(derivedUrl, await derivedSql);
  const drift = diffCatalogs(migrated, await readCatalog(derivedUrl), ['prisma/migrations', 'schema.prisma']);
  if (drift.length > 0) {
    assert.fail(
      `prisma/migrations and prisma/schema.prisma disagree (${drift.length} difference(s)); add a migration for the schema change (npm run db:diff prints the whole schema's SQL):\n  ${drift.join('\n  ')}`,
    );
  }
  assert.ok(migrated.relation.has('runs') && migrated.index.has('run_aggregates_metric_key_relation_value_idx'), 'the catalog reader sees tables and indexes');
});

test('the drift check notices nullability, defaults, indexes, foreign-key actions and enum values', async () => {
  const url = await server.createDatabase('mutated');
  await migrate(url);
  await execute(
    url,
    `
    ALTER TABLE runs ALTER COLUMN seed DROP NOT NULL;
    ALTER TABLE runs ALTER COLUMN images_generated SET DEFAULT 1;
    CREATE INDEX prompts_text_idx ON prompts (text);
    ALTER TABLE images DROP CONSTRAINT images_run_id_fkey;
    ALTER TABLE images ADD CONSTRAINT images_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE RESTRICT ON UPDATE CASCADE;
    ALTER TYPE run_status ADD VALUE 'PAUSED';`,
  );
  const drift = diffCatalogs(migrated, await readCatalog(url), ['expected', 'mutated']);
  assert.deepEqual(drift, [
    "enum run_status: expected has 'QUEUED', 'GENERATING', 'EVALUATING', 'FINISHED', 'FAILED', 'CANCELLED', mutated has 'QUEUED', 'GENERATING', 'EVALUATING', 'FINISHED', 'FAILED', 'CANCELLED', 'PAUSED'",
    'column runs.images_generated: expected has integer NOT NULL DEFAULT 0, mutated has integer NOT NULL DEFAULT 1',
    'column runs.seed: expected has integer NOT NULL, mutated has integer NULL',
    'index prompts_text_idx: only in mutated (CREATE INDEX prompts_text_idx ON public.prompts USING btree (text))',
    'constraint images.images_run_id_fkey: expected has FOREIGN KEY (run_id) REFERENCES runs(id) ON UPDATE CASCADE ON DELETE CASCADE, mutated has FOREIGN KEY (run_id) REFERENCES runs(id) ON UPDATE CASCADE ON DELETE RESTRICT',
  ]);
});

test('db:migrate records migrations as Prisma does and applies nothing twice', async () => {
  const rows = await queryRows(migratedUrl, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
  const files = readMigrations();
  assert.equal(rows.length, files.length);
  for (const [i, file] of files.entries()) {
    const row = rows[i];
    assert.equal(row.migration_name, file.name);
    assert.equal(
      row.checksum,
      createHash('sha256')
        .update(readFileSync(join(MIGRATIONS_DIR, file.name, 'migration.sql')))
        .digest('hex'),
    );
    assert.equal(row.applied_steps_count, 1);
    assert.equal(row.logs, null);
    assert.equal(row.rolled_back_at, null);
    assert.ok(row.finished_at instanceof Date && row.started_at instanceof Date && row.finished_at >= row.started_at);
    assert.match(String(row.id), /^[0-9a-f-]{36}$/);
  }
  const again = await migrate(migratedUrl);
  assert.deepEqual(again, { applied: [], alreadyApplied: files.map((f) => f.name), unknown: [] });
});

test("Prisma's own migrate status reads what db:migrate recorded as Prisma would", async () => {
  // Prisma 6's JavaScript engine through @prisma/adapter-pg: the one Prisma migrate command that works here.
  const config = join(ROOT, 'scripts/db/prisma6-adapter.config.ts');
  const status = (url: string) => prisma6(['migrate', 'status', '--schema', '{0}'], [readSchema()], config, url);
  const emptyUrl = await server.createDatabase('status_empty');
  const [upToDate, pending] = await Promise.all([status(migratedUrl), status(emptyUrl).catch((err: Error) => err.message)]);
  assert.match(upToDate, new RegExp(`${readMigrations().length} migrations? found in prisma/migrations[\\s\\S]*Database schema is up to date!`));
  assert.match(pending, /have not yet been applied/);
});

test('db:migrate refuses a migration whose file changed after it was applied', async () => {
  const dir = join(scratch, 'edited');
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const [first] = readMigrations(dir);
  appendFileSync(first.path, '\n-- an edit after the fact\n');
  await assert.rejects(migrate(migratedUrl, dir), (err: Error) => {
    assert.match(err.message, new RegExp(`${first.name}/migration.sql was changed after it was applied to from_migrations on 127\\.0\\.0\\.1:${server.port}`));
    assert.match(err.message, /put the change in a new migration/);
    return true;
  });
});

test('a failing migration applies nothing of itself and records nothing', async () => {
  const dir = join(scratch, 'failing');
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  mkdirSync(join(dir, '99990101000000_broken'));
  writeFileSync(join(dir, '99990101000000_broken/migration.sql'), 'CREATE TABLE half_done (x integer);\nALTER TABLE no_such_table ADD COLUMN y integer;\n');
  const url = await server.createDatabase('failing');
  await assert.rejects(
    migrate(url, dir),
    /99990101000000_broken\/migration\.sql: relation "no_such_table" does not exist; nothing of this migration was applied/,
  );
  const tables = await queryRows(url, 'SELECT to_regclass(\'half_done\') AS t, (SELECT count(*)::int FROM "_prisma_migrations") AS n');
  assert.deepEqual(tables, [{ t: null, n: readMigrations().length }]);
});

test('npm run db:migrate brings an empty database to the current schema', async () => {
  const url = await server.createDatabase('cli');
  const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'db:migrate'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url } });
  assert.match(stdout, /applied \d+_init/);
  assert.deepEqual(diffCatalogs(migrated, await readCatalog(url), ['expected', 'cli']), []);

  const missing = await promisify(execFile)('npm', ['run', '--silent', 'db:migrate'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '' } }).then(
    () => assert.fail('db:migrate without DATABASE_URL succeeded'),
    (err: { stderr: string }) => err.stderr,
  );
  assert.match(missing, /DATABASE_URL must start with postgresql:\/\//);
});
