/**
 * Rate limits, in Redis so that every API process behind one address shares each budget: per
 * minute (a fixed window), mutations by the count of mutation fields, queries by their cost as
 * limits.ts measures it.
 *
 * Whose budget: a valid token's (mutations; also its team's, which all the team's tokens share) or
 * its team's (query cost), else the client address's (context.ts: the socket's, or the one the web
 * app signed). Made-up tokens open no budget of their own. Before a token is checked at all, the
 * address's count of refused tokens this minute is read: past AUTH_FAILURES it is refused outright,
 * so a flood of forged tokens costs one Redis read each, no database read, hash or write.
 *
 * Over a budget, the operation is refused before any resolver runs with RATE_LIMITED,
 * `retryAfterSeconds`, HTTP 429 and a Retry-After header.
 */
import { GraphQLError, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RequestContext } from './context.ts';
import { MAX_COST, rootFields } from './limits.ts';

export interface RateLimits {
  /** mutation fields per token (or address without one) and minute; 0 turns the limit off */
  mutationsPerMinute: number;
  /** mutation fields per team, all its tokens together, and minute; 0 turns the limit off */
  teamMutationsPerMinute: number;
  /** summed query cost per team (or address without a token) and minute; 0 turns the limit off */
  queryCostPerMinute: number;
  /** requests with a refused token per address and minute; past it, tokens from there are not even checked; 0 turns the limit off */
  authFailuresPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  mutationsPerMinute: 60,
  teamMutationsPerMinute: 120,
  // A hundred queries at the cost limit a minute, or some 1,300 run pages (1,544 each). Behind the
  // web app each browser has its own budget when the web app signs its address (WEB_PROXY_SECRET).
  queryCostPerMinute: 2_000_000,
  authFailuresPerMinute: 30,
};

const WINDOW_MS = 60_000;

/** RATE_LIMIT_* from the environment (0: no limit). */
export const rateLimitEnvSchema = z.object({
  RATE_LIMIT_MUTATIONS_PER_MINUTE: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.mutationsPerMinute),
  RATE_LIMIT_TEAM_MUTATIONS_PER_MINUTE: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.teamMutationsPerMinute),
  // Below the cost limit, a query that passes it could never run.
  RATE_LIMIT_QUERY_COST_PER_MINUTE: z.coerce
    .number()
    .int()
    .refine((n) => n === 0 || n >= MAX_COST, `must be 0 (no limit) or at least the cost limit of one query, ${MAX_COST}`)
    .default(DEFAULT_RATE_LIMITS.queryCostPerMinute),
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.authFailuresPerMinute),
});

export function rateLimitsFromEnv(env: z.output<typeof rateLimitEnvSchema>): RateLimits {
  return {
    mutationsPerMinute: env.RATE_LIMIT_MUTATIONS_PER_MINUTE,
    teamMutationsPerMinute: env.RATE_LIMIT_TEAM_MUTATIONS_PER_MINUTE,
    queryCostPerMinute: env.RATE_LIMIT_QUERY_COST_PER_MINUTE,
    authFailuresPerMinute: env.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE,
  };
}

