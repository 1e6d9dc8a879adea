/**
 * API tokens: `isa_<prefix>_<secret>`. The prefix is public and finds the row; only a salted scrypt
 * hash of the whole token is stored, so a database leak gives no usable token. A token is shown
 * once, when it is created.
 */
import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { z } from 'zod';
import type { PrismaClient, Team } from '../generated/prisma/client.ts';

const PREFIX_BYTES = 6;
const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const KEY_LENGTH = 32;
/** scrypt cost: about 16 MiB and tens of milliseconds per check, paid once per token and API process (see verifiedTokens). */
const COST = { N: 16384, r: 8, p: 1 } as const;

const TOKEN_START = 'isa_';
const tokenSchema = z.string().regex(new RegExp(`^${TOKEN_START}[0-9a-f]{${PREFIX_BYTES * 2}}_[A-Za-z0-9_-]{${Math.ceil((SECRET_BYTES * 4) / 3)}}$`));

const storedHashSchema = z
  .string()
  .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'expected scrypt$N$r$p$salt$hash')
  .transform((text) => {
    const [, n, r, p, salt, hash] = text.split('$');
    return { cost: { N: Number(n), r: Number(r), p: Number(p) }, salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
  });

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keyLength, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

async function hashToken(token: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scrypt(token, salt, KEY_LENGTH, COST);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Hashed against when no row matches, so that an unknown prefix costs as long as a wrong secret. */
let decoyHash: Promise<string> | undefined;

export interface CreatedToken {
  /** The token itself: shown once, never stored. */
  token: string;
  id: string;
  prefix: string;
  label: string;
}

/** Creates a token for a team; the returned `token` is the only copy there will ever be. */
export async function createToken(prisma: PrismaClient, teamId: string, label: string): Promise<CreatedToken> {
  const prefix = randomBytes(PREFIX_BYTES).toString('hex');
  const token = `${TOKEN_START}${prefix}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
  const row = await prisma.apiToken.create({ data: { teamId, prefix, label, secretHash: await hashToken(token) } });
  return { token, id: row.id, prefix, label };
}

/**
 * Tokens whose scrypt check passed in this process: SHA-256 of the token -> the stored hash it
 * matched. A burst of mutations with one token would otherwise pay one scrypt each (tens of ms of
 * CPU, all of it at once on a small machine). The row is still read on every request, so revoking
 * or replacing a token takes effect at once; a wrong secret never enters the map.
 */
const verifiedTokens = new Map<string, string>();
const VERIFIED_MAX = 10_000;

/** How stale `lastUsedAt` may get before a request refreshes it: one write a minute per token, not one per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The team a bearer token belongs to, or null for a malformed, unknown, revoked or wrong token.
 * Accepts the token or a whole `Authorization` value (`Bearer <token>`).
 */
export async function verifyToken(prisma: PrismaClient, bearer: string): Promise<Team | null> {
  const token = bearer.replace(/^Bearer\s+/i, '').trim();
  if (!tokenSchema.safeParse(token).success) return null;
  const prefix = token.slice(TOKEN_START.length, TOKEN_START.length + PREFIX_BYTES * 2);
  const row = await prisma.apiToken.findUnique({ where: { prefix }, include: { team: true } });
  const usable = row !== null && row.revokedAt === null;
  const stored = storedHashSchema.safeParse(usable ? row.secretHash : await (decoyHash ??= hashToken(`${TOKEN_START}decoy`)));
  if (!stored.success) throw new Error(`api_tokens ${row?.id}: secret_hash is malformed (${stored.error.issues[0].message})`);
  const digest = createHash('sha256').update(token).digest('base64url');
  if (!usable || verifiedTokens.get(digest) !== row.secretHash) {
    const { cost, salt, hash } = stored.data;
    const candidate = await scrypt(token, salt, hash.length, cost);
    if (!usable || !timingSafeEqual(candidate, hash)) return null;
    if (verifiedTokens.size >= VERIFIED_MAX) verifiedTokens.clear();
    verifiedTokens.set(digest, row.secretHash);
  }

  const staleBefore = new Date(Date.now() - LAST_USED_RESOLUTION_MS);
  await prisma.apiToken.updateMany({ where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: staleBefore } }] }, data: { lastUsedAt: new Date() } });
  return row.team;
}
