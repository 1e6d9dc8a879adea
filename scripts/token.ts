/**
 * `npm run token -- --team NAME [--label LABEL]`: creates the team if it does not exist yet and a
 * new API token for it, and prints the token. This is the only time it is shown: the database keeps
 * a salted hash (apps/api/src/auth/tokens.ts). There is no default token.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createToken } from '../apps/api/src/auth/tokens.ts';
import { closePrisma, createPrisma, type PrismaClient } from '../apps/api/src/db/client.ts';
import { databaseUrlFromEnv } from '../apps/api/src/db/env.ts';

const USAGE = 'usage: npm run token -- --team NAME [--label LABEL]';

const argsSchema = z.object({
  team: z.string({ error: `--team is required (${USAGE})` }).trim().min(1, '--team must not be blank').max(100, '--team is at most 100 characters'),
  label: z.string().trim().min(1, '--label must not be blank').max(200, '--label is at most 200 characters').default('cli'),
});

let prisma: PrismaClient | undefined;
try {
  const { values } = parseArgs({ options: { team: { type: 'string' }, label: { type: 'string' } } });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(parsed.error.issues[0].message);
  prisma = createPrisma(databaseUrlFromEnv());
  const team = await prisma.team.upsert({ where: { name: parsed.data.team }, create: { name: parsed.data.team }, update: {} });
  const created = await createToken(prisma, team.id, parsed.data.label);
  console.error(`API token for team '${team.name}' (label '${created.label}', prefix ${created.prefix}). It is shown only now; store it somewhere safe:`);
  console.log(created.token);
} catch (err) {
  console.error(`token: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  if (prisma) await closePrisma(prisma);
}