/** Adds `amount` to the window's counter, which expires with its window; answers the new total and the milliseconds left. */
const CHARGE = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {total, redis.call('PTTL', KEYS[1])}
`;

/** How long a request waits for Redis to count it: its client waits out an outage rather than fail. */
const REDIS_TIMEOUT_MS = 500;

async function withTimeout<T>(call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis gave no answer in ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS);
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const windowKey = (what: string, who: string) => `infsplign:ratelimit:${what}:${who}:${Math.floor(Date.now() / WINDOW_MS)}`;

function rateLimited(message: string, ttlMs: number): GraphQLError {
  const retryAfterSeconds = Math.max(1, Math.ceil((ttlMs > 0 ? ttlMs : WINDOW_MS) / 1000));
  return new GraphQLError(`${message}; retry in ${retryAfterSeconds} s`, {
    extensions: { code: 'RATE_LIMITED', retryAfterSeconds, http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) } },
  });
}

/** Whose budgets a request draws on: a verified token and its team, or the client address. */
type Payer = { token: string; team: string } | { address: string };

/**
 * The payer, checking the request's token only while its address has refused tokens to spare. Reads
 * fail open (the limit is not checked while Redis is away; the token check still runs).
 */
async function payerOf(redis: Redis, limits: RateLimits, ctx: RequestContext): Promise<Payer> {
  const { address, authorization } = ctx.client;
  if (!authorization?.trim()) return { address };
  const failures = windowKey('auth-failures', address);
  if (limits.authFailuresPerMinute > 0) {
    const seen = await withTimeout(redis.multi().get(failures).pttl(failures).exec()).catch(() => null);
    const count = Number(seen?.[0]?.[1] ?? 0);
    if (count >= limits.authFailuresPerMinute)
      throw rateLimited(`${limits.authFailuresPerMinute} requests with a refused API token a minute from this address`, Number(seen?.[1]?.[1] ?? -1));
  }
  const verified = await ctx.authenticate();
  if ('team' in verified) return { token: verified.tokenId, team: verified.team.id };
  if (limits.authFailuresPerMinute > 0) await withTimeout(redis.eval(CHARGE, 1, failures, 1, WINDOW_MS)).catch(() => null);
  return { address };
}

interface Charge {
  key: string;
  amount: number;
  budget: number;
  what: string;
}

/**
 * Charges the operation to its payer's budgets; throws RATE_LIMITED when one is spent. `cost` is the
 * operation's (limits.ts), already within the query limits.
 */
export async function enforceRateLimits(
  redis: Redis,
  limits: RateLimits,
  ctx: RequestContext,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  cost: number,
): Promise<void> {
  if (operation.operation === 'subscription') return;
  const mutation = operation.operation === 'mutation';
  const budgets = mutation ? [limits.mutationsPerMinute, limits.teamMutationsPerMinute] : [limits.queryCostPerMinute];
  if (budgets.every((b) => b <= 0) && limits.authFailuresPerMinute <= 0) return;
  const payer = await payerOf(redis, limits, ctx);
  const charges: Charge[] = [];
  if (mutation) {
    const count = rootFields(document, operation).filter((field) => !field.name.value.startsWith('__')).length;
    const own = 'token' in payer ? `token:${payer.token}` : `ip:${payer.address}`;
    charges.push({
      key: windowKey('mutations', own),
      amount: count,
      budget: limits.mutationsPerMinute,
      what: `${limits.mutationsPerMinute} mutations a minute`,
    });
    if ('team' in payer)
      charges.push({
        key: windowKey('team-mutations', payer.team),
        amount: count,
        budget: limits.teamMutationsPerMinute,
        what: `${limits.teamMutationsPerMinute} mutations a minute for the team`,
      });
  } else {
    const who = 'team' in payer ? `team:${payer.team}` : `ip:${payer.address}`;
    charges.push({
      key: windowKey('query-cost', who),
      amount: cost,
      budget: limits.queryCostPerMinute,
      what: `a query cost of ${limits.queryCostPerMinute} a minute`,
    });
  }
  const due = charges.filter((c) => c.budget > 0 && c.amount > 0);
  const totals = await Promise.all(
    due.map((c) =>
      withTimeout(redis.eval(CHARGE, 1, c.key, c.amount, WINDOW_MS) as Promise<[number, number]>).catch((err: Error) => {
        // Reads must go on while Redis is away (the queues wait for it): the limit fails open.
        ctx.services.logger.warn({ err: err.message }, 'rate limit not checked');
        return null;
      }),
    ),
  );
  for (const [i, charge] of due.entries()) {
    const total = totals[i];
    if (total && total[0] > charge.budget) throw rateLimited(`rate limit of ${charge.what} reached`, total[1]);
  }
}
