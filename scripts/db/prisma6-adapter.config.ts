// Prisma 6 configuration for `prisma migrate status` against the database at DATABASE_URL:
// Prisma 6's JavaScript schema engine reaches it through @prisma/adapter-pg, so no native engine is
// needed (STACK-NOTES.md). The migrations test uses it to confirm that Prisma reads what
// `npm run db:migrate` recorded as Prisma would have; by hand:
//   node node_modules/prisma6/build/index.js migrate status --config scripts/db/prisma6-adapter.config.ts --schema <schema with a url line>
// (Prisma 6 wants `url = env("DATABASE_URL")` in the datasource; scripts/db/diff.ts adds it to a copy.)
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';

export default {
  experimental: { adapter: true },
  engine: 'js',
  migrations: { path: fileURLToPath(new URL('../../prisma/migrations', import.meta.url)) },
  adapter: async () => {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('scripts/db/prisma6-adapter.config.ts: DATABASE_URL is not set');
    return new PrismaPg({ connectionString: url });
  },
};
