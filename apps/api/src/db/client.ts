/**
 * The Prisma client of the API, on the `pg` driver through @prisma/adapter-pg (Prisma 7 needs no
 * native engine that way). The client is generated from prisma/schema.prisma by `npm run
 * db:generate` into src/generated/prisma (not committed).
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export type { PrismaClient } from '../generated/prisma/client.ts';

export interface PrismaOptions {
  /** Most connections the pool opens (pg's default is 10). */
  maxConnections?: number;
}

export function createPrisma(databaseUrl: string, options: PrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.maxConnections });
  return new PrismaClient({ adapter });
}

/** Closes the client and its connection pool, so that a process can exit. */
export async function closePrisma(prisma: PrismaClient): Promise<void> {
  await prisma.$disconnect();
}
