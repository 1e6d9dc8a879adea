/**
 * `npm run db:migrate`: brings the database at DATABASE_URL up to the newest migration in
 * prisma/migrations (see apps/api/src/db/migrate.ts). Works offline; needs only PostgreSQL.
 */
import { databaseUrlFromEnv } from '../../apps/api/src/db/env.ts';
import { migrate } from '../../apps/api/src/db/migrate.ts';

try {
  const result = await migrate(databaseUrlFromEnv(), undefined, (line) => console.log(line));
  for (const name of result.unknown)
    console.warn(`warning: the database has migration ${name}, which prisma/migrations does not (is this code older than the database?)`);
  console.log(
    result.applied.length ? `${result.applied.length} migration(s) applied` : `the database is up to date (${result.alreadyApplied.length} migration(s))`,
  );
} catch (err) {
  console.error(`db:migrate: ${(err as Error).message}`);
  process.exit(1);
}
