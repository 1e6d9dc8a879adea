/**
 * `npm run db:seed`: upserts the catalogue (benchmarks, metric definitions, prompt sets, models,
 * methods) into the database at DATABASE_URL; see apps/api/src/db/seed.ts. Safe to rerun.
 */
import { closePrisma, createPrisma, type PrismaClient } from '../../apps/api/src/db/client.ts';
import { databaseUrlFromEnv } from '../../apps/api/src/db/env.ts';
import { seed } from '../../apps/api/src/db/seed.ts';

let prisma: PrismaClient | undefined;
try {
  prisma = createPrisma(databaseUrlFromEnv());
  const started = performance.now();
  const summary = await seed(prisma);
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  for (const set of summary.promptSets) console.log(`prompt set ${set.benchmark}/${set.name}: ${set.prompts} prompts, ${set.written} written`);
  for (const model of summary.models) console.log(`model ${model.name}: ${model.family ?? 'family unknown'}`);
  for (const warning of summary.warnings) console.warn(`warning: ${warning}`);
  console.log(
    `seeded ${summary.benchmarks} benchmarks, ${summary.metrics} metric definitions, ${summary.promptSets.length} prompt sets, ${summary.models.length} models, ${summary.methods} methods in ${seconds} s`,
  );
} catch (err) {
  console.error(`db:seed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  if (prisma) await closePrisma(prisma);
}
