// Prisma 7 CLI configuration (`prisma generate`, and `prisma migrate status` where its native
// engine can be installed). The URL is only needed by commands that connect; `generate` does not.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL },
});
