/**
 * API tokens: `isa_<prefix>_<secret>`, the secret 256 random bits. The prefix is public and finds
 * the row; only the SHA-256 of the whole token is stored, so a database leak gives no usable token.
 * A slow, salted hash (the scrypt this replaced) adds nothing for a secret that cannot be guessed,
 * and made every forged token cost tens of milliseconds of CPU. A token is shown once, when it is
 * created; it may expire, and it may be revoked.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ApiToken, PrismaClient, Team } from '../generated/prisma/client.ts';

const PREFIX_BYTES = 6;
const SECRET_BYTES = 32;
const TOKEN_START = 'isa_';
const HASH_START = 'sha256$';

const tokenSchema = z.string().regex(new RegExp(`^${TOKEN_START}[0-9a-f]{${PREFIX_BYTES * 2}}_[A-Za-z0-9_-]{${Math.ceil((SECRET_BYTES * 4) / 3)}}$`));

/** The most tokens a team may hold that are neither revoked nor expired. */
export const MAX_LIVE_TOKENS_PER_TEAM = 50;
/** Expiry of a new token unless its maker says otherwise, and the longest allowed. */
export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 3650;

export const tokenDaysSchema = z.number().int().min(1, 'a token lives at least 1 day').max(MAX_TOKEN_DAYS, `a token lives at most ${MAX_TOKEN_DAYS} days`);
export const tokenLabelSchema = z.string().trim().min(1, 'a token needs a name').max(100);

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export interface CreatedToken {
  /** The token itself: shown once, never stored. */
  token: string;
  id: string;
  prefix: string;
  label: string;
  expiresAt: Date | null;
}

/** Too many live tokens for the team: revoke some first. */
export class TokenLimitError extends Error {}

/**
 * Creates a token for a team, expiring after `days` (null: never); the returned `token` is the only
 * copy there will ever be. Refused with TokenLimitError when the team already has
 * MAX_LIVE_TOKENS_PER_TEAM live ones.
 */
export async function createToken(prisma: PrismaClient, teamId: string, label: string, days: number | null = DEFAULT_TOKEN_DAYS): Promise<CreatedToken> {
  const prefix = randomBytes(PREFIX_BYTES).toString('hex');
  const token = `${TOKEN_START}${prefix}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
  const expiresAt = days === null ? null : new Date(Date.now() + days * 86_400_000);
  const row = await prisma.$transaction(async (tx) => {
    // Serialises a team's token creations, so that two at once cannot both pass the count.
    await tx.$queryRaw`SELECT id FROM teams WHERE id = ${teamId}::uuid FOR UPDATE`;
    const live = await tx.apiToken.count({ where: { teamId, ...LIVE(new Date()) } });
    if (live >= MAX_LIVE_TOKENS_PER_TEAM)
      throw new TokenLimitError(
        `the team already has ${live} live tokens, the most it may have; revoke some first (revokeApiToken, or npm run token -- revoke)`,
      );
    return tx.apiToken.create({ data: { teamId, prefix, label, expiresAt, secretHash: `${HASH_START}${digest(token).toString('hex')}` } });
  });
  return { token, id: row.id, prefix, label, expiresAt };
}

/** Neither revoked nor expired at `now`. */
const LIVE = (now: Date) => ({ revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] });

/** A team's tokens, newest first (what listing shows; never a secret or hash). */
export function listTokens(prisma: PrismaClient, teamId: string): Promise<ApiToken[]> {
  return prisma.apiToken.findMany({ where: { teamId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
}

/** Revokes the token with this id or prefix if it is the team's; null when the team has none such. Revoking twice keeps the first time. */
export async function revokeToken(prisma: PrismaClient, teamId: string, idOrPrefix: { id: string } | { prefix: string }): Promise<ApiToken | null> {
  const row = await prisma.apiToken.findFirst({ where: { teamId, ...idOrPrefix } });
  if (!row) return null;
  if (row.revokedAt) return row;
  return prisma.apiToken.update({ where: { id: row.id }, data: { revokedAt: new Date() } });
}

/** Why a token got no team, in words for the client (none says which tokens exist). */
export type TokenRefusal = 'malformed' | 'refused' | 'scrypt';

export type Verified = { team: Team; tokenId: string } | { refusal: TokenRefusal };

/** How stale `lastUsedAt` may get before a request refreshes it: one write a minute per token, not one per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The team a bearer token belongs to, or why it has none: malformed, or unknown, wrong, revoked or
 * expired (one answer for all of those), or made under the earlier scrypt scheme and revoked with it.
 * Accepts the token or a whole `Authorization` value (`Bearer <token>`). Costs one indexed read and a
 * SHA-256; only a valid token leads to a write (lastUsedAt, at most once a minute).
 */
export async function verifyToken(prisma: PrismaClient, bearer: string, now = new Date()): Promise<Verified> {
  const token = bearer.replace(/^Bearer\s+/i, '').trim();
  if (!tokenSchema.safeParse(token).success) return { refusal: 'malformed' };
  const prefix = token.slice(TOKEN_START.length, TOKEN_START.length + PREFIX_BYTES * 2);
  const row = await prisma.apiToken.findUnique({ where: { prefix }, include: { team: true } });
  if (!row) return { refusal: 'refused' };
  if (!row.secretHash.startsWith(HASH_START)) return { refusal: row.secretHash.startsWith('scrypt$') ? 'scrypt' : 'refused' };
  const stored = Buffer.from(row.secretHash.slice(HASH_START.length), 'hex');
  const presented = digest(token);
  // Both are 32 bytes unless the row is damaged; timingSafeEqual needs equal lengths.
  const matches = stored.length === presented.length && timingSafeEqual(stored, presented);
  if (!matches || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= now)) return { refusal: 'refused' };
  const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  if (row.lastUsedAt === null || row.lastUsedAt < staleBefore)
    await prisma.apiToken.updateMany({ where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: staleBefore } }] }, data: { lastUsedAt: now } });
  return { team: row.team, tokenId: row.id };
}
