/**
 * The project's own migrator: applies `prisma/migrations/<name>/migration.sql` folders in name
 * order and records them in Prisma's `_prisma_migrations` table, exactly as `prisma migrate
 * deploy` does, so that Prisma's tools see the same state where they work. It exists because
 * Prisma's migrate commands need a native schema engine that cannot be downloaded on these
 * machines (STACK-NOTES.md); this needs only the `pg` client.
 *
 * Each migration runs in one transaction together with its bookkeeping row, so a failure leaves
 * nothing half-applied and rerunning retries it. A migration whose file changed after it was
 * applied is refused: the database would no longer match what the folder says.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { z } from 'zod';

/** The repository's migrations folder. */
export const MIGRATIONS_DIR = resolve(import.meta.dirname, '../../../../prisma/migrations');

/** Prisma's own lock key, so that this and `prisma migrate` never run at once on one database. */
const PRISMA_ADVISORY_LOCK = 72707369;

/** The table as Prisma's schema engine creates it. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {}

export interface MigrationFile {
  name: string;
  path: string;
  sql: string;
  /** SHA-256 (hex) of the file's bytes, as Prisma computes it. */
  checksum: string;
}

const lockFileSchema = z.object({ provider: z.literal('postgresql') });

/** Reads the migration folders in the order they apply; checks migration_lock.toml names PostgreSQL. */
export function readMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  if (!existsSync(dir)) throw new MigrationError(`${dir}: no migrations folder`);
  const lockFile = join(dir, 'migration_lock.toml');
  if (!existsSync(lockFile)) throw new MigrationError(`${lockFile}: missing (it names the database provider the migrations are written for)`);
  // The file is one `key = "value"` line plus comments; a TOML parser would be a dependency for that.
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(readFileSync(lockFile, 'utf8'))?.[1];
  const lock = lockFileSchema.safeParse({ provider });
  if (!lock.success) throw new MigrationError(`${lockFile}: provider is ${provider === undefined ? 'missing' : `'${provider}'`}, expected 'postgresql'`);

  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const path = join(dir, name, 'migration.sql');
      if (!existsSync(path)) throw new MigrationError(`${join(dir, name)}: a migration folder without migration.sql`);
      const bytes = readFileSync(path);
      return { name, path, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    });
}

const appliedRowSchema = z.object({
  migration_name: z.string(),
  checksum: z.string(),
  finished_at: z.date().nullable(),
  rolled_back_at: z.date().nullable(),
  started_at: z.date(),
});

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
  /** Migrations the database has but the folder does not (the database is newer than this code). */
  unknown: string[];
}

/** The database's name and host for messages, without credentials. */
function describeDatabase(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.pathname.replace(/^\//, '') || '(default database)'} on ${url.host || 'the local socket'}`;
  } catch {
    throw new MigrationError('DATABASE_URL is not a URL (expected postgresql://user:password@host:port/database)');
  }
}

/** Brings the database at `databaseUrl` up to the newest migration in `dir`. */
export async function migrate(databaseUrl: string, dir: string = MIGRATIONS_DIR, log: (line: string) => void = () => {}): Promise<MigrateResult> {
  const where = describeDatabase(databaseUrl);
  const migrations = readMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
  } catch (err) {
    throw new MigrationError(`cannot connect to ${where}: ${(err as Error).message}`);
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const rows = (await client.query('SELECT migration_name, checksum, finished_at, rolled_back_at, started_at FROM "_prisma_migrations" ORDER BY started_at'))
      .rows;
    const applied = new Map<string, z.infer<typeof appliedRowSchema>>();
    for (const [index, raw] of rows.entries()) {
      const row = appliedRowSchema.parse(raw, { error: () => `_prisma_migrations row ${index} has an unexpected shape` });
      if (row.rolled_back_at !== null) continue;
      if (row.finished_at === null) {
        throw new MigrationError(
          `${where}: migration ${row.migration_name} started at ${row.started_at.toISOString()} and never finished; ` +
            'repair the database by hand, then mark the migration rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = ...) or applied',
        );
      }
      applied.set(row.migration_name, row);
    }

    const result: MigrateResult = { applied: [], alreadyApplied: [], unknown: [] };
    const known = new Set(migrations.map((m) => m.name));
    result.unknown = [...applied.keys()].filter((name) => !known.has(name));

    for (const migration of migrations) {
      const done = applied.get(migration.name);
      if (done) {
        if (done.checksum !== migration.checksum) {
          throw new MigrationError(
            `${migration.path} was changed after it was applied to ${where} (checksum ${migration.checksum}, applied ${done.checksum}); ` +
              'restore the file and put the change in a new migration',
          );
        }
        result.alreadyApplied.push(migration.name);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(
          'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES ($1, $2, $3, now(), clock_timestamp(), 1)',
          [randomUUID(), migration.checksum, migration.name],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        const e = err as pg.DatabaseError;
        const at = e.position ? ` (at ${lineAndColumn(migration.sql, Number(e.position))})` : '';
        throw new MigrationError(`${migration.path}${at}: ${e.message}; nothing of this migration was applied`);
      }
      log(`applied ${migration.name}`);
      result.applied.push(migration.name);
    }
    return result;
  } finally {
    await client.end();
  }
}

/** `line 12, column 5` for a 1-based character offset, as PostgreSQL reports error positions. */
function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position - 1).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}
