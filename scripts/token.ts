/**
 * `npm run token -- [create] --team NAME [--label LABEL] [--expires-in-days N | --no-expiry]`:
 * creates the team if it does not exist yet and a new API token for it (expiring after 90 days
 * unless told otherwise), and prints the token. This is the only time it is shown: the database
 * keeps its SHA-256 (apps/api/src/auth/tokens.ts). There is no default token.
 * `npm run token -- list --team NAME`: the team's tokens (prefix, label, dates, state), never a secret.
 * `npm run token -- revoke --team NAME --prefix PREFIX`: revokes one; it is refused from then on.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createToken, DEFAULT_TOKEN_DAYS, listTokens, revokeToken, tokenDaysSchema } from '../apps/api/src/auth/tokens.ts';
import { closePrisma, createPrisma, type PrismaClient } from '../apps/api/src/db/client.ts';
import { databaseUrlFromEnv } from '../apps/api/src/db/env.ts';

const USAGE = `usage: npm run token -- [create] --team NAME [--label LABEL] [--expires-in-days N | --no-expiry]
       npm run token -- list --team NAME
       npm run token -- revoke --team NAME --prefix PREFIX`;

const team = z
  .string({ error: `--team is required (${USAGE})` })
  .trim()
  .min(1, '--team must not be blank')
  .max(100, '--team is at most 100 characters');
const argsSchema = z.discriminatedUnion('command', [
  z.strictObject({
    command: z.literal('create'),
    team,
    label: z.string().trim().min(1, '--label must not be blank').max(200, '--label is at most 200 characters').default('cli'),
    'expires-in-days': z.coerce.number({ error: '--expires-in-days must be a number of days' }).pipe(tokenDaysSchema).optional(),
    'no-expiry': z.boolean().optional(),
  }),
  z.strictObject({ command: z.literal('list'), team }),
  z.strictObject({
    command: z.literal('revoke'),
    team,
    prefix: z.string({ error: `--prefix is required (${USAGE})` }).regex(/^[0-9a-f]{12}$/, '--prefix is the 12 hex digits after isa_'),
  }),
]);

const day = (date: Date | null) => (date ? date.toISOString().replace(/\.\d+Z$/, 'Z') : '-');

let prisma: PrismaClient | undefined;
try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      team: { type: 'string' },
      label: { type: 'string' },
      'expires-in-days': { type: 'string' },
      'no-expiry': { type: 'boolean' },
      prefix: { type: 'string' },
    },
  });
  if (positionals.length > 1) throw new Error(`one command at most (${USAGE})`);
  const command = positionals[0] ?? 'create';
  const parsed = argsSchema.safeParse({ command, ...values });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(issue.code === 'invalid_union' || issue.code === 'unrecognized_keys' ? `${issue.message} (${USAGE})` : issue.message);
  }
  const args = parsed.data;
  prisma = createPrisma(databaseUrlFromEnv());
  if (args.command === 'create') {
    if (args['expires-in-days'] !== undefined && args['no-expiry']) throw new Error('--expires-in-days and --no-expiry: give one of them');
    const row = await prisma.team.upsert({ where: { name: args.team }, create: { name: args.team }, update: {} });
    const days = args['no-expiry'] ? null : (args['expires-in-days'] ?? DEFAULT_TOKEN_DAYS);
    const created = await createToken(prisma, row.id, args.label, days);
    const expiry = created.expiresAt ? `expires ${day(created.expiresAt)}` : 'never expires';
    console.error(
      `API token for team '${row.name}' (label '${created.label}', prefix ${created.prefix}, ${expiry}). It is shown only now; store it somewhere safe:`,
    );
    console.log(created.token);
  } else {
    const row = await prisma.team.findUnique({ where: { name: args.team } });
    if (!row) throw new Error(`no team '${args.team}'`);
    if (args.command === 'list') {
      const now = new Date();
      console.log(['prefix', 'label', 'created', 'last used', 'expires', 'state'].join('\t'));
      for (const t of await listTokens(prisma, row.id)) {
        const state = t.revokedAt ? `revoked ${day(t.revokedAt)}` : t.expiresAt && t.expiresAt <= now ? 'expired' : 'live';
        console.log([t.prefix, t.label, day(t.createdAt), day(t.lastUsedAt), day(t.expiresAt), state].join('\t'));
      }
    } else {
      const revoked = await revokeToken(prisma, row.id, { prefix: args.prefix });
      if (!revoked) throw new Error(`team '${row.name}' has no token with prefix ${args.prefix}`);
      console.error(`revoked token ${revoked.prefix} ('${revoked.label}') of team '${row.name}'`);
    }
  }
} catch (err) {
  console.error(`token: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  if (prisma) await closePrisma(prisma);
}
